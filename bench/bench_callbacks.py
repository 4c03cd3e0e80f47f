"""Callback throughput: KOMTET's success callbacks handled per second vs a bare Flask endpoint.

Both run in one app on the same threaded werkzeug server; a keep-alive client posts signed
``done`` callbacks (each for its own sent receipt) or the same bodies to ``/bare``.
Run: python bench/bench_callbacks.py
"""

from __future__ import annotations

import http.client
import json
import statistics
import tempfile
import time
from pathlib import Path

import _common  # noqa: F401
import sqlalchemy as sa
from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy

from flask_komtet import KomtetKassa
from flask_komtet.models import utcnow
from flask_komtet.signing import sign
from tests.live_server import LateApp, LiveServer
from tests.shop_fixtures import make_order

COUNT = 1000
RUNS = 5
GOAL = 0.5


def _wal(connection, _record) -> None:  # type: ignore[no-untyped-def]
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")


def main() -> None:
    late = LateApp()
    with LiveServer(late) as server:
        app = Flask("callbacks")
        app.config.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{Path(tempfile.mkdtemp()) / 'cb.sqlite'}",
                          KOMTET_KASSA_PUBLIC_URL=server.url, KOMTET_KASSA_DISPATCH="worker")
        db = SQLAlchemy(app)
        kassa = KomtetKassa(app, db=db)
        with app.app_context():  # a production-like SQLite: WAL, fsync at checkpoints
            sa.event.listen(db.engine, "connect", _wal)

        @app.post("/bare")
        def bare() -> str:
            request.get_data()
            return "OK"

        late.app = app
        with app.app_context():
            db.create_all()
            register = kassa.models.CashRegister(name="Москва", region="msk", shop_id="bench", secret="secret",
                                                 queue_id=1, vat="22", payment_address="https://shop.example")
            db.session.add(register)
            db.session.commit()
            receipts = [kassa.fiscalize(make_order(f"cb-{n}")) for n in range(COUNT * RUNS)]
            db.session.commit()
            for n, receipt in enumerate(receipts):
                receipt.state, receipt.task_id, receipt.sent_at = "sent", n + 1, utcnow()
            db.session.commit()
            external_ids = [r.external_id for r in receipts]
            path = f"/komtet/{register.id}/success"
        url = server.url + path
        bodies = [json.dumps({"id": n + 1, "external_id": ext, "state": "done", "error_description": None,
                              "fiscal_data": {"fn": "9999078900001234", "i": str(n), "fp": "1234567890",
                                              "t": "20261122T1530", "s": "1060.00", "n": 1}}).encode()
                  for n, ext in enumerate(external_ids)]
        signed = [(body, sign("secret", "POST", url, body)) for body in bodies]

        def rate(target: str, items: list[tuple[bytes, str]]) -> float:
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            started = time.perf_counter()
            for body, signature in items:
                connection.request("POST", target, body=body, headers={
                    "Content-Type": "application/json", "X-HMAC-Signature": signature})
                response = connection.getresponse()
                response.read()
                assert response.status == 200, response.status
            connection.close()
            return len(items) / (time.perf_counter() - started)

        ours, bare_rates = [], []
        for run in range(RUNS):
            batch = signed[run * COUNT:(run + 1) * COUNT]
            bare_rates.append(rate("/bare", batch))
            ours.append(rate(path, batch))
        with app.app_context():
            Receipt = kassa.models.Receipt
            done = db.session.scalar(db.select(db.func.count()).select_from(Receipt).where(Receipt.state == "done"))
            db.engine.dispose()
    ours_m, bare_m = statistics.median(ours), statistics.median(bare_rates)
    print(f"  webhook: {ours_m:,.0f} callbacks/s; bare Flask endpoint: {bare_m:,.0f} requests/s; "
          f"receipts done: {done}/{COUNT * RUNS}")
    print(f"callbacks: {ours_m / bare_m:.2f}x a bare Flask endpoint on the same server (goal {GOAL}x), "
          f"medians of {RUNS} runs x {COUNT}")


if __name__ == "__main__":
    main()
