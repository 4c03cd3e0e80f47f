"""A cash register's tax settings in force today and the scheduled change, as the register screens show them.

Read from :func:`flask_komtet.routing.register_settings`, the function that
builds every receipt, for today and for the day on the other side of the change
date; nothing here decides which value applies on a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from markupsafe import Markup

from ..receipts import ReceiptSettings
from ..routing import register_settings

__all__ = ["TaxSchedule"]

_DAY = timedelta(days=1)


@dataclass(frozen=True)
class TaxSchedule:
    """``now``: the settings receipts get today. ``other``: those on the far side of ``change_on``.

    A change still to come: ``other`` holds from ``change_on``. A change already
    in force (``change_on`` ≤ today): ``other`` held until the day before it.
    """

    now: ReceiptSettings
    change_on: date | None = None
    other: ReceiptSettings | None = None
    upcoming: bool = False

    @classmethod
    def of(cls, register: Any, today: date | None = None) -> TaxSchedule:
        """The schedule of ``register`` as of ``today``; ``ValueError`` if a stored value is not valid."""
        today = today or date.today()
        now = register_settings(register, today)
        change_on = register.tax_change_date
        if change_on is None:
            return cls(now)
        upcoming = change_on > today
        other = register_settings(register, change_on if upcoming else change_on - _DAY)
        return cls(now, change_on, other, upcoming)

    def column(self, name: str) -> Markup:
        """One setting (``"vat"`` or ``"tax_system"``) for a list cell: «НДС 20% → с 01.01.2026: НДС 22%»."""
        now = getattr(self.now, name).label
        other = getattr(self.other, name).label if self.other is not None else now
        if other == now:
            return Markup("{}").format(now)
        day = f"{self.change_on:%d.%m.%Y}"
        if self.upcoming:
            return Markup('{} <small class="text-muted text-nowrap komtet-tax-next">→ с {}: {}</small>').format(
                now, day, other)
        return Markup('{} <small class="text-muted text-nowrap komtet-tax-since">(с {}, до этого {})</small>').format(
            now, day, other)

    def sentence(self) -> str:
        """«Сейчас действует: ОСН, НДС 20%; с 01.01.2026: ОСН, НДС 22%» (or since when the current ones hold)."""
        now = f"Сейчас действует: {_both(self.now)}"
        if self.other is None or _both(self.other) == _both(self.now):
            return now
        day = f"{self.change_on:%d.%m.%Y}"
        if self.upcoming:
            return f"{now}; с {day}: {_both(self.other)}"
        return f"{now} (с {day}; до этого: {_both(self.other)})"


def _both(settings: ReceiptSettings) -> str:
    return f"{settings.tax_system.label}, {settings.vat.label}"
