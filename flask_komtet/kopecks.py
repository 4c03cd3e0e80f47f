"""For shops that keep money as integer kopecks: every amount the extension takes is rubles.

``Order``, ``OrderLine``, ``Payment`` and ``kassa.top_up`` take rubles
(``Decimal("650.00")`` or ``"650.00"``); a shop that stores ``65000`` kopecks
converts at the edge, never by hand::

    from flask_komtet.kopecks import line_from_kopecks, rubles_from_kopecks

    OrderLine("Чай", 65000, 2)                      # wrong: 65 000 ₽ a packet
    line_from_kopecks("Чай", 65000, 2, vat="22")    # OrderLine("Чай", Decimal("650.00"), 2, vat="22")
    Payment("card", rubles_from_kopecks(130000))    # Decimal("1300.00")
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .errors import InvalidOrder
from .orders import OrderLine

__all__ = ["line_from_kopecks", "rubles_from_kopecks"]

KOPECK = Decimal("0.01")


def rubles_from_kopecks(kopecks: int, field: str = "amount") -> Decimal:
    """``65000`` → ``Decimal("650.00")``; anything but a whole number is an ``InvalidOrder`` naming ``field``."""
    if isinstance(kopecks, bool) or not isinstance(kopecks, int):
        raise InvalidOrder(f"kopecks must be a whole number (int), not {type(kopecks).__name__} {kopecks!r}",
                           field=field)
    return (Decimal(kopecks) * KOPECK).quantize(KOPECK)


def line_from_kopecks(name: str, price: int, quantity: Decimal | int = 1, *, discount: int = 0,
                      **fields: Any) -> OrderLine:
    """An :class:`~flask_komtet.OrderLine` from a unit ``price`` and line ``discount`` in kopecks.

    ``quantity`` and the other fields (``vat``, ``payment_object``, ``measure``,
    ``sku``) are as for ``OrderLine``.
    """
    return OrderLine(name, rubles_from_kopecks(price, "price"), Decimal(quantity),
                     discount=rubles_from_kopecks(discount, "discount"), **fields)
