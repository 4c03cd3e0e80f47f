"""What needs a person now, for «Сводка», ``flask komtet check --attention`` and the worker's alert.

One aggregate query over the receipts in the outbox's waiting states (the
``state`` index: done and failed receipts are never read) and one over the
registers:

``held``        receipts waiting for a manual send (the register does not auto-fiscalize)
``settlement``  settlement receipts («Полный расчет») of prepaid orders still waiting, for
                longer than ``POLL_AFTER``, for their prepayment receipt to be done
``no_answer``   receipts ``sent`` with no answer from KOMTET for longer than ``POLL_AFTER``
``not_sending`` receipts due for longer than ``POLL_AFTER`` that no sender picked up
                (the worker or the dispatcher is not running)
``passive``     active registers whose KOMTET queue is passive (receipts wait in the outbox)

:class:`AttentionWatch` sends :data:`~flask_komtet.signals.receipts_need_attention`
when an item appears or grows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import signals
from ..enums import ReceiptKind, ReceiptState
from ..models import utcnow

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["AttentionItem", "AttentionReport", "AttentionWatch", "attention_report"]

S = ReceiptState
LABELS = {
    "held": "Чеки ждут ручной отправки",
    "settlement": "Заказы с предоплатой ждут чека полного расчета",
    "no_answer": "Чеки отправлены, но КОМТЕТ не ответил",
    "not_sending": "Чеки в очереди, но не отправляются (не запущен worker?)",
    "passive": "Очередь кассы в КОМТЕТ неактивна (passive)",
}
#: The receipts list's state filter that shows each item's receipts.
STATE_OF = {"held": S.HELD.value, "settlement": S.HELD.value, "no_answer": S.SENT.value,
            "not_sending": S.QUEUED.value}


@dataclass(frozen=True)
class AttentionItem:
    """One kind of trouble: how many, since when, and which registers (for ``passive``)."""

    key: str
    count: int
    oldest: datetime | None = None
    registers: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return LABELS[self.key]

    @property
    def state(self) -> str | None:
        return STATE_OF.get(self.key)

    def line(self, now: datetime) -> str:
        """``Чеки ждут ручной отправки: 3 (самый старый — 2 ч 5 мин назад)``."""
        text = f"{self.label}: {self.count}"
        if self.registers:
            text += f" ({', '.join(self.registers)})"
        if self.oldest is not None:
            text += f" (самый старый — {age_text(now - self.oldest)} назад)"
        return text


@dataclass(frozen=True)
class AttentionReport:
    """The non-empty items, at a moment."""

    at: datetime
    items: tuple[AttentionItem, ...] = field(default_factory=tuple)

    def __bool__(self) -> bool:
        return bool(self.items)

    def counts(self) -> dict[str, int]:
        return {item.key: item.count for item in self.items}

    def lines(self) -> list[str]:
        return [item.line(self.at) for item in self.items]


def age_text(age: timedelta) -> str:
    """A short Russian age: ``3 дн 4 ч``, ``2 ч 5 мин``, ``7 мин``."""
    minutes = max(0, int(age.total_seconds() // 60))
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days} дн {hours} ч"
    if hours:
        return f"{hours} ч {minutes} мин"
    return f"{minutes} мин"


def attention_report(state: KassaState, register_id: int | None = None, *, session: Any = None,
                     now: datetime | None = None) -> AttentionReport:
    """What needs a person now (two queries), for all registers or one."""
    session = session or state.session
    now = now or utcnow()
    stale = now - timedelta(seconds=state.config.poll_after)
    c = state.models.Receipt.__table__.c
    settle = c.kind == ReceiptKind.SETTLEMENT.value
    conditions = {
        "held": (sa.and_(c.state == S.HELD.value, ~settle), c.created_at),
        "settlement": (sa.and_(c.state == S.HELD.value, settle, c.created_at < stale), c.created_at),
        "no_answer": (sa.and_(c.state == S.SENT.value, c.sent_at < stale), c.sent_at),
        "not_sending": (sa.and_(c.state == S.QUEUED.value, c.next_attempt_at < stale), c.next_attempt_at),
    }
    columns = []
    for condition, moment in conditions.values():
        columns += [sa.func.count(sa.case((condition, 1))), sa.func.min(sa.case((condition, moment)))]
    where = [c.state.in_((S.HELD.value, S.SENT.value, S.QUEUED.value))]
    if register_id is not None:
        where.append(c.register_id == register_id)
    row = session.execute(sa.select(*columns).where(*where)).one()
    items = []
    for n, key in enumerate(conditions):
        count, oldest = row[2 * n], row[2 * n + 1]
        if count:
            items.append(AttentionItem(key, int(count), _moment(oldest)))
    registers = state.models.CashRegister
    passive = session.execute(sa.select(registers.name).where(
        registers.is_active.is_(True), registers.queue_state == "passive",
        *([registers.id == register_id] if register_id is not None else [])).order_by(registers.id)).scalars().all()
    if passive:
        items.append(AttentionItem("passive", len(passive), None, tuple(passive)))
    return AttentionReport(now, tuple(items))


def _moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))  # SQLite's min() of a CASE returns text


class AttentionWatch:
    """Remembers the last report and signals ``receipts_need_attention`` when an item appears or grows."""

    def __init__(self, state: KassaState) -> None:
        self.state = state
        self.last: dict[str, int] = {}

    def check(self) -> AttentionReport:
        """Read the list now (in a session of its own); signal if something appeared or grew."""
        with self.state.app.app_context(), Session(bind=self.state.db.engine) as session:
            report = attention_report(self.state, session=session)
        counts = report.counts()
        grew = any(count > self.last.get(key, 0) for key, count in counts.items())
        self.last = counts
        if grew:
            signals.receipts_need_attention.send(self.state.app, report=report)
        return report
