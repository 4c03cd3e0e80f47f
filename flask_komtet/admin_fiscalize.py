"""«Фискализировать заказ»: a receipt by hand for an order that has none.

For the counter (cash, or a card terminal, printed on the register) and for
online orders whose register does not fiscalize automatically. The manager
types the order number; the shop's ``order_loader`` (given to ``init_app``)
finds it and the order adapter reads it, as for any receipt.

Payment («Оплата»), decided here:

* «Наличными на кассе» (default) and «Картой на кассе (терминал)» replace the
  order's payments with one payment of that type for the receipt's total, and
  mark the order paid offline (so a full-payment receipt, and only primary
  regions serve it);
* «Как в заказе (оплата на сайте)» keeps what the shop's adapter says.

Step 1 «Предпросмотр» shows exactly the JSON that will be sent and what is
wrong with it (named by field, in Russian); step 2 «Отправить» queues it with
``kassa.fiscalize(order, register=..., manual=True)``, commits and opens the
receipt. An order that already has a sale receipt is not sent twice: the page
links that receipt instead.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, request
from flask_admin import BaseView, expose
from wtforms import SelectField, StringField, validators

from .admin_base import KassaView, RussianSecureForm, format_rub, pretty_json, state_badge
from .enums import PaymentType, ReceiptKind
from .errors import InvalidOrder
from .orders import Payment

__all__ = ["FiscalizeView", "field_name"]

PAYMENTS = {"cash": "Наличными на кассе", "card": "Картой на кассе (терминал)",
            "order": "Как в заказе (оплата на сайте)"}

_ROOTS = {"lines": "позиция", "delivery": "доставка", "customer": "покупатель", "payments": "оплата",
          "refund_lines": "строка возврата", "register": "касса", "order": "заказ", "region": "регион",
          "ref": "номер заказа", "discount": "скидка", "company": "организация", "cashier": "кассир"}
_LEAVES = {"price": "цена", "quantity": "количество", "name": "наименование", "vat": "НДС", "email": "почта",
           "phone": "телефон", "amount": "сумма", "type": "вид оплаты", "inn": "ИНН", "discount": "скидка",
           "payment_object": "предмет расчета", "measure": "мера количества", "sku": "артикул",
           "index": "номер позиции"}
_PART = re.compile(r"^(\w+)(?:\[(\d+)\])?$")


def field_name(path: str) -> str:
    """``lines[2].price`` → «позиция 3 — цена»: an error's field, as a manager reads it."""
    words = []
    for part in path.split("."):
        match = _PART.match(part)
        if match is None:
            words.append(part)
            continue
        name, index = match.groups()
        word = _ROOTS.get(name) if not words else _LEAVES.get(name, _ROOTS.get(name))
        word = word or name
        words.append(f"{word} {int(index) + 1}" if index is not None else word)
    return " — ".join(words)


class FiscalizeForm(RussianSecureForm):
    order_ref = StringField("Номер заказа", [validators.InputRequired("Укажите номер заказа")],
                            filters=[lambda v: v.strip() if isinstance(v, str) else v])
    register = SelectField("Касса", choices={}, validate_choice=True)
    payment = SelectField("Оплата", choices=PAYMENTS, default="cash")


