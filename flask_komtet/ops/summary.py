"""«Сводка»: a period's receipts per day, their sums, how long they took, and why they failed.

Three aggregate queries over the period's receipts (``created_at`` range, the
``ix_komtet_receipt_register_created`` index when a register is chosen), each
grouped in SQL; Python only folds their few result rows (days × states). The
time from creation (the payment) to ``done`` is the median and the 95th
percentile per day: ``percentile_cont`` on PostgreSQL, and on SQLite (and
others) the same linear interpolation between ranks computed with window
functions (``row_number``/``count`` over the day), still in SQL.

Money: sales are ``done`` receipts that take money (intent ``sell`` or
``sellCorrection``, but not the settlement «Полный расчет» after a
prepayment, whose money the prepayment receipt already counted); refunds are
``done`` ``sellReturn``/``sellReturnCorrection`` receipts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ..enums import Intent, ReceiptKind, ReceiptState
from .period import Period, as_day, day_of

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["DONE", "FAILED", "WAITING", "Day", "Reason", "Summary", "build_summary", "income_sign", "seconds_to_done"]

S = ReceiptState
DONE = (S.DONE.value,)
FAILED = (S.ERROR.value, S.FAILED.value)
WAITING = (S.HELD.value, S.QUEUED.value, S.SENDING.value, S.SENT.value)
INCOME = (Intent.SELL.value, Intent.SELL_CORRECTION.value)
REFUND = (Intent.SELL_RETURN.value, Intent.SELL_RETURN_CORRECTION.value)
TOP_REASONS = 10
PERCENTILES = (0.5, 0.95)


@dataclass
class Day:
    """One local day of the period."""

    day: date
    done: int = 0
    failed: int = 0
    waiting: int = 0
    sales: Decimal = Decimal("0.00")
    refunds: Decimal = Decimal("0.00")
    timed: int = 0
    p50: float | None = None
    p95: float | None = None

    @property
    def total(self) -> int:
        return self.done + self.failed + self.waiting

    @property
    def net(self) -> Decimal:
        return self.sales - self.refunds


@dataclass(frozen=True)
class Reason:
    """A failure text with how many receipts of the period ended with it."""

    state: str
    text: str
    count: int


@dataclass
class Summary:
    """Everything the period shows, per day and in total."""

    period: Period
    register_id: int | None
    days: list[Day]
    reasons: list[Reason] = field(default_factory=list)

    def _sum(self, name: str) -> Any:
        return sum((getattr(day, name) for day in self.days), Decimal(0) if name in ("sales", "refunds") else 0)

    @property
    def done(self) -> int:
        return int(self._sum("done"))

    @property
    def failed(self) -> int:
        return int(self._sum("failed"))

    @property
    def waiting(self) -> int:
        return int(self._sum("waiting"))

    @property
    def total(self) -> int:
        return self.done + self.failed + self.waiting

    @property
    def sales(self) -> Decimal:
        return Decimal(self._sum("sales"))

    @property
    def refunds(self) -> Decimal:
        return Decimal(self._sum("refunds"))

    @property
    def net(self) -> Decimal:
        return self.sales - self.refunds


def income_sign(receipts: sa.Table) -> Any:
    """SQL: +1 for a receipt that takes money, -1 for a refund, 0 otherwise (by intent and kind)."""
    c = receipts.c
    return sa.case(
        (sa.and_(c.intent.in_(INCOME), c.kind != ReceiptKind.SETTLEMENT.value), 1),
        (c.intent.in_(REFUND), -1),
        else_=0,
    )


def seconds_to_done(receipts: sa.Table, dialect: str) -> Any:
    """SQL: seconds from a receipt's creation to its ``done``."""
    c = receipts.c
    if dialect == "postgresql":
        return sa.extract("epoch", c.done_at - c.created_at)
    return (sa.func.julianday(c.done_at) - sa.func.julianday(c.created_at)) * 86400.0


def _in_period(receipts: sa.Table, period: Period, register_id: int | None) -> list[Any]:
    c = receipts.c
    where = [c.created_at >= period.start, c.created_at < period.end]
    if register_id is not None:
        where.append(c.register_id == register_id)
    return where


