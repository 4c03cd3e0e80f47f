"""Codes scanned into a receipt held for them (the admin's textarea, a counter sale).

* :func:`complete_marks`: a receipt ``held`` for missing codes (or, in permissive mode, their check
  results) takes codes one per unit, in the order's order of lines and units (a code already on a unit
  replaces it: a scanning app's JSON adds the check result). Complete, it is built again under its own
  external id (it was never sent) and queued; still incomplete, it stays held saying what is missing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING, Any

from ..client import dumps
from ..enums import Intent, ReceiptKind
from ..errors import InvalidOrder, MarksHeld
from ..marks import GS, Mark, parse_mark
from ..models import utcnow
from ..orders import Order
from ..receipts import receipt_total
from ..receipts.marks import units_missing
from ..routing import register_settings
from .codes import guarded
from .create import cashier_for
from .pending import mark_for_dispatch
from .plans import Plan, day, sale_plan
from .records import S, add_event, storable
from .settlement import settlement_builder
from .sources import stored_order

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["complete_marks", "waits_for_marks", "with_codes"]

def waits_for_marks(receipt: Any) -> bool:
    """A receipt held because codes (or their check results) are missing: it has no payload yet."""
    return receipt.state == S.HELD.value and not receipt.payload_json and receipt.register_id is not None


def complete_marks(state: KassaState, receipt: Any, codes: Sequence[Any], *, order: Order | None = None) -> Any:
    """Add the scanned ``codes`` (text, one per unit) to a receipt waiting for them; see the module docstring.

    Raises ``ValueError`` (nothing changes) for a receipt that does not wait for codes, a code that
    cannot be read (naming it), more codes than units without one, or a code another order sold.
    """
    if not waits_for_marks(receipt):
        raise ValueError(f"Чек {receipt.external_id} не ожидает кодов маркировки (состояние: {receipt.state_label})")
    order = order or stored_order(receipt)
    try:
        order = with_codes(order, [c for c in codes if not (isinstance(c, str) and not c.strip())])
    except InvalidOrder as exc:
        raise ValueError(str(exc)) from None
    kind = ReceiptKind.parse(receipt.kind)
    data = order.to_dict()
    when = day(order.paid_at)
    if kind is ReceiptKind.SETTLEMENT:
        when = date.today()
        plan = Plan(kind, Intent.parse(receipt.intent), order.ref, receipt.event_key, order.region, data,
                    settlement_builder(state, order, on=when, noted=data))
    else:
        plan = sale_plan(order)
        data = plan.order_data
    plan = guarded(state, plan, order)
    register = receipt.register
    try:
        payload = plan.build(register_settings(register, when), receipt.external_id,
                             state.webhook_url(register.id), cashier_for(state))
    except MarksHeld as exc:
        receipt.order_data = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        receipt.last_error = storable(exc.reason)
        add_event(state, receipt, "marks_added", S.HELD.value, S.HELD.value, receipt.last_error)
        return receipt
    except InvalidOrder as exc:
        raise ValueError(str(exc)) from None
    receipt.order_data = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    receipt.payload_json = dumps(payload).decode("utf-8")
    receipt.total = receipt_total(payload)
    receipt.state, receipt.last_error, receipt.next_attempt_at = S.QUEUED.value, None, utcnow()
    add_event(state, receipt, "marks_added", S.HELD.value, S.QUEUED.value, "коды маркировки добавлены, чек отправлен")
    mark_for_dispatch(state.session, state.dispatcher, receipt)
    return receipt


def with_codes(order: Order, codes: Sequence[Any]) -> Order:
    """``order`` with ``codes`` put on its units: a code a unit has replaces it, others fill the units without one."""
    marks = [parse_mark(code, f"codes[{n}]") for n, code in enumerate(codes)]
    lines = list(order.lines)
    fresh: list[Mark] = []
    for mark in marks:
        for i, line in enumerate(lines):
            same = [n for n, old in enumerate(line.marks) if old.code == mark.code]
            if same:
                updated = list(line.marks)
                updated[same[0]] = mark
                lines[i] = replace(line, marks=tuple(updated))
                break
        else:
            fresh.append(mark)
    for i, line in enumerate(lines):
        wanted = units_missing(line, line.quantity)
        if wanted and fresh:
            lines[i] = replace(line, marks=line.marks + tuple(fresh[:wanted]))
            fresh = fresh[wanted:]
    if fresh:
        raise InvalidOrder(f"кодов больше, чем единиц без кода: лишние {len(fresh)} (первый: "
                           f"{fresh[0].code.replace(GS, '<GS>')[:60]})", field="codes")
    return order.replace(lines=tuple(lines))
