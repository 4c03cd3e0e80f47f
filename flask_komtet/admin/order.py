"""A receipt for one order, made by hand: what «Фискализировать заказ» and «Чек коррекции» share.

The manager types the order number; the shop's ``order_loader`` (given to
``init_app``) finds the order and the order adapter reads it, as for any
receipt. The register is the one picked in the form, or the one the order's
region routes to. Step 1 «Предпросмотр» shows exactly the JSON that will be
sent, what :func:`~flask_komtet.validation.validate_task` says about it (named
by field, in Russian) and the order's receipts so far; step 2 «Отправить»
creates the receipt through the public API, commits and opens it. A receipt
that already exists is linked instead of being made again.

Each kind of receipt is an :class:`OrderScreen`: its form (``OrderForm`` plus
its own fields), its template (extending ``komtet_admin/order_receipt.html``),
``preview()`` (what would be sent) and ``create()`` (the public API call). An
:class:`OrderReceiptView` serves a screen's page with ``self.page(screen)``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from flask import flash, redirect, request
from flask_admin import BaseView
from wtforms import SelectField, StringField, validators

from ..enums import PaymentType, ReceiptKind
from ..errors import InvalidOrder
from ..validation import validate_task
from .base import KassaView, RussianSecureForm, format_rub, pretty_json, state_badge
from .forms import strip_text
from .timeline import order_receipts

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["OrderForm", "OrderReceiptView", "OrderScreen", "field_name", "latest_receipt"]

_ROOTS = {"lines": "позиция", "delivery": "доставка", "customer": "покупатель", "payments": "оплата",
          "refund_lines": "строка возврата", "register": "касса", "order": "заказ", "region": "регион",
          "ref": "номер заказа", "discount": "скидка", "company": "организация", "cashier": "кассир",
          "correction_info": "коррекция", "intent": "вид чека"}
_LEAVES = {"price": "цена", "quantity": "количество", "name": "наименование", "vat": "НДС", "email": "почта",
           "phone": "телефон", "amount": "сумма", "type": "вид оплаты", "inn": "ИНН", "discount": "скидка",
           "payment_object": "предмет расчета", "measure": "мера количества", "sku": "артикул",
           "index": "номер позиции"}
#: Leaves whose name means something else under a given root.
_LEAVES_OF = {"correction_info": {"type": "тип коррекции", "base_date": "дата документа-основания",
                                  "base_number": "номер документа-основания"}}
_PART = re.compile(r"^(\w+)(?:\[(\d+)\])?$")


def field_name(path: str) -> str:
    """``lines[2].price`` → «позиция 3 — цена»: an error's field, as a manager reads it."""
    words: list[str] = []
    root = ""
    for part in path.split("."):
        match = _PART.match(part)
        if match is None:
            words.append(part)
            continue
        name, index = match.groups()
        if not words:
            root, word = name, _ROOTS.get(name)
        else:
            word = _LEAVES_OF.get(root, {}).get(name) or _LEAVES.get(name, _ROOTS.get(name))
        word = word or name
        words.append(f"{word} {int(index) + 1}" if index is not None else word)
    return " — ".join(words)


class OrderForm(RussianSecureForm):
    """The order (by its number) and the register; a screen adds its own fields."""

    order_ref = StringField("Номер заказа", [validators.InputRequired("Укажите номер заказа")], filters=[strip_text])
    register = SelectField("Касса", choices={}, validate_choice=True)


class OrderScreen:
    """One kind of receipt made by hand: its form and page, how it is previewed and how it is created."""

    form_class: type[OrderForm] = OrderForm
    template = ""
    kind = ReceiptKind.SALE
    #: How the page names a receipt of this screen that already exists («чек продажи»).
    existing_name = "чек"

    def preview(self, state: KassaState, order: Any, register: Any, form: Any) -> dict[str, Any]:
        """What would be sent for ``order`` on ``register``: ``{"order", "payload", "errors", "existing"}``.

        ``payload`` is ``None`` when it cannot be built (``errors`` then say why,
        by field path); ``existing`` is the receipt already made for this, if any.
        """
        raise NotImplementedError

    def create(self, state: KassaState, context: dict[str, Any], form: Any) -> Any:
        """Create the previewed receipt through the public API (the caller commits); returns it."""
        raise NotImplementedError

    def describe(self, form: Any) -> str | None:
        """A line about the receipt for the preview, beside its JSON (``None``: nothing to add)."""
        return None


def latest_receipt(state: KassaState, kind: ReceiptKind, order_ref: str, event_key: str | None = None) -> Any:
    """The order's latest receipt of ``kind`` (and ``event_key``, if given), or ``None``."""
    Receipt = state.models.Receipt
    query = sa.select(Receipt).where(Receipt.order_ref == order_ref, Receipt.kind == kind.value)
    if event_key is not None:
        query = query.where(Receipt.event_key == event_key)
    return state.session.scalars(query.order_by(Receipt.id.desc()).limit(1)).first()


