"""The УСН VAT-threshold watch: a company's income this year, fiscalized through this shop, against the threshold.

From 2026 a company on УСН pays VAT once its income of the year passes the
threshold (20 million ₽ in 2026, 15 million in 2027, 10 million from 2028;
НК РФ art. 145 as amended by law 425-ФЗ of 2025), from the 1st of the month after it
crossed: 5 % up to 272.5 million, 7 % up to 490.5 million (art. 164 p. 8).

Only what went through this shop's registers is counted: income from other
shops, marketplaces or bank transfers is not, so this is a floor, never the
whole income. Companies are told apart by the INN on their УСН registers (one
group for the registers without one); income is the year's ``done`` receipts that take
money minus refunds (see :mod:`.summary`), one query grouped by register.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ..enums import ReceiptState, TaxSystem, VatRate
from ..routing import register_settings
from .period import shop_zone, to_utc
from .summary import income_sign

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["CACHE_FOR", "RATE_5_UP_TO", "RATE_7_UP_TO", "THRESHOLDS", "WARN_AT", "CompanyWatch", "schedule_vat_change",
           "threshold_for", "threshold_watch"]

MILLION = Decimal(1_000_000)
#: The year's income above which a company on УСН pays VAT.
THRESHOLDS = {2025: 60 * MILLION, 2026: 20 * MILLION, 2027: 15 * MILLION, 2028: 10 * MILLION}
RATE_5_UP_TO = Decimal("272.5") * MILLION
RATE_7_UP_TO = Decimal("490.5") * MILLION
WARN_AT = Decimal("0.8")
#: How long «Сводка» remembers the year's income before today (seconds).
CACHE_FOR = 600.0
CACHE_KEY = "komtet_kassa_usn_income"
SIMPLIFIED = (TaxSystem.SIMPLIFIED_IN, TaxSystem.SIMPLIFIED_IN_OUT)


def threshold_for(year: int) -> Decimal | None:
    """The threshold of ``year`` (10 million from 2028 on); ``None`` before 2025."""
    if year > max(THRESHOLDS):
        return THRESHOLDS[max(THRESHOLDS)]
    return THRESHOLDS.get(year)


def first_of_next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class CompanyWatch:
    """One company (INN) on УСН: its income this year through the shop and where it stands."""

    inn: str | None
    registers: tuple[Any, ...]
    year: int
    income: Decimal
    threshold: Decimal
    today: date

    @property
    def share(self) -> Decimal:
        return self.income / self.threshold if self.threshold else Decimal(0)

    @property
    def percent(self) -> float:
        return float(round(self.share * 100, 1))

    @property
    def level(self) -> str:
        """``ok``, ``warning`` (80 % or more) or ``crossed`` (above the threshold)."""
        if self.income > self.threshold:
            return "crossed"
        return "warning" if self.share >= WARN_AT else "ok"

    @property
    def rate(self) -> VatRate | None:
        """The VAT rate due once crossed: 5 %, 7 %, or ``None`` above 490.5 million (no longer УСН)."""
        if self.income <= RATE_5_UP_TO:
            return VatRate.RATE_5
        return VatRate.RATE_7 if self.income <= RATE_7_UP_TO else None

    @property
    def change_date(self) -> date:
        """When VAT would start: the 1st of next month."""
        return first_of_next_month(self.today)

    @property
    def to_schedule(self) -> tuple[Any, ...]:
        """The registers whose VAT change is not yet scheduled (neither in force nor planned)."""
        rate = self.rate
        if rate is None:
            return ()
        return tuple(r for r in self.registers
                     if VatRate.parse(r.vat) is VatRate.NO and not (r.next_vat and r.tax_change_date))


def _company_registers(state: KassaState, today: date) -> dict[str | None, list[Any]]:
    """The registers on УСН today, by company INN (``None``: no INN entered)."""
    CashRegister = state.models.CashRegister
    companies: dict[str | None, list[Any]] = {}
    for register in state.session.scalars(sa.select(CashRegister).order_by(CashRegister.id)).all():
        if register_settings(register, today).tax_system in SIMPLIFIED:
            companies.setdefault(register.company_inn or None, []).append(register)
    return companies


def _income(state: KassaState, ids: list[int], start: datetime, end: datetime) -> dict[int, Decimal]:
    """Income (money taken minus refunds) of ``done`` receipts created in ``[start, end)``, by register."""
    table = state.models.Receipt.__table__
    c = table.c
    signed = sa.func.sum(sa.type_coerce(c.total, sa.BigInteger) * income_sign(table))
    rows = state.session.execute(
        sa.select(c.register_id, signed)
        .where(c.created_at >= start, c.created_at < end, c.state == ReceiptState.DONE.value, c.register_id.in_(ids))
        .group_by(c.register_id)).all()
    return {register_id: Decimal(int(kopecks or 0)) / 100 for register_id, kopecks in rows}


def _before_today(state: KassaState, ids: list[int], start: datetime, today_start: datetime) -> dict[int, Decimal]:
    """The year's income before today, remembered per app for :data:`CACHE_FOR` (the page's costly part)."""
    key = (ids, start, today_start)
    known = state.app.extensions.get(CACHE_KEY)
    if known is None or known[0] != key or _time.monotonic() - known[1] > CACHE_FOR:
        known = state.app.extensions[CACHE_KEY] = (key, _time.monotonic(), _income(state, ids, start, today_start))
    return dict(known[2])


def threshold_watch(state: KassaState, *, today: date | None = None, cached: bool = False) -> list[CompanyWatch]:
    """Every УСН company's standing this year (one query over the year's receipts, grouped by register).

    ``cached=True`` (the «Сводка» page) reads the days before today from a per-app
    memory of at most :data:`CACHE_FOR` seconds and only today's receipts from the
    database, so the page costs the same early and late in the year.
    """
    zone = shop_zone(state)
    today = today or datetime.now(zone).date()
    threshold = threshold_for(today.year)
    companies = _company_registers(state, today)
    if threshold is None or not companies:
        return []
    start = to_utc(datetime.combine(date(today.year, 1, 1), time()), zone)
    end = to_utc(datetime.combine(date(today.year + 1, 1, 1), time()), zone)
    ids = [r.id for registers in companies.values() for r in registers]
    if cached:
        today_start = to_utc(datetime.combine(today, time()), zone)
        income = _before_today(state, ids, start, today_start)
        for register_id, amount in _income(state, ids, today_start, end).items():
            income[register_id] = income.get(register_id, Decimal(0)) + amount
    else:
        income = _income(state, ids, start, end)
    return [CompanyWatch(inn, tuple(registers), today.year,
                         sum((income.get(r.id, Decimal(0)) for r in registers), Decimal("0.00")), threshold, today)
            for inn, registers in companies.items()]


def schedule_vat_change(state: KassaState, inn: str | None, *, today: date | None = None) -> list[Any]:
    """Once the threshold is crossed, schedule company ``inn``'s VAT rate on its registers from the 1st of next month.

    Sets ``next_vat`` and ``tax_change_date`` (the dated tax fields the
    receipts follow from that day) where no change is in force or planned;
    returns the registers changed (the caller commits).
    """
    watch = next((w for w in threshold_watch(state, today=today) if w.inn == (inn or None)), None)
    if watch is None or watch.level != "crossed" or watch.rate is None:
        return []
    changed = list(watch.to_schedule)
    for register in changed:
        register.next_vat, register.tax_change_date = watch.rate.value, watch.change_date
    return changed
