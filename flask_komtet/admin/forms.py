"""The cash register form (Parts-Soft's «Настройки кассы») and its rules.

Every setting of a ``CashRegister`` with the seeds' Russian names. Rules
checked on save, each with a message that names the problem:

* required: name, region, ShopID, Secret (on create), queue id (a positive
  number), tax system, VAT, place of settlement;
* VAT and tax system take current values only: an obsolete 18 %, 18/118 or
  ЕНВД posted anyway gets the enum's own Russian explanation;
* the position-name template may use only known tags;
* INNs have valid check digits;
* the scheduled tax change needs its date, and the date needs a change;
* VAT 5 %/7 % (5/105, 7/107) only with УСН, for the default and delivery VAT,
  today and after the scheduled change (НК РФ art. 164 p. 8); the VAT receipts
  get today and on the change date must be a rate in force then (20 % is not
  from 2026-01-01: the message names 22 %). See :mod:`flask_komtet.receipts.taxes`;
* two active registers may not share a primary region.

The Secret is write-only: the field never renders a value, and leaving it
empty on edit keeps the stored one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from markupsafe import Markup
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
    validators,
)

from ..enums import AgentType, PaymentMethod, PaymentObject, SettlementScheme, TaxSystem, TimeZone, VatRate
from ..receipts import TEMPLATE_TAGS, check_name_template
from ..receipts.contacts import check_inn
from ..receipts.taxes import register_tax_problems
from .base import RussianSecureForm

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["WriteOnlyField", "register_form_class", "template_help"]

REQUIRED = "Обязательное поле"


class WriteOnlyField(PasswordField):  # type: ignore[misc]  # WTForms ships no types (see pyproject)
    """A password input that never holds (or shows) the stored value."""

    def process_data(self, value: Any) -> None:
        self.data = ""

    def populate_obj(self, obj: Any, name: str) -> None:
        if self.data:
            setattr(obj, name, self.data.strip())


class _EnumField(SelectField):  # type: ignore[misc]  # WTForms ships no types
    """A select of an enum's current values; an obsolete value posted anyway gets the enum's message."""

    def __init__(self, label: str, enum: Any, *, optional: bool = False, blank: str = "—", **kwargs: Any) -> None:
        choices = ({"": blank} if optional else {}) | {str(v): text for v, text in enum.choices()}
        super().__init__(label, choices=choices, validate_choice=False, **kwargs)
        self.enum, self.optional = enum, optional

    def process_data(self, value: Any) -> None:
        self.data = "" if value is None else str(getattr(value, "value", value))

    def pre_validate(self, form: Any) -> None:
        if not self.data:
            if not self.optional:
                raise validators.StopValidation(REQUIRED)
            return
        if self.data in self.choices:
            return
        try:
            self.enum.parse(self.data)
        except ValueError as exc:
            obsolete = not str(exc).startswith(f"{self.enum.__name__}: unknown value")
            raise validators.StopValidation(str(exc) if obsolete else "Выберите значение из списка") from None
        raise validators.StopValidation("Выберите значение из списка")

    def populate_obj(self, obj: Any, name: str) -> None:
        value: Any = self.data or None
        if value is not None and isinstance(self.enum.parse(value).value, int):
            value = int(value)
        setattr(obj, name, value)


class _RegionsText(StringField):  # type: ignore[misc]  # WTForms ships no types
    """Extra regions typed as codes separated by commas (when the shop configured no region list)."""

    def process_data(self, value: Any) -> None:
        self.data = ", ".join(value or [])

    def populate_obj(self, obj: Any, name: str) -> None:
        setattr(obj, name, [code.strip() for code in (self.data or "").split(",") if code.strip()])


class _RegionsSelect(SelectMultipleField):  # type: ignore[misc]  # WTForms ships no types
    def populate_obj(self, obj: Any, name: str) -> None:
        setattr(obj, name, list(self.data or []))


def strip_text(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _none_if_empty(value: Any) -> Any:
    value = strip_text(value)
    return value or None


def _inn(person: bool | None) -> Callable[[Any, Any], None]:
    def check(form: Any, field: Any) -> None:
        if field.data:
            try:
                check_inn(field.data, person=person)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None

    return check


def _template(form: Any, field: Any) -> None:
    if field.data:
        try:
            check_name_template(field.data)
        except ValueError as exc:
            raise ValidationError(str(exc)) from None


def template_help() -> Markup:
    """The template tags and what each one becomes, for the form's description."""
    rows = Markup("").join(
        Markup("<li><code>{}</code> — {}</li>").format("{" + tag + "}", text) for tag, text in TEMPLATE_TAGS.items())
    return Markup(
        "Как AlfaCRM «Детали»: пусто — в чек идет наименование товара; иначе текст с тегами, не длиннее 128 символов. "
        "Например: <code>{{legal}} за {{name}} — {{custom_predmet}}</code>. Теги:<ul class=\"mb-0\">{}</ul>"
    ).format(rows)


