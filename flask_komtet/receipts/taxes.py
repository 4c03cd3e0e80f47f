"""Tax cross-checks: which VAT rate goes with which tax system, and which rate is in force on a day.

* 5 % and 7 % (5/105, 7/107) are the rates of УСН payers over the VAT threshold
  (НК РФ art. 164 p. 8, in force from 2025-01-01); any other tax system with them is an error.
* 20 % (20/120) is the general rate up to 2025-12-31; from 2026-01-01 it is 22 % (22/122)
  (НК РФ art. 164 p. 3 as amended by law 425-ФЗ of 28.11.2025). A new settlement takes the
  rate in force on its date; a follow-up (a refund) keeps the rate of the receipt it follows
  (ФНС letter of 15.12.2025 № АБ-4-20/11248@), so it is checked against that receipt's date.

Each check returns a Russian message (``None`` when all is well); :func:`check_rate` raises
:class:`~flask_komtet.errors.InvalidOrder` naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from ..enums import TaxSystem, VatRate
from ..errors import InvalidOrder
from .settings import ReceiptSettings

__all__ = ["USN", "USN_RATES", "check_rate", "rate_date_problem", "register_tax_problems", "tax_system_problem"]

USN = frozenset({TaxSystem.SIMPLIFIED_IN, TaxSystem.SIMPLIFIED_IN_OUT})
USN_RATES = frozenset({VatRate.RATE_5, VatRate.RATE_7, VatRate.RATE_105, VatRate.RATE_107})

_RATE_22_FROM = date(2026, 1, 1)
#: plain rate -> (the first day it is no longer in force, the rate in force from then)
_ENDED: Mapping[VatRate, tuple[date, VatRate]] = {VatRate.RATE_20: (_RATE_22_FROM, VatRate.RATE_22)}
#: plain rate -> (the first day it is in force, the rate in force before)
_STARTED: Mapping[VatRate, tuple[date, VatRate]] = {VatRate.RATE_22: (_RATE_22_FROM, VatRate.RATE_20)}


def _percent(rate: VatRate) -> str:
    """«20%» or «20/120» as the shop owner writes it."""
    return f"{rate.plain.percent}/{100 + rate.plain.percent}" if rate.is_calculated else f"{rate.percent}%"


def tax_system_problem(rate: VatRate, tax_system: TaxSystem) -> str | None:
    """5 %/7 % (5/105, 7/107) with a tax system other than УСН."""
    if rate in USN_RATES and tax_system not in USN:
        return (f"ставка НДС {_percent(rate)} применяется только при УСН (НК РФ ст. 164 п. 8), "
                f"а система налогообложения — {tax_system.label}")
    return None


def rate_date_problem(rate: VatRate, on: date | None, *, follow_up: bool = False) -> str | None:
    """A rate no longer in force on ``on`` (``None``: no date known, nothing to check), naming the rate that is.

    A rate not yet in force on ``on`` is refused only for a ``follow_up`` (a refund must
    carry the rate of the receipt it follows, in force on that receipt's date); a new
    receipt for an old payment (a late receipt) is the shop's call.
    """
    if on is None:
        return None
    ended, started = _ENDED.get(rate.plain), _STARTED.get(rate.plain)
    if ended is not None and on >= ended[0]:
        now = ended[1].calculated if rate.is_calculated else ended[1]
        return (f"ставка НДС {_percent(rate)} не действует с {ended[0]:%d.%m.%Y}: на {on:%d.%m.%Y} "
                f"действует ставка {_percent(now)}")
    if follow_up and started is not None and on < started[0]:
        then = started[1].calculated if rate.is_calculated else started[1]
        return (f"ставка НДС {_percent(rate)} действует с {started[0]:%d.%m.%Y}, а чек следует за расчетом "
                f"от {on:%d.%m.%Y}: на ту дату действовала ставка {_percent(then)}")
    return None


def check_rate(rate: VatRate, settings: ReceiptSettings, field: str) -> None:
    """Raise :class:`InvalidOrder` naming ``field`` if ``rate`` may not go on a receipt with ``settings``
    (its tax system, ``receipt_date`` and ``follow_up``)."""
    problem = tax_system_problem(rate, settings.tax_system) or rate_date_problem(
        rate, settings.receipt_date, follow_up=settings.follow_up)
    if problem:
        raise InvalidOrder(problem, field=field)


def _parsed(enum: Any, value: Any) -> Any:
    try:
        return None if value in (None, "") else enum.parse(value)
    except ValueError:
        return None  # an unreadable value gets its own message from the field's validator


def register_tax_problems(register: Any, *, today: date | None = None) -> dict[str, str]:
    """A register's tax settings that no receipt could carry, as ``{field: message}``.

    Checks the default VAT and the delivery VAT with the tax system, and the same after
    the scheduled change (``next_tax_system``/``next_vat`` from ``tax_change_date``).
    With ``today`` also checks that the rate receipts get today and on the change date
    is in force then (the admin form passes it; the model does not, so stored data never
    depends on the clock).
    """
    problems: dict[str, str] = {}
    tax = _parsed(TaxSystem, getattr(register, "tax_system", None))
    vat = _parsed(VatRate, getattr(register, "vat", None))
    delivery = _parsed(VatRate, getattr(register, "delivery_vat", None))
    next_tax = _parsed(TaxSystem, getattr(register, "next_tax_system", None))
    next_vat = _parsed(VatRate, getattr(register, "next_vat", None))
    change_on: date | None = getattr(register, "tax_change_date", None)
    if tax is None:
        return problems
    if change_on is None or (next_tax is None and next_vat is None):
        change_on = None  # no scheduled change
    scheduled = change_on is not None
    later_tax = next_tax if scheduled and next_tax is not None else tax
    later_vat = next_vat if scheduled and next_vat is not None else vat
    changed_field = "next_vat" if next_vat is not None else "next_tax_system"
    checks: list[tuple[str, VatRate | None, TaxSystem, str]] = [
        ("vat", vat, tax, ""), ("delivery_vat", delivery, tax, "")]
    if change_on is not None:
        day = f"с {change_on:%d.%m.%Y}: "
        checks += [(changed_field, later_vat, later_tax, day), ("delivery_vat", delivery, later_tax, day)]
    for field, rate, system, prefix in checks:
        problem = tax_system_problem(rate, system) if rate is not None else None
        if problem and field not in problems:
            problems[field] = _capital(prefix + problem)
    if today is not None:
        changed = change_on is not None and today >= change_on
        in_force_now = later_vat if changed else vat
        field_now = changed_field if changed else "vat"
        if in_force_now is not None and field_now not in problems:
            problem = rate_date_problem(in_force_now, today)
            if problem:
                problems[field_now] = _capital(f"сегодня {problem}")
        if change_on is not None and change_on > today and later_vat is not None and changed_field not in problems:
            problem = rate_date_problem(later_vat, change_on)
            if problem:
                problems[changed_field] = _capital(f"с {change_on:%d.%m.%Y}: {problem}")
    return problems


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
