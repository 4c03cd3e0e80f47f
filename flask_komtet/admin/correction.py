"""«Чек коррекции»: a correction receipt for an order, previewed before it is sent.

For a sale that was not fiscalized when it should have been (or a refund that
was not), the manager issues a correction receipt (KOMTET v2
``correction_info``) on the shop's own decision («Самостоятельно») or on the
tax office's order («По предписанию»), naming the document it rests on: its
date (дд.мм.гггг, not later than today) and number (required for an order of
the tax office). A page of the «Фискализировать заказ» view
(``komtet_fiscalize.correction``); the order, the register, the preview and
the send work as :mod:`.admin_order` describes; «Отправить» calls
``kassa.correct(order, intent=..., correction_type=..., base_date=...,
base_number=..., register=...)``.

One correction per order, kind, base date and number: the same form posted
again links the receipt already made instead of making a second one.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from wtforms import DateField, SelectField, StringField, ValidationError, validators

from ..enums import CorrectionType, Intent, ReceiptKind
from .forms import strip_text
from .order import OrderForm, OrderScreen, latest_receipt

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["CorrectionScreen"]

INTENTS = {i.value: i.label for i in (Intent.SELL_CORRECTION, Intent.SELL_RETURN_CORRECTION)}
TYPES = dict(CorrectionType.choices())
DATE_HINT = "дд.мм.гггг"
NUMBER_LIMIT = 32  # KOMTET's limit for correction_info.base_number


class _Day(DateField):
    """A day typed as дд.мм.гггг; a wrong one gets a message that names the field and shows the format."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata([value.strip() for value in valuelist])
        except ValueError:
            raise ValueError(f"{self.label.text}: «{' '.join(valuelist)}» — не дата; укажите ее в виде {DATE_HINT}, "
                             f"например {date.today():%d.%m.%Y}") from None


def _not_in_future(form: Any, field: Any) -> None:
    if field.data is not None and field.data > date.today():
        raise ValidationError(f"{field.label.text}: {field.data:%d.%m.%Y} еще не наступила — документ-основание "
                              "датируется не позже сегодняшнего дня")


class CorrectionForm(OrderForm):
    intent = SelectField("Вид чека коррекции", choices=INTENTS, default=Intent.SELL_CORRECTION.value)
    correction_type = SelectField("Тип коррекции", choices=TYPES, default=CorrectionType.SELF.value)
    base_date = _Day("Дата документа-основания",
                     [validators.InputRequired(f"Дата документа-основания: укажите ее в виде {DATE_HINT}"),
                      _not_in_future],
                     format="%d.%m.%Y", render_kw={"placeholder": DATE_HINT, "inputmode": "numeric"},
                     description="Акт или решение о коррекции (по предписанию — дата предписания налогового "
                                 "органа).")
    base_number = StringField(
        "Номер документа-основания",
        [validators.Length(max=NUMBER_LIMIT,
                           message=f"Номер документа-основания: не длиннее {NUMBER_LIMIT} символов")],
        filters=[strip_text],
        description="Номер предписания (обязателен по предписанию) или внутреннего акта.")

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if self.correction_type.data == CorrectionType.INSTRUCTION.value and not self.base_number.data:
            self.base_number.errors = [*self.base_number.errors,
                                       "Номер документа-основания: для коррекции по предписанию укажите "
                                       "номер предписания налогового органа"]
            ok = False
        return ok


class CorrectionScreen(OrderScreen):
    """A correction receipt (``sellCorrection`` or ``sellReturnCorrection``) of an order."""

    form_class = CorrectionForm
    template = "komtet_admin/correction.html"
    kind = ReceiptKind.CORRECTION
    existing_name = "такой чек коррекции (тот же вид, дата и номер документа-основания)"

    def preview(self, state: KassaState, order: Any, register: Any, form: Any) -> dict[str, Any]:
        from ..outbox import correction_key, preview_correction

        base_date, number = form.base_date.data, form.base_number.data or None
        key = correction_key(form.intent.data, base_date, number)
        payload, errors = preview_correction(state, order, register, intent=form.intent.data,
                                             correction_type=form.correction_type.data, base_date=base_date,
                                             base_number=number)
        return {"order": order, "existing": latest_receipt(state, self.kind, order.ref, key),
                "payload": payload, "errors": errors}

    def create(self, state: KassaState, context: dict[str, Any], form: Any) -> Any:
        return state.kassa.correct(
            context["order"], intent=form.intent.data, correction_type=form.correction_type.data,
            base_date=form.base_date.data, base_number=form.base_number.data or None, register=context["register"])

    def describe(self, form: Any) -> str:
        """«Чек коррекции: Коррекция прихода, самостоятельно; документ-основание от 20.11.2026 № ПР-17»."""
        number = f" № {form.base_number.data}" if form.base_number.data else " без номера"
        return (f"Чек коррекции: {INTENTS[form.intent.data]}, {TYPES[form.correction_type.data].lower()}; "
                f"документ-основание от {form.base_date.data:%d.%m.%Y}{number}")
