"""Money rules of the shop: kopeck rounding, delivery options. Pure functions, ``Decimal`` only."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["DELIVERY", "Delivery", "KOPECK", "line_total", "rubles"]

KOPECK = Decimal("0.01")


def rubles(value: Decimal) -> Decimal:
    """Round to kopecks, half up, as a cashier does."""
    return value.quantize(KOPECK, ROUND_HALF_UP)


def line_total(price: Decimal, quantity: Decimal) -> Decimal:
    """Price × quantity in kopecks (0,350 кг × 4 800,00 ₽ = 1 680,00 ₽)."""
    return rubles(price * quantity)


@dataclass(frozen=True)
class Delivery:
    code: str
    label: str
    price: Decimal
    receipt_name: str


DELIVERY: dict[str, Delivery] = {
    d.code: d
    for d in (
        Delivery("pickup", "Самовывоз из магазина — бесплатно", Decimal("0.00"), ""),
        Delivery("courier", "Курьером — 350,00 ₽", Decimal("350.00"), "Доставка курьером"),
    )
}
