"""The shop's back office (flask-admin): products, customers, coupons, orders, top-ups.

``KomtetKassa.init_app`` adds its own screens (cash registers, receipts) to the
same ``Admin``. Orders show their receipt state and have the two counter
actions: «Оплата наличными на кассе» and «Оформить возврат».

Who may enter: with ``SHOP_ADMIN_PASSWORD`` set, whoever gives it (HTTP basic
auth, any user name); without it, only requests from this machine (loopback),
which is how the offline demo runs. The same rule guards the extension's
screens (``admin_access=admin_allowed``).
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Flask, Response, current_app, flash, g, request
from flask_admin import Admin, AdminIndexView, expose
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.filters import FilterEqual
from flask_admin.form import SecureForm
from flask_admin.theme import Bootstrap4Theme
from markupsafe import Markup
from sqlalchemy.orm import selectinload
from wtforms import SelectField

from flask_komtet import signals
from flask_komtet.enums import Measure, PaymentObject, ReceiptState, VatRate

from .extensions import db, kassa
from .formatting import moment, rub
from .models import (
    PAYMENT_TYPES,
    REGIONS,
    BalanceTopUp,
    Coupon,
    Customer,
    Order,
    OrderStatus,
    Product,
)
from .receipts import latest_sale, receipts_by_ref

__all__ = ["admin_allowed", "build_admin"]

LOOPBACK = ("127.0.0.1", "::1")


def admin_allowed() -> bool:
    """Who may open the back office (also passed to flask_komtet as ``admin_access``)."""
    password = current_app.config.get("SHOP_ADMIN_PASSWORD")
    if not password:
        return request.remote_addr in LOOPBACK
    auth = request.authorization
    return auth is not None and hmac.compare_digest((auth.password or "").encode(), password.encode())


def _ask_for_password() -> Response:
    return Response("Нужен пароль администратора", 401, {"WWW-Authenticate": 'Basic realm="admin"'})


class Protected:
    def is_accessible(self) -> bool:
        return admin_allowed()

    def inaccessible_callback(self, name: str, **kwargs: Any) -> Response:
        return _ask_for_password()


class IndexView(Protected, AdminIndexView):
    @expose("/")
    def index(self) -> str:
        Receipt = kassa.models.Receipt
        orders = dict(db.session.execute(db.select(Order.status, db.func.count()).group_by(Order.status)).all())
        receipts = dict(db.session.execute(db.select(Receipt.state, db.func.count()).group_by(Receipt.state)).all())
        return self.render("admin/index.html", orders=[(s.label, orders.get(s.value, 0)) for s in OrderStatus],
                           receipts=[(s.label, receipts.get(s.value, 0)) for s in ReceiptState])


class ShopModelView(Protected, ModelView):
    form_base_class = SecureForm
    page_size = 20
    can_set_page_size = True


def _money(view: Any, context: Any, model: Any, name: str) -> str:
    return rub(getattr(model, name))


def _region(view: Any, context: Any, model: Any, name: str) -> str:
    return REGIONS.get(model.region, model.region)


def _time(view: Any, context: Any, model: Any, name: str) -> str:
    return moment(getattr(model, name))


class ProductView(ShopModelView):
    column_list = ("name", "price", "vat", "measure", "payment_object", "is_active")
    column_labels = {"name": "Название", "description": "Описание", "price": "Цена, ₽", "vat": "НДС",
                     "measure": "Единица", "payment_object": "Предмет расчета", "color": "Цвет",
                     "is_active": "В продаже"}
    column_searchable_list = ("name",)
    column_formatters = {
        "price": _money,
        "vat": lambda v, c, m, n: m.vat_label or "как у кассы",
        "measure": lambda v, c, m, n: m.unit,
        "payment_object": lambda v, c, m, n: PaymentObject.parse(m.payment_object).label,
    }
    form_overrides = {"vat": SelectField, "measure": SelectField, "payment_object": SelectField}
    form_args = {
        "vat": {"choices": {"": "Как у кассы"} | {v.value: v.label for v in VatRate if not v.is_calculated},
                "coerce": lambda value: value or None},
        "measure": {"choices": {str(int(Measure.PIECE)): "шт",
                                str(int(Measure.KILOGRAM)): "кг (на развес, цена за кг)"}, "coerce": int},
        "payment_object": {"choices": {PaymentObject.PRODUCT.value: "Товар", PaymentObject.SERVICE.value: "Услуга"}},
    }


class CustomerView(ShopModelView):
    column_list = ("name", "email", "phone", "region", "balance", "created_at")
    column_labels = {"name": "Имя", "email": "Почта", "phone": "Телефон", "region": "Регион",
                     "balance": "Баланс", "created_at": "Создан"}
    column_searchable_list = ("name", "email", "phone")
    column_formatters = {"balance": _money, "region": _region, "created_at": _time}
    form_columns = ("name", "email", "phone", "region", "balance")
    form_overrides = {"region": SelectField}
    form_args = {"region": {"choices": dict(REGIONS)}}


class CouponView(ShopModelView):
    column_labels = {"code": "Код", "percent": "Скидка, %", "amount": "Скидка, ₽", "is_active": "Действует"}
    column_formatters = {"amount": lambda v, c, m, n: rub(m.amount) if m.amount is not None else ""}


def _receipt_badge(view: Any, context: Any, model: Order, name: str) -> Markup:
    """The order's sale receipt state (and refund state, if any) from the page's one query."""
    receipts = g.get("order_receipts", {}).get(model.number, [])
    badges = []
    sale = latest_sale(receipts)
    refund = next((r for r in reversed(receipts) if r.kind == "refund"), None)
    for receipt, prefix in ((sale, ""), (refund, "Возврат: ")):
        if receipt is not None:
            badges.append(Markup('<span class="badge badge-{}" title="{}">{}{}</span>').format(
                _BADGES.get(receipt.state, "secondary"), receipt.last_error or "", prefix, receipt.state_label))
    return Markup(" ").join(badges) if badges else Markup('<span class="text-muted">—</span>')


_BADGES = {"done": "success", "held": "warning", "error": "danger", "failed": "danger", "sent": "info",
           "queued": "info", "sending": "info"}


class OrderView(ShopModelView):
    can_create = False
    can_edit = False
    can_delete = False
    can_view_details = True
    column_list = ("number", "created_at", "customer", "region", "total", "status", "payment_type", "receipt")
    column_details_list = ("number", "created_at", "customer", "region", "items", "delivery", "address",
                           "coupon_code", "discount", "delivery_price", "total", "status", "payment_type",
                           "paid_at", "refunded_at", "receipt")
    column_labels = {"number": "№", "created_at": "Создан", "customer": "Покупатель", "region": "Регион",
                     "total": "Сумма", "status": "Статус", "payment_type": "Оплата", "receipt": "Чек",
                     "items": "Состав", "delivery": "Доставка", "address": "Адрес", "coupon_code": "Купон",
                     "discount": "Скидка", "delivery_price": "Стоимость доставки", "paid_at": "Оплачен",
                     "refunded_at": "Возвращен"}
    column_default_sort = ("id", True)
    column_searchable_list = ("number",)
    column_filters = (
        FilterEqual(Order.status, "Статус", options=[(s.value, s.label) for s in OrderStatus]),
        FilterEqual(Order.region, "Регион", options=list(REGIONS.items())),
        FilterEqual(Order.payment_type, "Оплата", options=list(PAYMENT_TYPES.items())),
    )
    column_formatters = {
        "created_at": _time, "paid_at": _time, "refunded_at": _time, "region": _region,
        "total": _money, "discount": _money, "delivery_price": _money, "receipt": _receipt_badge,
        "status": lambda v, c, m, n: m.status_label,
        "payment_type": lambda v, c, m, n: m.payment_label,
        "delivery": lambda v, c, m, n: m.delivery_option.label,
        "items": lambda v, c, m, n: Markup("<br>").join(
            f"{i.name} — {i.quantity.normalize():f} {i.product.unit} × {rub(i.price)}" for i in m.items),
    }

    def get_query(self) -> Any:
        return super().get_query().options(selectinload(Order.items))

    def get_list(self, *args: Any, **kwargs: Any) -> Any:
        count, orders = super().get_list(*args, **kwargs)
        g.order_receipts = receipts_by_ref(o.number for o in orders)
        return count, orders

    def get_one(self, id: Any) -> Any:
        order = super().get_one(id)
        if order is not None:
            g.order_receipts = receipts_by_ref([order.number])
        return order

    def _selected(self, ids: list[str]) -> list[Order]:
        return self.get_query().filter(Order.id.in_([int(i) for i in ids])).all()

    @action("cash", "Оплата наличными на кассе", "Принять оплату наличными и пробить чек на кассе?")
    def action_cash(self, ids: list[str]) -> None:
        done = []
        for order in self._selected(ids):
            if order.status != OrderStatus.NEW.value:
                flash(f"Заказ №{order.number} уже оплачен", "warning")
                continue
            order.mark_paid("cash")
            kassa.fiscalize(order, manual=True)  # a person took the money: print it even on a held register
            done.append(order.number)
        db.session.commit()
        if done:
            flash(f"Оплачено наличными, чек отправлен на кассу: №{', №'.join(done)}", "success")

    @action("refund", "Оформить возврат", "Вернуть деньги покупателю и пробить чек возврата?")
    def action_refund(self, ids: list[str]) -> None:
        done = []
        app = current_app._get_current_object()
        for order in self._selected(ids):
            if order.status != OrderStatus.PAID.value:
                flash(f"Заказ №{order.number} не оплачен или уже возвращен", "warning")
                continue
            order.mark_refunded()
            if order.payment_type == "balance":
                order.customer.balance += order.total
            signals.order_refunded.send(app, order=order)
            done.append(order.number)
        db.session.commit()
        if done:
            flash(f"Возврат оформлен, чек возврата отправлен: №{', №'.join(done)}", "success")


class TopUpView(ShopModelView):
    can_create = False
    can_edit = False
    can_delete = False
    column_list = ("id", "customer", "amount", "region", "created_at", "paid_at")
    column_labels = {"customer": "Покупатель", "amount": "Сумма", "region": "Регион", "created_at": "Создано",
                     "paid_at": "Оплачено"}
    column_default_sort = ("id", True)
    column_formatters = {"amount": _money, "region": _region, "created_at": _time, "paid_at": _time}


def build_admin(app: Flask) -> Admin:
    """The app's own ``Admin`` (one per app, so that tests may build several apps)."""
    admin = Admin(app, name="Чайная лавка", index_view=IndexView(name="Сводка", url="/admin"),
                  theme=Bootstrap4Theme(swatch="default"))
    category = "Магазин"
    for view, model, name in ((OrderView, Order, "Заказы"), (ProductView, Product, "Товары"),
                              (CustomerView, Customer, "Покупатели"), (CouponView, Coupon, "Купоны"),
                              (TopUpView, BalanceTopUp, "Пополнения баланса")):
        admin.add_view(view(model, db, name=name, category=category))
    return admin
