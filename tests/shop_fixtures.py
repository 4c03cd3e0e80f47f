"""Helpers to build a shop with registers, orders and the emulator for end-to-end tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask_komtet import Customer, Order, OrderLine, Payment
from flask_komtet.emulator import KomtetEmulator
from tests.live_server import LateApp, LiveServer

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


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05, *,
             ignoring: tuple[type[BaseException], ...] = (), what: str = "") -> Any:
    """Poll ``condition`` until it is truthy (an exception in ``ignoring`` counts as not yet); fail on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except ignoring:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s: {what or condition}")
        time.sleep(interval)


@contextmanager
def example_shop_served(tmp_path: Path, *, emulator_delay: float, seed: int, with_registers: bool = True,
                        **config: Any) -> Iterator[tuple[Any, KomtetEmulator, str]]:
    """``(app, emulator, URL)``: the example shop with its demo data on a loopback port, the emulator beside it.

    ``with_registers=False`` leaves the register list empty (the admin's browser test creates one).
    """
    from example_shop import create_app, db
    from example_shop.demo import install

    late = LateApp()
    with KomtetEmulator(delay=emulator_delay, seed=seed) as emulator, LiveServer(late) as server:
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'shop.sqlite'}", "SECRET_KEY": "test",
            "KOMTET_KASSA_API_URL": emulator.url, "KOMTET_KASSA_PUBLIC_URL": server.url,
            "KOMTET_KASSA_DISPATCH": "thread", "KOMTET_KASSA_RETRY_BASE": 0.05, "KOMTET_KASSA_RETRY_MAX": 0.2,
            "KOMTET_KASSA_EXTERNAL_ID_PREFIX": "",
            **config,
        })
        install(app, server.url, emulator if with_registers else None)
        late.app = app
        try:
            yield app, emulator, server.url
        finally:
            app.extensions["komtet_kassa"].dispatcher.stop()
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
