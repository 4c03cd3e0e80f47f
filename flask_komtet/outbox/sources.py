"""What a follow-up receipt follows: the sale or settlement it returns, and what earlier refunds took.

A receipt counts while it is on its way or done (``held``, ``queued``,
``sending``, ``sent``, ``done``); one that ``failed`` or ended in ``error`` was
never fiscalized and counts for nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ..enums import PaymentMethod, PaymentType, ReceiptKind, ReceiptState
from ..orders import Order, Payment
from ..receipts.followups import Refunded, Sold, indexed, refunded, sale_indices
from ..receipts.marks import line_of

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["LIVE", "NOTES", "Source", "hold_order", "is_prepayment", "live", "order_data", "positions_of", "refund_source",
           "refunded_before", "refunded_quantities", "refunds_total", "sold_on",
           "stored_order"]

S = ReceiptState
LIVE = (S.HELD.value, S.QUEUED.value, S.SENDING.value, S.SENT.value, S.DONE.value)


def live(state: KassaState, kind: ReceiptKind, order_ref: str) -> list[Any]:
    """The order's receipts of ``kind`` that count, oldest first."""
    Receipt = state.models.Receipt
    return list(state.session.scalars(
        sa.select(Receipt).where(Receipt.order_ref == order_ref, Receipt.kind == kind.value,
                                 Receipt.state.in_(LIVE)).order_by(Receipt.id)
    ).all())


def order_data(receipt: Any) -> dict[str, Any]:
    try:
        data = json.loads(receipt.order_data or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


#: What the outbox adds to a receipt's stored order beside the order itself.
NOTES = ("refund_lines", "correction", "indices", "refund_of")


def stored_order(receipt: Any) -> Order:
    """The order a receipt was built from (``Receipt.order_data`` without the outbox's notes).

    Raises :class:`InvalidOrder` (or ``TypeError``) when it cannot be read back.
    """
    data = order_data(receipt)
    for key in NOTES:
        data.pop(key, None)
    return Order.from_dict(data)


def positions_of(receipt: Any) -> Sold | None:
    """A receipt's positions as sent, keyed by order line; ``None`` without a payload."""
    payload = receipt.payload
    if not payload or not payload.get("positions"):
        return None
    data = order_data(receipt)
    positions = payload["positions"]
    indices = data.get("indices")
    if not isinstance(indices, list) or len(indices) != len(positions):
        indices = sale_indices(data, len(positions))
    return indexed(positions, indices)


def is_prepayment(receipt: Any) -> bool:
    positions = (receipt.payload or {}).get("positions") or [{}]
    method = positions[0].get("payment_method")
    return bool(method) and PaymentMethod.parse(method).is_prepayment


def sold_on(receipt: Any) -> date:
    """The day a receipt's sale took place: its order's ``paid_at``, else the day the receipt was made."""
    paid_at = order_data(receipt).get("paid_at")
    if isinstance(paid_at, str):
        try:
            return date.fromisoformat(paid_at[:10])
        except ValueError:
            pass
    return receipt.created_at.date() if receipt.created_at else date.today()


def _paid(receipt: Any) -> list[Payment]:
    """How the buyer paid for a receipt (offsets of a prepayment left out)."""
    payments = (receipt.payload or {}).get("payments") or []
    return [Payment(p["type"], Decimal(str(p["sum"]))) for p in payments
            if p.get("type") != PaymentType.PREPAYMENT.value]


@dataclass(frozen=True)
class Source:
    """The receipt a refund returns: its positions, how it was paid, and the day of the sale."""

    receipt: Any
    sold: Sold
    paid: Sequence[Payment]
    day: date
    settled: bool


def hold_order(state: KassaState, order_ref: str) -> None:
    """Lock the order's sale receipts until the transaction ends (``FOR UPDATE``; PostgreSQL and the like).

    Two refunds of one order in concurrent transactions are then counted one after the other, so
    together they never pass what was sold. SQLite has no row locks: there, two refunds committed at
    the very same moment may each be checked without the other.
    """
    Receipt = state.models.Receipt
    state.session.execute(sa.select(Receipt.id).where(Receipt.order_ref == order_ref,
                                                      Receipt.kind == ReceiptKind.SALE.value).with_for_update())


def refund_source(state: KassaState, order_ref: str) -> Source | None:
    """The settlement of the order if one counts (goods handed over), else its sale; ``None`` if neither."""
    sales = [r for r in live(state, ReceiptKind.SALE, order_ref) if r.payload_json]
    if not sales:
        return None
    sale = sales[-1]
    settlements = [r for r in live(state, ReceiptKind.SETTLEMENT, order_ref) if r.payload_json]
    followed = settlements[-1] if settlements else sale
    sold = positions_of(followed)
    if sold is None:
        return None
    paid = _paid(followed) or _paid(sale)
    settled_on = followed.created_at.date() if followed.created_at else date.today()  # the shipment day
    return Source(followed, sold, paid, sold_on(sale) if followed is sale else settled_on, followed is not sale)


def refunded_before(state: KassaState, order_ref: str, source: Source | None, *, event_key: str) -> Refunded:
    """What the order's refunds that count returned of ``source``'s positions (this event's own left out).

    After a settlement only the refunds made since count: the settlement left
    out what was returned before it.
    """
    refunds = [r for r in live(state, ReceiptKind.REFUND, order_ref) if r.event_key != event_key]
    if source is not None and source.settled:
        refunds = [r for r in refunds if r.id > source.receipt.id]
    return refunded(sold for sold in (positions_of(r) for r in refunds) if sold is not None)


def refunded_quantities(state: KassaState, order_ref: str) -> dict[Any, Decimal]:
    """How much of each order line the order's refunds that count returned so far (``index -> quantity``)."""
    refunds = (positions_of(r) for r in live(state, ReceiptKind.REFUND, order_ref))
    lines: dict[Any, Decimal] = {}
    for index, (quantity, _) in refunded(r for r in refunds if r is not None).items():
        lines[line_of(index)] = lines.get(line_of(index), Decimal(0)) + quantity  # a marked line's units add up
    return lines


def refunds_total(state: KassaState, order_ref: str) -> Decimal:
    return sum((r.total or Decimal(0) for r in live(state, ReceiptKind.REFUND, order_ref)), Decimal(0))

