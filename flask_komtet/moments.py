"""Times for people: stored naive-UTC moments shown in the shop's time zone, with the zone named."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

__all__ = ["format_local", "to_local"]


def to_local(value: datetime, zone: str) -> datetime:
    """A naive UTC (or aware) ``value`` as an aware time in ``zone`` (an IANA name, e.g. ``Europe/Moscow``)."""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return aware.astimezone(ZoneInfo(zone))


def format_local(value: datetime | None, zone: str, *, seconds: bool = True) -> str:
    """``31.12.2025 14:03:07 MSK``: ``value`` in ``zone``, the zone's abbreviation (or offset) after it."""
    if value is None:
        return ""
    local = to_local(value, zone)
    return local.strftime("%d.%m.%Y %H:%M:%S %Z" if seconds else "%d.%m.%Y %H:%M %Z")
