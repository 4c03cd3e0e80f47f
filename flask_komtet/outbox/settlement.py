"""Settlement receipts: «Полный расчет» when goods are handed over after a prepayment.

``kassa.settle(order)`` (or the ``order_shipped`` signal) adds it once per order,
on the register that printed the prepayment. It waits (``held``) until the
prepayment receipt is ``done`` and is released automatically then; refunds
made before it are left out of it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .. import statements
from ..enums import Intent, PaymentMethod, ReceiptKind, ReceiptState
from ..errors import InvalidOrder
from ..models import utcnow
from ..receipts import build_settlement
from ..routing import Route
from .create import add_receipt, unbuildable
from .pending import unmark_for_dispatch
from .plans import Plan
from .records import latest

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["WAITING", "create_settlement", "release_waiting", "settlement_builder"]

log = logging.getLogger("flask_komtet.outbox")
S = ReceiptState
WAITING = "Ждет выполнения чека предоплаты"
_LIVE = (S.QUEUED.value, S.SENDING.value, S.SENT.value, S.DONE.value, S.HELD.value)


def _prepayment_sale(state: KassaState, order_ref: str) -> Any:
    return latest(state.session, state, ReceiptKind.SALE, order_ref, "")


def _is_prepayment(receipt: Any) -> bool:
    positions = (receipt.payload or {}).get("positions") or [{}]
    method = positions[0].get("payment_method")
    return bool(method) and PaymentMethod.parse(method).is_prepayment


def _refunds(state: KassaState, order_ref: str) -> list[Any]:
    Receipt = state.models.Receipt
    return state.session.scalars(
        sa.select(Receipt).where(Receipt.order_ref == order_ref, Receipt.kind == ReceiptKind.REFUND.value,
                                 Receipt.state.in_(_LIVE)).order_by(Receipt.id)
    ).all()


def settlement_builder(state: KassaState, order: Any) -> Callable[..., dict[str, Any]]:
    """The payload builder of ``order``'s settlement, from its prepayment and refunds so far."""
    sale = _prepayment_sale(state, order.ref)
    refunds = _refunds(state, order.ref)
    prepaid = (sale.total if sale is not None else Decimal(0)) - sum((r.total or Decimal(0) for r in refunds),
                                                                    Decimal(0))
    refund_lines = [json.loads(r.order_data or "{}").get("refund_lines") for r in refunds]

    def build(settings: Any, external_id: str, callback: str | None, cashier: Any) -> dict[str, Any]:
        return build_settlement(order, settings, external_id=external_id, prepaid=prepaid, refunds=refund_lines,
                                callback_url=callback, cashier=cashier)

    return build


def create_settlement(state: KassaState, shop_order: Any) -> Any:
    """Add the settlement receipt of an order sold as a prepayment; ``None`` if it needs none."""
    try:
        order = state.adapt(shop_order)
    except InvalidOrder as exc:
        return unbuildable(state, ReceiptKind.SETTLEMENT, Intent.SELL, shop_order, exc)
    sale = _prepayment_sale(state, order.ref)
    if sale is not None and sale.state in _LIVE and not _is_prepayment(sale):
        log.info("order %s was sold with a full settlement: no settlement receipt needed", order.ref)
        return None
    plan = Plan(ReceiptKind.SETTLEMENT, Intent.SELL, order.ref, "", order.region, order.to_dict(),
                 settlement_builder(state, order))
    if sale is None or sale.state not in _LIVE or sale.register is None:
        route = Route(None, False, f"Нет чека предоплаты для заказа {order.ref}: закрывать нечего")
    else:
        route = Route(sale.register, False, f"Касса «{sale.register.name}» (№{sale.register.id}): касса чека предоплаты")
    receipt = add_receipt(state, plan, route, when=date.today())
    if receipt.state == S.QUEUED.value and sale is not None and sale.state != S.DONE.value:
        receipt.state, receipt.last_error = S.HELD.value, f"{WAITING} {sale.external_id}"
        unmark_for_dispatch(state.session, state.dispatcher, receipt)
    return receipt


def release_waiting(state: KassaState, session: Any, order_ref: str) -> list[int]:
    """Queue the settlements that waited for this order's prepayment receipt; returns their ids."""
    Receipt = state.models.Receipt
    stamp = utcnow()
    released = session.connection().execute(statements.release_waiting(Receipt.__table__, WAITING),
                                            {"b_order_ref": order_ref, "b_stamp": stamp}).rowcount
    if not released:
        return []
    return list(session.scalars(sa.select(Receipt.id).where(
        Receipt.order_ref == order_ref, Receipt.kind == ReceiptKind.SETTLEMENT.value,
        Receipt.state == S.QUEUED.value, Receipt.next_attempt_at == stamp)).all())