def build_summary(state: KassaState, period: Period, register_id: int | None = None) -> Summary:
    """The period's figures (three queries, whatever the number of receipts)."""
    table = state.models.Receipt.__table__
    connection = state.session.connection()
    days = {day: Day(day) for day in period.days}
    _count_and_sum(connection, table, period, register_id, days)
    _latency(connection, table, period, register_id, days)
    return Summary(period, register_id, list(days.values()), _reasons(connection, table, period, register_id))


def _count_and_sum(connection: Any, table: sa.Table, period: Period, register_id: int | None,
                   days: dict[date, Day]) -> None:
    c = table.c
    day = day_of(c.created_at, period, connection.dialect.name).label("day")
    kopecks = sa.type_coerce(c.total, sa.BigInteger)
    sign = income_sign(table)
    done = c.state == S.DONE.value
    query = (sa.select(day, c.state, sa.func.count(),
                       sa.func.sum(sa.case((sa.and_(done, sign == 1), kopecks), else_=0)),
                       sa.func.sum(sa.case((sa.and_(done, sign == -1), kopecks), else_=0)))
             .where(*_in_period(table, period, register_id)).group_by(day, c.state))
    for raw_day, receipt_state, count, sales, refunds in connection.execute(query):
        if raw_day is None:
            continue
        target = days.get(as_day(raw_day))
        if target is None:
            continue
        if receipt_state in DONE:
            target.done += count
        elif receipt_state in FAILED:
            target.failed += count
        else:
            target.waiting += count
        target.sales += Decimal(int(sales or 0)) / 100
        target.refunds += Decimal(int(refunds or 0)) / 100


def _latency(connection: Any, table: sa.Table, period: Period, register_id: int | None,
             days: dict[date, Day]) -> None:
    c = table.c
    dialect = connection.dialect.name
    day = day_of(c.created_at, period, dialect).label("day")
    seconds = seconds_to_done(table, dialect)
    where = [*_in_period(table, period, register_id), c.state == S.DONE.value, c.done_at.is_not(None)]
    if dialect == "postgresql":
        query = (sa.select(day, sa.func.count(), *(sa.func.percentile_cont(p).within_group(seconds) for p in PERCENTILES))
                 .where(*where).group_by(day))
    else:
        query = _ranked_percentiles(day, seconds, where)
    for raw_day, count, *values in connection.execute(query):
        target = days.get(as_day(raw_day)) if raw_day is not None else None
        if target is not None:
            target.timed = int(count)
            target.p50, target.p95 = (None if v is None else float(v) for v in values)


def _ranked_percentiles(day: Any, seconds: Any, where: list[Any]) -> Any:
    """``percentile_cont`` without it: rank each day's times, interpolate between two ranks, in SQL."""
    ranked = (sa.select(day, seconds.label("s"),
                        (sa.func.row_number().over(partition_by=day, order_by=seconds) - 1).label("rn"),
                        sa.func.count().over(partition_by=day).label("n"))
              .where(*where).subquery())
    columns = []
    for p in PERCENTILES:
        position = p * (ranked.c.n - 1)
        below = sa.cast(position, sa.Integer)
        fraction = position - below
        columns.append(sa.func.sum(sa.case(
            (ranked.c.rn == below, ranked.c.s * (1 - fraction)),
            (ranked.c.rn == below + 1, ranked.c.s * fraction),
            else_=0.0)))
    return sa.select(ranked.c.day, sa.func.max(ranked.c.n), *columns).group_by(ranked.c.day)


def _reasons(connection: Any, table: sa.Table, period: Period, register_id: int | None) -> list[Reason]:
    c = table.c
    count = sa.func.count().label("n")
    query = (sa.select(c.state, c.last_error, count)
             .where(*_in_period(table, period, register_id), c.state.in_(FAILED))
             .group_by(c.state, c.last_error).order_by(count.desc(), c.last_error).limit(TOP_REASONS))
    return [Reason(row_state, text or "Без описания", int(n)) for row_state, text, n in connection.execute(query)]
