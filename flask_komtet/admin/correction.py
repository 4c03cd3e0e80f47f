"""«Чек коррекции»: a correction receipt for an order, previewed before it is sent (FFD 1.2).

For a settlement that was not fiscalized when it should have been (or was
fiscalized wrong), the manager issues a correction receipt (KOMTET v2
``correction_info``) on the shop's own decision («Самостоятельно») or by the tax
authority's instruction («По предписанию»). In FFD 1.2 the correction names the
date of the settlement it corrects (tag 1178, its VAT applies) and, only by
instruction, the instruction's number (tag 1179); an authorised person (name and
INN) may sign it. A page of the «Фискализировать заказ» view
(``komtet_fiscalize.correction``); the order, the register, the preview and the
send work as :mod:`.order` describes; «Отправить» calls ``kassa.correct(order,
intent=..., correction_type=..., base_date=..., base_number=...,
authorised_person=..., register=...)``.

One correction per order, kind, corrected date and instruction: the same form
posted again links the receipt already made instead of making a second one.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from wtforms import DateField, SelectField, StringField, ValidationError, validators

from ..enums import CorrectionType, Intent, ReceiptKind
from ..receipts import Cashier
from .forms import strip_text
from .order import OrderForm, OrderScreen, latest_receipt

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["CorrectionScreen"]

INTENTS = {i.value: i.label for i in (Intent.SELL_CORRECTION, Intent.SELL_RETURN_CORRECTION)}
TYPES = dict(CorrectionType.choices())
DATE_HINT = "дд.мм.гггг"
NUMBER_LIMIT = 32  # KOMTET's limit for correction_info.base_number


class _Day(DateField):  # type: ignore[misc]  # flask-admin/wtforms are untyped
    """A day typed as дд.мм.гггг; a wrong one gets a message that names the field and shows the format."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata([value.strip() for value in valuelist])
        except ValueError:
            raise ValueError(f"{self.label.text}: «{' '.join(valuelist)}» — не дата; укажите ее в виде {DATE_HINT}, "
                             f"например {date.today():%d.%m.%Y}") from None


def _not_in_future(form: Any, field: Any) -> None:
    if field.data is not None and field.data > date.today():
        raise ValidationError(f"{field.label.text}: {field.data:%d.%m.%Y} еще не наступила — исправить можно только "
                              "расчет, который уже был")


class CorrectionForm(OrderForm):
    intent = SelectField("Вид чека коррекции", choices=INTENTS, default=Intent.SELL_CORRECTION.value)
    correction_type = SelectField("Тип коррекции", choices=TYPES, default=CorrectionType.SELF.value)
    base_date = _Day("Дата расчета, который исправляется",
                     [validators.InputRequired(f"Дата расчета, который исправляется: укажите ее в виде {DATE_HINT}"),
                      _not_in_future],
                     format="%d.%m.%Y", render_kw={"placeholder": DATE_HINT, "inputmode": "numeric"},
                     description="Тег 1178: день, когда прошел расчет без чека (или с ошибкой). НДС — по ставке, "
                                 "действовавшей в этот день.")
    base_number = StringField(
        "Номер предписания налогового органа",
        [validators.Length(max=NUMBER_LIMIT,
                           message=f"Номер предписания налогового органа: не длиннее {NUMBER_LIMIT} символов")],
        filters=[strip_text],
        description="Тег 1179: только для коррекции по предписанию.")
    person_name = StringField(
        "ФИО уполномоченного лица",
        [validators.Length(max=64, message="ФИО уполномоченного лица: не длиннее 64 символов")],
        filters=[strip_text], description="Необязательно: кто подписывает чек коррекции.")
    person_inn = StringField(
        "ИНН уполномоченного лица", [validators.Length(max=12, message="ИНН уполномоченного лица: 12 цифр")],
        filters=[strip_text])

    def validate(self, extra_validators: Any = None) -> bool:
        ok = bool(super().validate(extra_validators))
        by_instruction = self.correction_type.data == CorrectionType.INSTRUCTION.value
        if by_instruction and not self.base_number.data:
            self.base_number.errors = [*self.base_number.errors,
                                       "Номер предписания налогового органа: для коррекции по предписанию "
                                       "укажите его номер"]
            ok = False
        if not by_instruction and self.base_number.data:
            self.base_number.errors = [*self.base_number.errors,
                                       "Номер предписания налогового органа указывается только для коррекции "
                                       "по предписанию"]
            ok = False
        if self.person_inn.data and not self.person_name.data:
            self.person_name.errors = [*self.person_name.errors, "ФИО уполномоченного лица: укажите вместе с ИНН"]
            ok = False
        return ok

    def authorised_person(self) -> Cashier | None:
        return Cashier(self.person_name.data, self.person_inn.data or None) if self.person_name.data else None


class CorrectionScreen(OrderScreen):
    """A correction receipt (``sellCorrection`` or ``sellReturnCorrection``) of an order."""

    form_class = CorrectionForm
    template = "komtet_admin/correction.html"
    kind = ReceiptKind.CORRECTION
    existing_name = "такой чек коррекции (тот же вид, дата расчета и предписание)"

    def preview(self, state: KassaState, order: Any, register: Any, form: Any) -> dict[str, Any]:
        from ..outbox import correction_key, preview_correction

        base_date, number = form.base_date.data, form.base_number.data or None
        key = correction_key(form.intent.data, base_date, number)
        payload, errors = preview_correction(state, order, register, intent=form.intent.data,
                                             correction_type=form.correction_type.data, base_date=base_date,
                                             base_number=number, authorised_person=form.authorised_person())
        return {"order": order, "existing": latest_receipt(state, self.kind, order.ref, key),
                "payload": payload, "errors": errors}

    def create(self, state: KassaState, context: dict[str, Any], form: Any) -> Any:
        return state.kassa.correct(
            context["order"], intent=form.intent.data, correction_type=form.correction_type.data,
            base_date=form.base_date.data, base_number=form.base_number.data or None, register=context["register"],
            authorised_person=form.authorised_person())

    def describe(self, form: Any) -> str:
        """«Чек коррекции: Коррекция прихода, по предписанию № 12/34; исправляется расчет от 20.11.2026»."""
        kind = TYPES[form.correction_type.data].lower()
        number = f" № {form.base_number.data}" if form.base_number.data else ""
        person = f"; подписывает {form.person_name.data}" if form.person_name.data else ""
        return (f"Чек коррекции: {INTENTS[form.intent.data]}, {kind}{number}; "
                f"исправляется расчет от {form.base_date.data:%d.%m.%Y}{person}")