def register_form_class(state: KassaState) -> type[RussianSecureForm]:
    """The register form of one app (its regions: a select, or free text if the shop configured none)."""
    has_regions = state.config.regions is not None

    def region_label(code: str) -> str:
        return dict(state.config.region_choices()).get(code, code)

    class CashRegisterForm(RussianSecureForm):
        name = StringField("Название", [validators.InputRequired(REQUIRED), validators.Length(max=128)],
                           filters=[strip_text], description="Название кассы, как его видит менеджер.")
        if has_regions:
            region = SelectField(
                "Регион", [validators.InputRequired(REQUIRED)], validate_choice=True,
                description="Привязывает кассу к региону заказа: клиент и касса должны быть в одном регионе.")
            extra_regions = _RegionsSelect(
                "Дополнительные регионы для онлайн оплат", [validators.Optional()],
                description="Регионы, в которых касса используется при автоматической фискализации онлайн оплат.")
        else:
            region = StringField(
                "Регион", [validators.InputRequired(REQUIRED), validators.Length(max=64)], filters=[strip_text],
                description="Код региона заказа (список регионов магазин задает в KOMTET_KASSA_REGIONS).")
            extra_regions = _RegionsText(
                "Дополнительные регионы для онлайн оплат",
                description="Коды регионов через запятую: касса обслуживает их только при онлайн оплате.")
        shop_id = StringField("ShopID", [validators.InputRequired(REQUIRED), validators.Length(max=128)],
                              filters=[strip_text],
                              description="Из личного кабинета КОМТЕТ Кассы: Фискализация → Магазины.")
        secret = WriteOnlyField(
            "Secret", [validators.Length(max=256)],
            description="Секретный ключ магазина из личного кабинета КОМТЕТ Кассы. Не показывается; "
                        "оставьте пустым, чтобы сохранить прежний.")
        queue_id = IntegerField(
            "ID очереди", [validators.InputRequired("Укажите ID очереди — целое число"),
                           validators.NumberRange(min=1, message="ID очереди — положительное целое число")],
            description="Из личного кабинета КОМТЕТ Кассы: очередь (касса), куда уходят чеки.")
        tax_system = _EnumField("Система налогообложения при онлайн оплатах", TaxSystem,
                                default=str(int(TaxSystem.COMMON)))
        vat = _EnumField("Ставка налога", VatRate, default=VatRate.NO.value,
                         description="НДС позиций, у которых в заказе своя ставка не указана.")
        delivery_vat = _EnumField("Ставка НДС доставки", VatRate, optional=True, blank="Как у кассы")
        next_tax_system = _EnumField("Система налогообложения с даты", TaxSystem, optional=True, blank="Без изменений")
        next_vat = _EnumField("Ставка налога с даты", VatRate, optional=True, blank="Без изменений")
        tax_change_date = DateField(
            "С какой даты", [validators.Optional()], format="%Y-%m-%d",
            render_kw={"type": "date"},
            description="С этого дня (по дате оплаты) в чеках действуют новые СНО и ставка.")
        payment_method = _EnumField("Способ расчета при онлайн оплатах", PaymentMethod,
                                    default=PaymentMethod.ADVANCE.value)
        payment_object = _EnumField("Предмет расчета", PaymentObject, default=PaymentObject.PRODUCT.value,
                                    description="Для позиций, у которых в заказе он не указан.")
        top_up_payment_method = _EnumField("Способ расчета при онлайн пополнении баланса клиентами", PaymentMethod,
                                           default=PaymentMethod.ADVANCE.value)
        top_up_payment_object = _EnumField("Предмет расчета при онлайн пополнении баланса клиентами", PaymentObject,
                                           default=PaymentObject.PAYMENT.value)
        top_up_name = StringField("Название позиции при онлайн пополнении баланса клиентами",
                                  [validators.InputRequired(REQUIRED), validators.Length(max=128)],
                                  filters=[strip_text], default="Пополнение баланса")
        settlement_scheme = _EnumField(
            "Схема расчетов", SettlementScheme, default=SettlementScheme.TWO_RECEIPTS.value,
            description="Один чек при оплате или чек предоплаты и чек полного расчета при отгрузке.")
        auto_fiscalize = BooleanField(
            "Активен при онлайн оплатах", default=True,
            description="По оплаченному заказу чек создается и отправляется автоматически; иначе чек ждет "
                        "ручной отправки из админки.")
        print_receipt = BooleanField("Печатать чек при онлайн оплате", default=False,
                                     description="Касса печатает бумажный чек.")
        internet = BooleanField("Расчет в интернете", default=True,
                                description="Признак расчетов в сети Интернет (для онлайн-магазина).")
        permissive_mode = BooleanField(
            "Разрешительный режим", default=False,
            description="Маркированный товар продается только с результатом онлайн-проверки кода (тег 1265): "
                        "чек без него ждет в админке.")
        payment_address = StringField(
            "Место расчетов", [validators.InputRequired(REQUIRED), validators.Length(max=256)], filters=[strip_text],
            description="Адрес сайта магазина или адрес точки продаж.")
        place_address = StringField("Адрес расчетов", [validators.Optional(), validators.Length(max=256)],
                                    filters=[_none_if_empty],
                                    description="Необязательно: адрес, если он отличается от места расчетов.")
        company_inn = StringField("ИНН организации", [_inn(None)], filters=[_none_if_empty])
        name_template = TextAreaField("Шаблон наименования позиции", [validators.Length(max=512), _template],
                                      filters=[_none_if_empty], description=template_help())
        cashier_name = StringField("Кассир", [validators.Length(max=64)], filters=[_none_if_empty],
                                   description="Имя кассира в чеке, если магазин не передает его сам.")
        cashier_inn = StringField("ИНН кассира", [_inn(True)], filters=[_none_if_empty])
        agent_type = _EnumField(
            "Роль агента по умолчанию", AgentType, optional=True, blank="Нет (только свои товары)",
            description="Для позиций, у которых в заказе указан поставщик, но не указана роль агента "
                        "(например, комиссионер для товаров партнеров).")
        timezone = _EnumField("Часовая зона места расчетов", TimeZone, optional=True, blank="Не передавать",
                              description="Тег 1011: часовая зона, в которой находится место расчетов.")
        is_active = BooleanField("Касса включена", default=True,
                                 description="Выключенная касса не получает чеков.")
        api_url = StringField(
            "Адрес API (для тестовой кассы)", [validators.Optional(), validators.URL(
                require_tld=False, message="Нужен адрес вида http://127.0.0.1:8765")],
            filters=[_none_if_empty], description="Пусто — адрес КОМТЕТ Кассы из настроек магазина.")

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            if has_regions:
                choices = state.config.region_choices()
                self.region.choices = {"": "— выберите регион —"} | dict(choices)
                self.extra_regions.choices = dict(choices)

        def validate(self, extra_validators: Any = None) -> bool:
            ok = bool(super().validate(extra_validators))
            obj = getattr(self, "_obj", None)
            if obj is None and not self.secret.data:
                self.secret.errors = [*self.secret.errors, "Укажите Secret из личного кабинета КОМТЕТ Кассы"]
                ok = False
            changes = self.next_vat.data or self.next_tax_system.data
            if changes and not self.tax_change_date.data and not self.tax_change_date.errors:
                self.tax_change_date.errors = [*self.tax_change_date.errors,
                                               "Укажите, с какой даты действуют новые СНО или ставка"]
                ok = False
            if self.tax_change_date.data and not changes:
                self.tax_change_date.errors = [*self.tax_change_date.errors,
                                               "Выберите новую СНО или ставку налога для этой даты"]
                ok = False
            ok = self._check_taxes() and ok
            if self.is_active.data and self.region.data and not self.region.errors:
                other = self._active_in_region(self.region.data, getattr(obj, "id", None))
                if other is not None:
                    self.region.errors = [*self.region.errors,
                                          f"В регионе «{region_label(self.region.data)}» уже есть активная касса "
                                          f"«{other.name}»"]
                    ok = False
            return ok

        def _check_taxes(self) -> bool:
            """The VAT and tax system cross-checks (:func:`register_tax_problems`), as of today."""
            names = ("tax_system", "vat", "delivery_vat", "next_tax_system", "next_vat", "tax_change_date")
            if any(getattr(self, name).errors for name in names):
                return True  # a value that does not read already has its message
            values = SimpleNamespace(**{name: getattr(self, name).data or None for name in names})
            problems = register_tax_problems(values, today=date.today())
            for name, message in problems.items():
                field = getattr(self, name)
                field.errors = [*field.errors, message]
            return not problems

        @staticmethod
        def _active_in_region(region: str, own_id: int | None) -> Any:
            CashRegister = state.models.CashRegister
            query = sa.select(CashRegister).where(CashRegister.region == region, CashRegister.is_active.is_(True))
            if own_id is not None:
                query = query.where(CashRegister.id != own_id)
            return state.session.scalars(query.order_by(CashRegister.id).limit(1)).first()

    return CashRegisterForm

