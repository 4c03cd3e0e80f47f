"""Reconciliation: paid orders against receipts (what the in-house scripts did by hand)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .enums import ReceiptKind, ReceiptState

if TYPE_CHECKING:
    from .state import KassaState


@dataclass
class Report:
    """Orders paid without a done sale receipt, receipts without a paid order, and unfinished receipts."""

    missing: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    unfinished: list[tuple[str, str]] = field(default_factory=list)
    checked_orders: int | None = None

    @property
    def ok(self) -> bool:
        return not (self.missing or self.orphans or self.unfinished)

    def lines(self) -> list[str]:
        out = []
        if self.checked_orders is not None:
            out.append(f"Проверено оплаченных заказов: {self.checked_orders}")
        out += [f"Нет выполненного чека для заказа {ref}" for ref in self.missing]
        out += [f"Чек для заказа {ref}, которого нет среди оплаченных" for ref in self.orphans]
        out += [f"Чек {external_id} не выполнен: {state}" for external_id, state in self.unfinished]
        out.append("Расхождений нет" if self.ok else "Есть расхождения")
        return out


def reconcile(state: KassaState, since: datetime) -> Report:
    """Compare the shop's paid orders since ``since`` (``paid_orders_loader``) with sale receipts."""
    Receipt = state.models.Receipt
    receipts = state.session.scalars(
        sa.select(Receipt).where(Receipt.created_at >= since, Receipt.kind == ReceiptKind.SALE.value)
    ).all()
    latest: dict[str, Any] = {}
    for receipt in receipts:
        if receipt.order_ref not in latest or receipt.sequence > latest[receipt.order_ref].sequence:
            latest[receipt.order_ref] = receipt
    report = Report()
    report.unfinished = sorted((r.external_id, r.state_label) for r in latest.values()
                               if r.state != ReceiptState.DONE.value)
    loader = state.paid_orders_loader
    if loader is not None:
        paid = {state.adapt(order).ref for order in loader(since)}
        report.checked_orders = len(paid)
        report.missing = sorted(ref for ref in paid if ref not in latest or latest[ref].state != ReceiptState.DONE.value)
        report.orphans = sorted(ref for ref in latest if ref not in paid)
    return report