class OrderReceiptView(KassaView, BaseView):  # type: ignore[misc]  # flask-admin/wtforms are untyped
    """The flow of an :class:`OrderScreen`'s page: ``return self.page(screen)`` from an exposed method."""

    receipts_endpoint = "komtet_receipts"

    def _form(self, screen: OrderScreen) -> OrderForm:
        form = screen.form_class(request.form if request.method == "POST" else None,
                                 order_ref=request.args.get("order", ""))
        CashRegister = self.kassa_state.models.CashRegister
        rows = self.kassa_state.session.execute(
            sa.select(CashRegister.id, CashRegister.name).where(CashRegister.is_active.is_(True))
            .order_by(CashRegister.id))
        form.register.choices = {"": "По региону заказа"} | {str(id_): name for id_, name in rows}
        return form

    def page(self, screen: OrderScreen) -> Any:
        """Step 1 on «Предпросмотр», step 2 on «Отправить»; the form alone on GET."""
        form = self._form(screen)
        context: dict[str, Any] = {"form": form, "screen": screen,
                                   "loader_missing": self.kassa_state.order_loader is None}
        if request.method == "POST" and not context["loader_missing"] and form.validate():
            context |= self._prepare(screen, form)
            if request.form.get("step") == "send":
                if context.get("existing") is not None:
                    flash(f"У заказа уже есть {screen.existing_name} — он не отправлен повторно", "warning")
                elif context.get("payload") and not context.get("errors"):
                    return self._send(screen, context, form)
        return self.render(screen.template, **context)

    def _prepare(self, screen: OrderScreen, form: Any) -> dict[str, Any]:
        """Load the order, pick the register and build the preview: everything the page shows."""
        state = self.kassa_state
        ref = form.order_ref.data
        try:
            shop_order = state.order_loader(ref)  # type: ignore[misc]
        except Exception as exc:  # noqa: BLE001 - the shop's loader; show what it said
            return {"problem": f"Магазин не смог загрузить заказ №{ref}: {exc}"}
        if shop_order is None:
            return {"problem": f"Заказ №{ref} не найден"}
        try:
            order = state.adapt(shop_order)
        except InvalidOrder as exc:
            return {"errors": _named(exc.errors)}
        timeline = order_receipts(state, order.ref)
        register, reason = self._register(order, form.register.data)
        if register is None:
            return {"order": order, "problem": reason, "timeline": timeline}
        shown = screen.preview(state, order, register, form)
        payload, errors = shown.get("payload"), shown.get("errors") or {}
        if payload is not None and not errors:
            errors = dict(validate_task(payload))
        payments = (payload or {}).get("payments", [])
        return shown | {
            "register": register, "reason": reason, "timeline": timeline, "errors": _named(errors),
            "payload_json": _pretty(payload),
            "payments": [(PaymentType.parse(p["type"]).label, format_rub(p["sum"])) for p in payments],
        }

    def _register(self, order: Any, register_id: str) -> tuple[Any, str]:
        state = self.kassa_state
        CashRegister = state.models.CashRegister
        if register_id:
            register = state.session.get(CashRegister, int(register_id))
            return register, f"Касса «{register.name}» (№{register.id}): выбрана вручную"
        from ..routing import choose_register

        registers = state.session.scalars(sa.select(CashRegister)).all()
        route = choose_register(registers, order.region, online=order.is_online, automatic=False,
                                labels=dict(state.config.region_choices()))
        return route.register, route.reason

    def _send(self, screen: OrderScreen, context: dict[str, Any], form: Any) -> Any:
        state = self.kassa_state
        try:
            receipt = screen.create(state, context, form)
            state.session.commit()
        except Exception as exc:  # noqa: BLE001 - shown to the manager, never a 500
            state.session.rollback()
            flash(f"Чек не создан: {exc}", "error")
            return self.render(screen.template, **context)
        state.session.refresh(receipt)
        flash(f"Чек {receipt.external_id} по заказу {receipt.order_ref}: {receipt.state_label}",
              "error" if receipt.state == "failed" else "success")
        return redirect(self.receipt_url(receipt))

    def receipt_url(self, receipt: Any) -> str:
        return str(self.get_url(f"{self.receipts_endpoint}.details_view", id=receipt.id))

    state_badge = staticmethod(state_badge)


def _named(errors: dict[str, str]) -> list[tuple[str, str]]:
    return [(field_name(path), message) for path, message in (errors or {}).items()]


def _pretty(payload: Any) -> str | None:
    from ..client import dumps

    return pretty_json(dumps(payload)) if payload is not None else None
