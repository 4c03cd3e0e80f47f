"""A marking code is sold once until it is returned (pure checks over the stored receipts).

:func:`guarded`: a sale whose code another order sold and has not returned (its sale or settlement
counts, each of its refunds carrying the code takes one off) is a ``failed`` receipt naming the code and
that order (``lines[0].marks[1]``); nothing is sent. Receipts are found by the code's JSON text in their
stored payloads (as sent: ASCII-escaped JSON, GS as ``\\u001d``), only for orders with codes.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ..enums import ReceiptKind
from ..errors import InvalidOrder
from ..marks import GS
from ..orders import Order
from .plans import Plan
from .sources import LIVE

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["guarded", "sold_elsewhere"]

_SELLING = (ReceiptKind.SALE.value, ReceiptKind.SETTLEMENT.value)


def sold_elsewhere(state: KassaState, order: Order) -> InvalidOrder | None:
    """The error for the first code of ``order`` that another order sold and has not returned, if any."""
    Receipt = state.models.Receipt
    for i, line in enumerate(order.lines):
        for j, mark in enumerate(line.marks):
            text = json.dumps(mark.code)  # '"…"' with GS as \u001d, as the payload was stored
            rows = state.session.execute(
                sa.select(Receipt.order_ref, Receipt.kind, Receipt.external_id)
                .where(Receipt.order_ref != order.ref, Receipt.state.in_(LIVE),
                       Receipt.payload_json.contains(text, autoescape=True))
                .order_by(Receipt.id)).all()
            balance: dict[str, int] = {}
            for ref, kind, _ in rows:
                balance[ref] = balance.get(ref, 0) + (1 if kind in _SELLING else -1 if kind == ReceiptKind.REFUND.value else 0)
            holders = [ref for ref, count in balance.items() if count > 0]
            if holders:
                shown = mark.code.replace(GS, "<GS>")
                return InvalidOrder(f"код маркировки {shown} уже продан (заказ {holders[0]}) и не возвращен: "
                                    "один код нельзя продать дважды", field=f"lines[{i}].marks[{j}]")
    return None


def guarded(state: KassaState, plan: Plan, order: Order) -> Plan:
    """``plan``, or one that fails naming a code sold by another order and not returned."""
    if not any(line.marks for line in order.lines):
        return plan
    problem = sold_elsewhere(state, order)
    if problem is None:
        return plan

    def refuse(*args: Any) -> dict[str, Any]:
        raise problem

    return replace(plan, build=refuse)


