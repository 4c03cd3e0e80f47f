"""Checkout cost: the shop's "mark paid" request (20-line order) with the extension vs without it.

The request is what a payment provider's notification handler does: load the order with its lines,
check the paid amount against the order total, mark it paid, commit, answer JSON.
Three variants of one small shop, each on its own SQLite file, timed round-robin:

* ``bare``      only that (no receipts at all);
* ``komtet``    the same plus ``signals.order_paid`` (receipt row in the same commit; the default
                ``thread`` dispatcher sends it to the emulator in the background);
* ``sdk-sync``  the way KOMTET's own modules work: builds a Check with the official komtet-kassa-sdk and
                sends it synchronously inside the request, against the same emulator.

The emulator answers after ``BENCH_KOMTET_LATENCY`` seconds (default 0.08, a round trip to kassa.komtet.ru;
0 for loopback speed) - the ``komtet`` variant never waits for it, ``sdk-sync`` always does.
``BENCH_DATABASE`` = ``sqlite`` (default) or ``postgresql`` (the server of ``scripts/postgres``);
``BENCH_TRANSPORT`` = ``http`` (default: a real werkzeug server, keep-alive) or ``client`` (Flask's test client);
``BENCH_DISPATCH`` = ``thread`` (default) or ``worker`` (nothing sent from the web process).

Run: python bench/bench_checkout.py
"""

from __future__ import annotations

import atexit
import contextlib
import http.client
import os
import statistics
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import _common
import sqlalchemy as sa
from _common import EmulatorProcess, interleaved
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_komtet import Customer, KomtetKassa, Order, OrderLine, signals
from flask_komtet.models import Kopecks
from tests.live_server import LiveServer

LIMIT = 1.3
LINES = 20
ORDERS = 600
WARM_UP = 40
LATENCY = os.environ.get("BENCH_KOMTET_LATENCY", "0.08")


def database_url(tmp: Path, name: str) -> str:
    """A fresh database per variant: a SQLite file, or one on the PostgreSQL server of ``scripts/postgres``."""
    if os.environ.get("BENCH_DATABASE", "sqlite") == "sqlite":
        return f"sqlite:///{tmp / name}.sqlite"
    server = subprocess.run([str(_common.ROOT / "scripts" / "postgres"), "start"], capture_output=True, text=True,
                            check=True).stdout.strip().splitlines()[-1]
    engine = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f"DROP DATABASE IF EXISTS bench_{name}"))
        connection.execute(sa.text(f"CREATE DATABASE bench_{name}"))

    def drop() -> None:
        with engine.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE IF EXISTS bench_{name} WITH (FORCE)"))
        engine.dispose()

    atexit.register(drop)
    return server.rsplit("/", 1)[0] + f"/bench_{name}"


def make_shop(tmp: Path, name: str, emulator_url: str, variant: str) -> tuple[Flask, list[int]]:
    app = Flask(name)
    app.config.update(SQLALCHEMY_DATABASE_URI=database_url(tmp, name), KOMTET_KASSA_API_URL=emulator_url,
                      KOMTET_KASSA_PUBLIC_URL="http://127.0.0.1:9", KOMTET_KASSA_DISPATCH=os.environ.get("BENCH_DISPATCH", "thread"))
    db = SQLAlchemy(app)

    class ShopOrder(db.Model):
        id = db.Column(db.Integer, primary_key=True)
        status = db.Column(db.String(16), default="new")
        email = db.Column(db.String(64))
        region = db.Column(db.String(16))

    class Item(db.Model):  # noqa: D106
        id = db.Column(db.Integer, primary_key=True)
        order_id = db.Column(db.ForeignKey(ShopOrder.id), index=True)
        name = db.Column(db.String(128))
        price = db.Column(Kopecks)
        quantity = db.Column(db.Integer)

    ShopOrder.items = db.relationship(Item, lazy="selectin", order_by=Item.id)

    def adapter(order: ShopOrder) -> Order:
        return Order(ref=str(order.id), region=order.region, customer=Customer(email=order.email),
                     lines=[OrderLine(i.name, i.price, i.quantity, vat=22) for i in order.items])

    kassa = KomtetKassa()
    if variant == "komtet":
        kassa.init_app(app, db=db, order_adapter=adapter)
    with app.app_context():
        db.create_all()
        if variant == "komtet":
            db.session.add(kassa.models.CashRegister(
                name="Москва", region="msk", shop_id="bench", secret="secret", queue_id=1, vat="22",
                payment_method="full_payment", payment_address="https://shop.example"))
        ids = []
        for _ in range(ORDERS):
            order = ShopOrder(email="buyer@example.com", region="msk")
            db.session.add(order)
            db.session.flush()
            db.session.add_all(Item(order_id=order.id, name=f"Чай №{n}", price=Decimal("350.00") + n, quantity=n % 3 + 1)
                               for n in range(LINES))
            ids.append(order.id)
        db.session.commit()

    sdk = None
    if variant == "sdk-sync":
        from komtet_kassa_sdk.v2 import (
            Check,
            Client,
            Intent,
            PaymentMethod,
            PaymentObject,
            Position,
            TaxSystem,
        )

        sdk = Client("bench", "secret")
        sdk.set_host(emulator_url)

    @app.post("/orders/<int:order_id>/pay")
    def pay(order_id: int) -> dict[str, str]:
        order = db.session.get(ShopOrder, order_id)
        total = sum((item.price * item.quantity for item in order.items), Decimal(0))
        paid = total  # what the payment provider reports
        if paid != total or order.status == "paid":
            return {"status": "refused"}
        order.status = "paid"
        if variant == "komtet":
            signals.order_paid.send(app, order=order)
        elif variant == "sdk-sync":
            check = Check(f"sdk-{order.id}", Intent.SELL)
            check.set_client(email=order.email)
            check.set_company(payment_address="https://shop.example", tax_system=TaxSystem.COMMON)
            for item in order.items:
                line_total = item.price * item.quantity
                check.add_position(Position(name=item.name, price=item.price, quantity=item.quantity,
                                            total=line_total, vat="22", measure=0,
                                            payment_method=PaymentMethod.FULL_PAYMENT,
                                            payment_object=PaymentObject.PRODUCT))
            check.add_payment(total)
            sdk.create_task(check, 1)
        db.session.commit()
        return {"status": "paid", "total": str(total)}

    return app, ids


