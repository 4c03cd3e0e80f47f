"""What a manager may do to a receipt from the admin, in Russian, never raising.

Each operation checks that the receipt's state allows it, calls the outbox
(the only writer of receipt state), commits, and returns an :class:`Outcome`
with the message to flash. The details page's buttons and the list's bulk
actions share these.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from ..enums import ReceiptKind, ReceiptState
from ..errors import InvalidOrder, KomtetError

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["OPERATIONS", "Outcome", "allowed_operations", "refund", "refund_lines_form", "run"]

log = logging.getLogger("flask_komtet.admin")
S = ReceiptState


@dataclass(frozen=True)
class Outcome:
    """The result of one operation: flash ``message`` with ``category``; ``receipt`` to show next."""

    ok: bool
    message: str
    receipt: Any = None

    @property
    def category(self) -> str:
        return "success" if self.ok else "error"


def _name(receipt: Any) -> str:
    return f"Чек {receipt.external_id} (заказ {receipt.order_ref})"


def _send_now(state: KassaState, receipt: Any) -> Outcome:
    from .. import outbox

    if receipt.state == S.HELD.value:
        outbox.release_held(state, receipt)
        state.session.commit()
    elif receipt.state == S.QUEUED.value:
        outbox.send_receipt(state, receipt.id)
    else:
        return Outcome(False, f"{_name(receipt)}: отправить сейчас можно только чек «{S.HELD.label}» или "
                              f"«{S.QUEUED.label}», а он «{receipt.state_label}»", receipt)
    state.session.refresh(receipt)
    return Outcome(True, f"{_name(receipt)} отправлен: {receipt.state_label}", receipt)


def _resend(state: KassaState, receipt: Any) -> Outcome:
    from .. import outbox

    if receipt.state not in (S.ERROR.value, S.FAILED.value):
        return Outcome(False, f"{_name(receipt)}: повторить можно только чек «{S.ERROR.label}» или "
                              f"«{S.FAILED.label}», а он «{receipt.state_label}»", receipt)
    new = outbox.resend(state, receipt)
    state.session.commit()
    state.session.refresh(new)
    if new is receipt:
        return Outcome(True, f"{_name(receipt)} снова в очереди (тот же внешний id): {new.state_label}", new)
    return Outcome(True, f"{_name(receipt)}: отправлен повторно новым чеком {new.external_id} — "
                         f"{new.state_label}", new)


def _refresh(state: KassaState, receipt: Any) -> Outcome:
    from .. import outbox

    if receipt.state != S.SENT.value or receipt.task_id is None:
        return Outcome(False, f"{_name(receipt)}: обновить состояние можно только у чека «{S.SENT.label}», "
                              f"а он «{receipt.state_label}»", receipt)
    changed = outbox.refresh(state, receipt)
    state.session.commit()
    state.session.refresh(receipt)
    if changed:
        return Outcome(True, f"{_name(receipt)}: {receipt.state_label}", receipt)
    return Outcome(True, f"{_name(receipt)}: КОМТЕТ еще не напечатал чек (задача {receipt.task_id})", receipt)


OPERATIONS: Mapping[str, tuple[str, Callable[[KassaState, Any], Outcome]]] = {
    "send": ("Отправить сейчас", _send_now),
    "resend": ("Повторить отправку", _resend),
    "refresh": ("Обновить состояние", _refresh),
}


def allowed_operations(receipt: Any) -> list[str]:
    """The operations the receipt's state allows now (for the details page's buttons)."""
    ops = []
    if receipt.state == S.QUEUED.value or (receipt.state == S.HELD.value and receipt.payload_json):
        ops.append("send")  # a receipt held for marking codes has nothing to send yet
    if receipt.state in (S.ERROR.value, S.FAILED.value):
        ops.append("resend")
    if receipt.state == S.SENT.value and receipt.task_id is not None:
        ops.append("refresh")
    if can_refund(receipt):
        ops.append("refund")
    return ops


def _guarded(state: KassaState, receipt: Any, operation: Callable[[], Outcome]) -> Outcome:
    try:
        return operation()
    except (KomtetError, ValueError) as exc:
        state.session.rollback()
        return Outcome(False, f"{_name(receipt)}: {exc}", receipt)
    except Exception as exc:  # noqa: BLE001 - a manager sees a message, never a 500
        state.session.rollback()
        log.exception("admin action on receipt %s failed", receipt.id)
        return Outcome(False, f"{_name(receipt)}: не получилось ({type(exc).__name__}); подробности в журнале",
                       receipt)


def run(state: KassaState, name: str, receipt: Any) -> Outcome:
    """Run operation ``name`` on ``receipt``."""
    if name not in OPERATIONS:
        return Outcome(False, f"Неизвестное действие: {name}", receipt)
    return _guarded(state, receipt, lambda: OPERATIONS[name][1](state, receipt))


# -- refunds ---------------------------------------------------------------------------


def can_refund(receipt: Any) -> bool:
    return (receipt.state == S.DONE.value and receipt.kind in (ReceiptKind.SALE.value, ReceiptKind.MANUAL.value)
            and bool(receipt.order_data))


def stored_order(receipt: Any) -> Any:
    """The order the receipt was built from (``Receipt.order_data``)."""
    from ..outbox import stored_order as read

    return read(receipt)


def refund_lines_form(receipt: Any, state: KassaState | None = None) -> list[dict[str, Any]]:
    """The lines a refund may choose from: ``index`` (or ``"delivery"``), name, price, quantity sold and
    (with ``state``) already refunded, and what is ``left``."""
    from ..outbox import refunded_quantities

    try:
        order = stored_order(receipt)
    except (InvalidOrder, TypeError, ValueError):
        return []
    done = refunded_quantities(state, receipt.order_ref) if state is not None else {}
    sold: list[tuple[int | str, Any]] = [(i, line) for i, line in enumerate(order.lines) if line.price > 0]
    if order.delivery is not None and order.delivery.price > 0:
        sold.append(("delivery", order.delivery))
    return [{"index": i, "name": line.name, "price": line.price, "quantity": line.quantity,
             "refunded": done.get(i, Decimal(0)), "left": max(line.quantity - done.get(i, Decimal(0)), Decimal(0))}
            for i, line in sold]


def _chosen_lines(form: Mapping[str, str], rows: list[dict[str, Any]]) -> list[Any]:
    from ..receipts import RefundLine

    chosen = []
    for row in rows:
        raw = (form.get(f"qty_{row['index']}") or "").strip().replace(",", ".")
        if not raw:
            continue
        try:
            quantity = Decimal(raw)
        except InvalidOperation:
            raise ValueError(f"«{row['name']}»: количество «{raw}» — не число") from None
        if quantity < 0 or quantity > row["left"]:
            already = f" (уже возвращено {row['refunded'].normalize():f})" if row["refunded"] else ""
            raise ValueError(f"«{row['name']}»: вернуть можно от 0 до {row['left'].normalize():f}{already}")
        if quantity:
            chosen.append(RefundLine(row["index"], quantity))
    if not chosen:
        raise ValueError("Выберите, что вернуть: весь заказ или количество хотя бы одной позиции")
    return chosen


def refund(state: KassaState, receipt: Any, form: Mapping[str, str]) -> Outcome:
    """«Оформить возврат»: ``form["scope"]`` is ``"all"`` or ``"lines"`` with ``qty_<index>`` fields."""
    from .. import outbox

    def operation() -> Outcome:
        if not can_refund(receipt):
            return Outcome(False, f"{_name(receipt)}: возврат оформляется по выполненному чеку продажи, "
                                  f"а этот чек «{receipt.kind_label}», «{receipt.state_label}»", receipt)
        order = stored_order(receipt)
        lines = None if form.get("scope", "all") == "all" else _chosen_lines(form, refund_lines_form(receipt, state))
        new = state.kassa.refund(order, lines=lines)
        existed = not outbox.added_in_this_transaction(state.session, new)
        state.session.commit()
        if existed:
            return Outcome(False, f"Такой возврат уже оформлен: чек {new.external_id} ({new.state_label})", new)
        state.session.refresh(new)
        if new.state == S.FAILED.value:
            return Outcome(False, f"Чек возврата {new.external_id} не отправлен: {new.last_error}", new)
        return Outcome(True, f"Возврат оформлен: чек {new.external_id} — {new.state_label}", new)

    return _guarded(state, receipt, operation)
