"""Template filters: rubles, quantities and dates the Russian way. Registered in ``create_app``."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask import Flask, current_app

from flask_komtet.moments import format_local

__all__ = ["init_app", "quantity", "rub"]

NBSP = "\u00a0"


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
    """A naive UTC time in the shop's zone (``KOMTET_KASSA_TIMEZONE``), zone named: «22.11.2026 14:05 MSK»."""
    return format_local(value, current_app.config.get("KOMTET_KASSA_TIMEZONE", "Europe/Moscow"), seconds=False)


def init_app(app: Flask) -> None:
    app.add_template_filter(rub)
    app.add_template_filter(quantity)
    app.add_template_filter(moment)
