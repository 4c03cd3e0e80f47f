"""The cart, kept in the signed session cookie as ``{product id: quantity}``."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import session

from .extensions import db
from .models import Product
from .pricing import line_total

__all__ = ["Cart", "CartLine"]

SESSION_KEY = "cart"


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: Decimal

    @property
    def total(self) -> Decimal:
        return line_total(self.product.price, self.quantity)


class Cart:
    """The current visitor's cart. Quantities are stored as strings (exact decimals)."""

    def __init__(self) -> None:
        self._items: dict[str, str] = dict(session.get(SESSION_KEY, {}))

    def _save(self) -> None:
        session[SESSION_KEY] = self._items

    def add(self, product: Product, quantity: Decimal) -> None:
        self.set(product, self.quantity(product) + quantity)

    def set(self, product: Product, quantity: Decimal) -> None:
        if quantity <= 0:
            self.remove(product)
            return
        self._items[str(product.id)] = str(quantity.normalize() if product.by_weight else quantity)
        self._save()

    def remove(self, product: Product) -> None:
        self._items.pop(str(product.id), None)
        self._save()

    def clear(self) -> None:
        self._items = {}
        session.pop(SESSION_KEY, None)

    def quantity(self, product: Product) -> Decimal:
        return Decimal(self._items.get(str(product.id), "0"))

    def lines(self) -> list[CartLine]:
        """The cart's lines, in the order they were added; products gone from sale drop out."""
        if not self._items:
            return []
        ids = [int(pid) for pid in self._items]
        products = {p.id: p for p in db.session.scalars(
            db.select(Product).where(Product.id.in_(ids), Product.is_active))}
        return [CartLine(products[pid], Decimal(self._items[str(pid)])) for pid in ids if pid in products]

    def __len__(self) -> int:
        """Positions in the cart (a weight counts as one)."""
        return len(self._items)

    @property
    def subtotal(self) -> Decimal:
        return sum((line.total for line in self.lines()), Decimal("0.00"))
