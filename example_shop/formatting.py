"""Template filters: rubles, quantities and dates the Russian way. Registered in ``create_app``."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Flask

__all__ = ["init_app", "quantity", "rub"]

NBSP = "\u00a0"
MOSCOW = ZoneInfo("Europe/Moscow")


def rub(value: Decimal | int | None) -> str:
    """``Decimal("1250")`` → «1 250,00 ₽» (non-breaking spaces)."""
    amount = Decimal(value or 0).quantize(Decimal("0.01"))
    text = f"{abs(amount):,.2f}".replace(",", NBSP).replace(".", ",")
    return f"{'−' if amount < 0 else ''}{text}{NBSP}₽"


def quantity(value: Decimal, unit: str = "шт") -> str:
    """``0.350`` кг → «0,35 кг»; ``2`` шт → «2 шт»."""
    number = Decimal(value).normalize()
    text = f"{number:f}".replace(".", ",")
    return f"{text}{NBSP}{unit}"


def moment(value: datetime | None) -> str:
    """A naive UTC time as Moscow time: «22.11.2026 14:05»."""
    if value is None:
        return ""
    return value.replace(tzinfo=UTC).astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M")


def init_app(app: Flask) -> None:
    app.add_template_filter(rub)
    app.add_template_filter(quantity)
    app.add_template_filter(moment)