class FiscalizeView(KassaView, BaseView):
    """Step 1: preview the receipt of an order; step 2: send it."""

    receipts_endpoint = "komtet_receipts"

    def _form(self) -> FiscalizeForm:
        form = FiscalizeForm(request.form if request.method == "POST" else None,
                             order_ref=request.args.get("order", ""))
        CashRegister = self.kassa_state.models.CashRegister
        rows = self.kassa_state.session.execute(
            sa.select(CashRegister.id, CashRegister.name).where(CashRegister.is_active.is_(True))
            .order_by(CashRegister.id))
        form.register.choices = {"": "По региону заказа"} | {str(id_): name for id_, name in rows}
        return form

    @expose("/", methods=("GET", "POST"))
    def index(self) -> Any:
        state = self.kassa_state
        form = self._form()
        context: dict[str, Any] = {"form": form, "loader_missing": state.order_loader is None}
        if request.method == "POST" and not context["loader_missing"] and form.validate():
            context |= self._prepare(form.order_ref.data, form.register.data, form.payment.data)
            if request.form.get("step") == "send" and context.get("payload") and not context.get("existing"):
                return self._send(context)
            if request.form.get("step") == "send" and context.get("existing") is not None:
                flash("У заказа уже есть чек продажи — он не отправлен повторно", "warning")
        return self.render("komtet_admin/fiscalize.html", **context)

    def _prepare(self, ref: str, register_id: str, payment: str) -> dict[str, Any]:
        """Load the order, pick the register and build the preview: everything the page shows."""
        state = self.kassa_state
        try:
            shop_order = state.order_loader(ref)  # type: ignore[misc]
        except Exception as exc:  # noqa: BLE001 - the shop's loader; show what it said
            return {"problem": f"Магазин не смог загрузить заказ №{ref}: {exc}"}
        if shop_order is None:
            return {"problem": f"Заказ №{ref} не найден"}
        try:
            order = state.adapt(shop_order)
        except InvalidOrder as exc:
            return {"errors": self._errors(exc.errors)}
        register, reason = self._register(order, register_id)
        if register is None:
            return {"order": order, "problem": reason}
        order = self._paid_as(order, register, payment)
        from .outbox import preview

        payload, errors = preview(state, order, register)
        return {"order": order, "register": register, "reason": reason, "errors": self._errors(errors),
                "payload": payload, "payload_json": _pretty(payload), "existing": self._existing(order.ref),
                "payments": [(PaymentType.parse(p["type"]).label, format_rub(p["sum"]))
                             for p in (payload or {}).get("payments", [])]}

    def _register(self, order: Any, register_id: str) -> tuple[Any, str]:
        state = self.kassa_state
        CashRegister = state.models.CashRegister
        if register_id:
            register = state.session.get(CashRegister, int(register_id))
            return register, f"Касса «{register.name}» (№{register.id}): выбрана вручную"
        from .routing import choose_register

        registers = state.session.scalars(sa.select(CashRegister)).all()
        route = choose_register(registers, order.region, online=order.is_online, automatic=False,
                                labels=dict(state.config.region_choices()))
        return route.register, route.reason

    def _paid_as(self, order: Any, register: Any, payment: str) -> Any:
        if payment == "order":
            return order
        at_counter = order.replace(payments=(), online=False)  # the receipt's total, paid in cash
        if payment == "cash":
            return at_counter
        from .outbox import preview
        from .receipts import receipt_total

        payload, _ = preview(self.kassa_state, at_counter, register)
        if payload is None:
            return at_counter
        return at_counter.replace(payments=(Payment(PaymentType.CARD, receipt_total(payload)),))

    def _existing(self, ref: str) -> Any:
        Receipt = self.kassa_state.models.Receipt
        return self.kassa_state.session.scalars(
            sa.select(Receipt).where(Receipt.order_ref == ref, Receipt.kind == ReceiptKind.SALE.value)
            .order_by(Receipt.id.desc()).limit(1)).first()

    @staticmethod
    def _errors(errors: dict[str, str]) -> list[tuple[str, str]]:
        return [(field_name(path), message) for path, message in (errors or {}).items()]

    def _send(self, context: dict[str, Any]) -> Any:
        state = self.kassa_state
        try:
            receipt = state.kassa.fiscalize(context["order"], register=context["register"], manual=True)
            state.session.commit()
        except Exception as exc:  # noqa: BLE001 - shown to the manager, never a 500
            state.session.rollback()
            flash(f"Чек не создан: {exc}", "error")
            return self.render("komtet_admin/fiscalize.html", **context)
        state.session.refresh(receipt)
        flash(f"Чек {receipt.external_id} по заказу {receipt.order_ref}: {receipt.state_label}",
              "error" if receipt.state == "failed" else "success")
        return redirect(self.receipt_url(receipt))

    def receipt_url(self, receipt: Any) -> str:
        return self.get_url(f"{self.receipts_endpoint}.details_view", id=receipt.id)

    state_badge = staticmethod(state_badge)


def _pretty(payload: Any) -> str | None:
    from .client import dumps

    return pretty_json(dumps(payload)) if payload is not None else None
