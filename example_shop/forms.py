"""The shop's forms (Flask-WTF: every form carries a CSRF token)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import DecimalField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from .extensions import db
from .models import REGIONS, Coupon
from .pricing import DELIVERY

__all__ = ["ButtonForm", "CheckoutForm", "QuantityForm", "TopUpForm"]

EMAIL = Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="Похоже, в адресе почты опечатка")
PHONE = Regexp(r"^\+?[0-9 ()\-]{10,18}$", message="Телефон в формате +7 900 123-45-67")


class ButtonForm(FlaskForm):
    """A form with nothing but its CSRF token: «Оплатить», «Удалить»."""


class QuantityForm(FlaskForm):
    quantity = DecimalField("Количество", places=3, validators=[
        InputRequired("Укажите количество"), NumberRange(min=Decimal(0), max=Decimal(100), message="От 0 до 100")])


class CheckoutForm(FlaskForm):
    customer_id = SelectField("Покупатель", coerce=int, default=0)
    name = StringField("Имя", validators=[Optional(), Length(max=128)])
    email = StringField("Электронная почта", validators=[Optional(), EMAIL])
    phone = StringField("Телефон", validators=[Optional(), PHONE])
    region = SelectField("Город", choices=dict(REGIONS))
    delivery = RadioField("Доставка", choices={d.code: d.label for d in DELIVERY.values()}, default="pickup")
    address = StringField("Адрес доставки", validators=[Optional(), Length(max=256)])
    coupon = StringField("Купон", validators=[Optional(), Length(max=32)])

    found_coupon: Coupon | None = None

    def validate(self, extra_validators: Any = None) -> bool:
        """Field rules, then the ones that depend on other fields or on the database."""
        valid = super().validate(extra_validators)
        missing = []
        code = (self.coupon.data or "").strip().upper()
        if code:
            self.found_coupon = db.session.scalar(db.select(Coupon).filter_by(code=code, is_active=True))
            if self.found_coupon is None:
                missing.append((self.coupon, "Такого купона нет"))
        if self.customer_id.data == 0 and not (self.name.data or "").strip():
            missing.append((self.name, "Как к вам обращаться?"))
        if self.customer_id.data == 0 and not (self.email.data or self.phone.data):
            missing.append((self.email, "Укажите почту или телефон: туда придет чек"))
        if self.delivery.data == "courier" and not (self.address.data or "").strip():
            missing.append((self.address, "Куда привезти заказ?"))
        for field, message in missing:
            field.errors = [*field.errors, message]
        return valid and not missing


class TopUpForm(FlaskForm):
    amount = DecimalField("Сумма, ₽", places=2, validators=[
        InputRequired("Укажите сумму"),
        NumberRange(min=Decimal(100), max=Decimal(50000), message="От 100 до 50 000 ₽")])
