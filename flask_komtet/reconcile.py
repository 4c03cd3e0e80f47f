"""Reconciliation: paid orders against receipts (what the in-house scripts did by hand).

``flask komtet reconcile`` looks at the receipts made since a day (default: the
last :data:`DEFAULT_DAYS` days) and reports:

* paid orders (from the shop's ``paid_orders_loader``) without a done sale receipt;
* sale receipts of orders the shop does not list as paid, unless the order was refunded;
* receipts that did not end ``done`` (the latest attempt of each);
* orders sold as a prepayment still waiting for their settlement receipt («Полный расчет»);
* how many receipts of each kind were made.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .enums import PaymentMethod, ReceiptKind, ReceiptState
from .models import utcnow

if TYPE_CHECKING:
    from .state import KassaState

__all__ = ["DEFAULT_DAYS", "Report", "awaiting_settlement", "reconcile"]

DEFAULT_DAYS = 30
_COUNTING = (ReceiptState.HELD.value, ReceiptState.QUEUED.value, ReceiptState.SENDING.value,
             ReceiptState.SENT.value, ReceiptState.DONE.value)


@dataclass
class Report:
    """What :func:`reconcile` found; :meth:`lines` says it in Russian."""

    since: datetime | None = None
    missing: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    unfinished: list[tuple[str, str]] = field(default_factory=list)
    awaiting_settlement: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    checked_orders: int | None = None

    @property
    def ok(self) -> bool:
        return not (self.missing or self.orphans or self.unfinished or self.awaiting_settlement)

    def lines(self) -> list[str]:
        out = []
        if self.since is not None:
            out.append(f"Период: чеки с {self.since:%d.%m.%Y}")
        made = ", ".join(f"{ReceiptKind.parse(kind).label.lower()}: {n}" for kind, n in self.counts.items() if n)
        out.append(f"Чеков за период: {sum(self.counts.values())}" + (f" ({made})" if made else ""))
        if self.checked_orders is None:
            out.append("Сверка с оплаченными заказами не выполнена: не задан paid_orders_loader "
                       "(KomtetKassa(paid_orders_loader=...)); проверены только чеки")
        else:
            out.append(f"Проверено оплаченных заказов: {self.checked_orders}")
        out += [f"Нет выполненного чека для заказа {ref}" for ref in self.missing]
        out += [f"Чек продажи для заказа {ref}, которого нет среди оплаченных (и он не возвращен)"
                for ref in self.orphans]
        out += [f"Чек {external_id} не выполнен: {state}" for external_id, state in self.unfinished]
        out += [f"Заказ {ref} оплачен предоплатой и ждет чека «Полный расчет» (kassa.settle или order_shipped)"
                for ref in self.awaiting_settlement]
        out.append("Расхождений нет" if self.ok else "Есть расхождения")
        return out


def _latest(receipts: list[Any]) -> dict[tuple[str, str, str], Any]:
    """The latest attempt of each receipt event: ``(order, kind, event) -> receipt``."""
    latest: dict[tuple[str, str, str], Any] = {}
    for receipt in receipts:
        key = (receipt.order_ref, receipt.kind, receipt.event_key)
        if key not in latest or receipt.sequence > latest[key].sequence:
            latest[key] = receipt
    return latest


def _prepaid(receipt: Any) -> bool:
    positions = (receipt.payload or {}).get("positions") or []
    return bool(positions) and all(PaymentMethod.parse(p.get("payment_method")).is_prepayment for p in positions)


def awaiting_settlement(state: KassaState, since: datetime | None = None) -> list[str]:
    """Orders whose sale receipt is a prepayment that counts, with no settlement and not refunded in full."""
    Receipt = state.models.Receipt
    query = sa.select(Receipt).where(Receipt.kind.in_([ReceiptKind.SALE.value, ReceiptKind.SETTLEMENT.value,
                                                      ReceiptKind.REFUND.value]),
                                     Receipt.state.in_(_COUNTING))
    if since is not None:
        query = query.where(Receipt.order_ref.in_(
            sa.select(Receipt.order_ref).where(Receipt.created_at >= since, Receipt.kind == ReceiptKind.SALE.value)))
    by_order: dict[str, dict[str, list[Any]]] = {}
    for receipt in state.session.scalars(query.order_by(Receipt.id)).all():
        by_order.setdefault(receipt.order_ref, {}).setdefault(receipt.kind, []).append(receipt)
    waiting = []
    for ref, kinds in by_order.items():
        sales = kinds.get(ReceiptKind.SALE.value, [])
        if not sales or not _prepaid(sales[-1]) or kinds.get(ReceiptKind.SETTLEMENT.value):
            continue
        refunded = sum((r.total or Decimal(0) for r in kinds.get(ReceiptKind.REFUND.value, [])), Decimal(0))
        if refunded < (sales[-1].total or Decimal(0)):
            waiting.append(ref)
    return sorted(waiting)


def reconcile(state: KassaState, since: datetime | None = None) -> Report:
    """Compare the receipts made since ``since`` (default: :data:`DEFAULT_DAYS` days ago) with paid orders."""
    since = since or (utcnow() - timedelta(days=DEFAULT_DAYS)).replace(hour=0, minute=0, second=0, microsecond=0)
    Receipt = state.models.Receipt
    receipts = list(state.session.scalars(sa.select(Receipt).where(Receipt.created_at >= since)).all())
    report = Report(since=since)
    report.counts = dict(Counter(r.kind for r in receipts))
    latest = _latest(receipts)
    report.unfinished = sorted((r.external_id, r.state_label) for r in latest.values()
                               if r.state != ReceiptState.DONE.value)
    report.awaiting_settlement = awaiting_settlement(state, since)
    sales = {ref: r for (ref, kind, _), r in latest.items() if kind == ReceiptKind.SALE.value}
    refunded = {ref for (ref, kind, _), r in latest.items() if kind == ReceiptKind.REFUND.value
                and r.state in _COUNTING}
    loader = state.paid_orders_loader
    if loader is not None:
        paid = {state.adapt(order).ref for order in loader(since)}
        report.checked_orders = len(paid)
        report.missing = sorted(ref for ref in paid if ref not in sales or sales[ref].state != ReceiptState.DONE.value)
        report.orphans = sorted(ref for ref in sales if ref not in paid and ref not in refunded)
    return report
