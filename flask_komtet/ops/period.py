"""A period of whole days in the shop's time zone, and the SQL that puts a stored time into its day.

Times are stored as naive UTC. A day of the shop runs from local midnight to
local midnight, so its bounds in UTC come from ``zoneinfo`` (daylight saving
included). PostgreSQL converts each row with ``AT TIME ZONE``; SQLite, which
has no time zones, shifts by the zone's offset when it is the same over the
whole period, and otherwise compares with each day's UTC bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["DEFAULT_ZONE", "Period", "as_day", "day_of", "make_period", "shop_zone", "to_utc"]

DEFAULT_ZONE = "Europe/Moscow"


def shop_zone(state: KassaState) -> ZoneInfo:
    """The shop's time zone: ``KOMTET_KASSA_TIMEZONE`` when the config has it, else Europe/Moscow."""
    name = getattr(state.config, "timezone", None) or state.app.config.get("KOMTET_KASSA_TIMEZONE") or DEFAULT_ZONE
    return name if isinstance(name, ZoneInfo) else ZoneInfo(str(name))


def to_utc(moment: datetime, zone: ZoneInfo) -> datetime:
    """A local wall-clock time (naive) as stored: naive UTC."""
    return moment.replace(tzinfo=zone).astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class Period:
    """Local days ``first``..``last`` (both included) and their bounds in stored (naive UTC) time."""

    zone: ZoneInfo
    first: date
    last: date

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def day_start(self, day: date) -> datetime:
        return to_utc(datetime.combine(day, time()), self.zone)

    @property
    def start(self) -> datetime:
        return self.day_start(self.first)

    @property
    def end(self) -> datetime:
        return self.day_start(self.last + timedelta(days=1))

    def constant_offset(self) -> timedelta | None:
        """The zone's UTC offset if it is the same at every day's start (and the end), else ``None``."""
        offsets = {datetime.combine(day, time(), self.zone).utcoffset() for day in self.days}
        offsets.add(datetime.combine(self.last + timedelta(days=1), time(), self.zone).utcoffset())
        return offsets.pop() if len(offsets) == 1 else None


def make_period(state: KassaState, days: int = 30, *, last: date | None = None) -> Period:
    """The ``days`` local days that end with ``last`` (default: today in the shop's zone)."""
    zone = shop_zone(state)
    last = last or datetime.now(zone).date()
    return Period(zone, last - timedelta(days=max(1, days) - 1), last)


def day_of(column: Any, period: Period, dialect: str) -> Any:
    """SQL for the local day of a stored time (a ``date`` on PostgreSQL, ``'YYYY-MM-DD'`` text elsewhere)."""
    if dialect == "postgresql":
        local = sa.func.timezone(period.zone.key, sa.func.timezone("UTC", column))
        return sa.cast(local, sa.Date)
    offset = period.constant_offset()
    if dialect == "sqlite" and offset is not None:
        return sa.func.date(column, f"{int(offset.total_seconds()):+d} seconds")
    whens = [(column < period.day_start(day + timedelta(days=1)), day.isoformat()) for day in period.days]
    return sa.case(*whens, else_=None)


def as_day(value: Any) -> date:
    """A day as the database returned it."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
