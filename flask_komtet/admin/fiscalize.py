"""«Фискализировать заказ»: a receipt by hand for an order that has none, and «Чек коррекции».

One view, two pages, each an :class:`~.admin_order.OrderScreen` served by the
flow :mod:`.admin_order` describes:

* ``/`` — the sale receipt, for the counter (cash, or a card terminal,
  printed on the register) and for online orders whose register does not
  fiscalize automatically; «Отправить» queues it with
  ``kassa.fiscalize(order, register=..., manual=True)``. An order that already
  has a sale receipt is not sent twice: the page links that receipt instead.
* ``/correction/`` — a correction receipt (:mod:`.admin_correction`), in the
  menu as «Чек коррекции».

Payment («Оплата») on the sale page:

* «Наличными на кассе» (default) and «Картой на кассе (терминал)» replace the
  order's payments with one payment of that type for the receipt's total, and
  mark the order paid offline (so a full-payment receipt, and only primary
  regions serve it);
* «Как в заказе (оплата на сайте)» keeps what the shop's adapter says.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask_admin import expose
from wtforms import SelectField, TextAreaField

from ..enums import PaymentType, ReceiptKind
from ..errors import InvalidOrder
from ..marks import scanned_lines
from ..orders import Payment
from .correction import CorrectionScreen
from .order import OrderForm, OrderReceiptView, OrderScreen, field_name, latest_receipt

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["FiscalizeView", "SaleScreen", "field_name"]

PAYMENTS = {"cash": "Наличными на кассе", "card": "Картой на кассе (терминал)",
            "order": "Как в заказе (оплата на сайте)"}


class FiscalizeForm(OrderForm):
    payment = SelectField("Оплата", choices=PAYMENTS, default="cash")
    marks = TextAreaField("Коды маркировки", render_kw={"spellcheck": "false", "autocomplete": "off"},
                          description="Для маркированных товаров: отсканируйте коды, по одному на строку — "
                                      "они займут единицы без кода по порядку строк заказа.")


class SaleScreen(OrderScreen):
    """The sale receipt of an order, paid at the counter or as the order says."""

    form_class = FiscalizeForm
    template = "komtet_admin/fiscalize.html"
    kind = ReceiptKind.SALE
    existing_name = "чек продажи"

    def preview(self, state: KassaState, order: Any, register: Any, form: Any) -> dict[str, Any]:
        from ..outbox import preview, replaceable, with_codes

        order = self._paid_as(state, order, register, form.payment.data)
        codes = scanned_lines(form.marks.data)
        try:
            order = with_codes(order, codes) if codes else order  # scanned at the counter
            payload, errors = preview(state, order, register)
        except InvalidOrder as exc:
            payload, errors = None, exc.errors
        existing = latest_receipt(state, self.kind, order.ref)
        if existing is not None and replaceable(existing):  # failed before KOMTET: a new one may replace it
            existing = None
        return {"order": order, "payload": payload, "errors": errors, "existing": existing}

    def create(self, state: KassaState, context: dict[str, Any], form: Any) -> Any:
        return state.kassa.fiscalize(context["order"], register=context["register"], manual=True)

    @staticmethod
    def _paid_as(state: KassaState, order: Any, register: Any, payment: str) -> Any:
        if payment == "order":
            return order
        at_counter = order.replace(payments=(), online=False)  # the receipt's total, paid in cash
        if payment == "cash":
            return at_counter
        from ..outbox import preview
        from ..receipts import receipt_total

        payload, _ = preview(state, at_counter, register)
        if payload is None:
            return at_counter
        return at_counter.replace(payments=(Payment(PaymentType.CARD, receipt_total(payload)),))


class FiscalizeView(OrderReceiptView):
    """«Фискализировать заказ» (``index``) and «Чек коррекции» (``correction``)."""

    sale = SaleScreen()
    correction_screen = CorrectionScreen()

    @expose("/", methods=("GET", "POST"))  # type: ignore[untyped-decorator]  # flask-admin/wtforms are untyped
    def index(self) -> Any:
        return self.page(self.sale)

    @expose("/correction/", methods=("GET", "POST"))  # type: ignore[untyped-decorator]  # flask-admin/wtforms are untyped
    def correction(self) -> Any:
        return self.page(self.correction_screen)