@contextlib.contextmanager
def _transport(app: Flask) -> Iterator[Callable[[str], int]]:
    """``post(path) -> status``: over real HTTP (a threaded werkzeug server, keep-alive) or Flask's test client."""
    if os.environ.get("BENCH_TRANSPORT", "http") == "client":
        client = app.test_client()
        yield lambda path: client.post(path).status_code
        return
    with LiveServer(app) as server:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)

        def post(path: str) -> int:
            connection.request("POST", path, body=b"", headers={"Content-Length": "0"})
            response = connection.getresponse()
            response.read()
            return response.status

        yield post
        connection.close()


def main() -> None:
    variants = ("bare", "komtet", "sdk-sync")
    where = (f"{os.environ.get('BENCH_DATABASE', 'sqlite')}, {os.environ.get('BENCH_TRANSPORT', 'http')}, "
             f"dispatch {os.environ.get('BENCH_DISPATCH', 'thread')}, KOMTET latency {LATENCY} s")
    komtet = EmulatorProcess("bench:secret:1", delay=0.05, extra=("--latency", LATENCY))
    with tempfile.TemporaryDirectory() as tmp, komtet as emulator, contextlib.ExitStack() as stack:
        shops = {v: make_shop(Path(tmp), v.replace("-", "_"), emulator.url, v) for v in variants}
        post = {v: stack.enter_context(_transport(shops[v][0])) for v in variants}
        queues = {v: iter(shops[v][1]) for v in variants}

        def request(variant: str) -> Callable[[], None]:
            def call() -> None:
                assert post[variant](f"/orders/{next(queues[variant])}/pay") == 200
            return call

        for v in variants:  # warm up
            for _ in range(WARM_UP):
                request(v)()
        samples = interleaved({v: request(v) for v in variants}, rounds=ORDERS - WARM_UP)
        medians = {v: statistics.median(s) * 1000 for v, s in samples.items()}
        app = shops["komtet"][0]
        with app.app_context():
            Receipt = app.extensions["komtet_kassa"].models.Receipt
            states = dict(app.extensions["komtet_kassa"].db.session.execute(
                sa.select(Receipt.state, sa.func.count()).group_by(Receipt.state)).all())
            app.extensions["komtet_kassa"].db.engine.dispose()
    print(f"  {ORDERS - WARM_UP} requests per variant, round-robin ({where})")
    for v in variants:
        print(f"  {v:>8}: {medians[v]:.2f} ms median per 'mark paid' request")
    print(f"  receipts of the komtet variant: {states}")
    print(f"  sending synchronously with the SDK costs {medians['sdk-sync'] / medians['bare']:.2f}x the bare request")
    ratio = medians["komtet"] / medians["bare"]
    print(f"checkout with flask_komtet: {ratio:.2f}x the bare request (limit {LIMIT}x)")


if __name__ == "__main__":
    main()
