"""«Чеки заказа»: an order's lifecycle as the admin shows it, every receipt of one order ref, oldest first.

Sale (or prepayment), refunds, the settlement, corrections, and every re-send
of each: one query of the columns the table shows (the ``order_ref`` lookup
walks the leading column of the receipt's unique index), however many there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from markupsafe import Markup

from ..enums import Intent, ReceiptKind
from .base import format_moment, format_rub, state_badge

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["TimelineRow", "order_receipts"]


@dataclass(frozen=True)
class TimelineRow:
    """One receipt of the order, with what its table row shows."""

    id: int
    external_id: str
    kind: str
    intent: str
    state: str
    last_error: str | None
    total: Decimal | None
    created_at: datetime | None
    sent_at: datetime | None
    done_at: datetime | None
    resend_of_id: int | None

    @property
    def kind_label(self) -> str:
        return _label(ReceiptKind, self.kind)

    @property
    def intent_label(self) -> str:
        return _label(Intent, self.intent)

    @property
    def badge(self) -> Markup:
        return state_badge(self.state, self.last_error)

    @property
    def amount(self) -> str:
        return format_rub(self.total)

    def moment(self, name: str) -> str:
        return format_moment(getattr(self, name))


def order_receipts(state: KassaState, order_ref: str) -> list[TimelineRow]:
    """Every receipt of ``order_ref``, in creation order (the template ``komtet.order_receipts`` shows them)."""
    Receipt = state.models.Receipt
    columns = [getattr(Receipt, name) for name in TimelineRow.__dataclass_fields__]
    rows = state.session.execute(
        sa.select(*columns).where(Receipt.order_ref == order_ref).order_by(Receipt.created_at, Receipt.id))
    return [TimelineRow(*row) for row in rows]


def _label(enum: Any, value: str) -> str:
    try:
        return str(enum.parse(value).label)
    except ValueError:
        return value
