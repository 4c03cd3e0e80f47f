"""Helpers to build a shop with registers, orders and the emulator for end-to-end tests."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any, Callable

from flask_komtet import Customer, Order, OrderLine, Payment

SHOP_ID, SECRET, QUEUE = "shop-1", "secret-1", 1


def add_register(db: Any, models: Any, *, region: str = "msk", name: str | None = None, shop_id: str = SHOP_ID,
                 secret: str = SECRET, queue_id: int = QUEUE, **fields: Any) -> Any:
    values = dict(tax_system=0, vat="22", payment_method="full_payment", payment_address="https://shop.test")
    register = models.CashRegister(name=name or f"Касса {region}", region=region, shop_id=shop_id, secret=secret,
                                   queue_id=queue_id, **(values | fields))
    db.session.add(register)
    db.session.commit()
    return register


def make_order(ref: str = "1001", region: str = "msk", *, lines: int = 2, online: bool = True, **extra: Any) -> Order:
    items = [OrderLine(f"Чай №{i}", Decimal("350.00") + i, Decimal(i % 3 + 1), vat="22") for i in range(lines)]
    total = sum((line.price * line.quantity for line in items), Decimal(0))
    payments = extra.pop("payments", None) or [Payment("card" if online else "cash", total)]
    return Order(ref=ref, region=region, customer=Customer(email="buyer@example.com"), lines=items,
                 payments=payments, **extra)


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll ``condition`` until it is truthy; fail loudly on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {condition}")
        time.sleep(interval)
