"""Drain throughput: 2,000 queued receipts sent to the emulator.

* ours:     the outbox sender (``send_due`` batches, one pooled session, concurrent posts), with 1, 2, 4
            and 8 senders sharing one outbox (threads of one process, each with its own DB session);
* sdk:      the official komtet-kassa-sdk sending the same payloads one by one (``Client.create_task``);
* limit:    a minimal keep-alive client posting pre-signed bodies (what the emulator itself sustains).

The emulator runs in its own process. Database: a SQLite file, or ``BENCH_DATABASE_URL`` (PostgreSQL).
Run: python bench/bench_drain.py
"""

from __future__ import annotations

import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from _common import EmulatorProcess
from bench_emulator import minimal_client_rate
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_komtet import KomtetKassa
from flask_komtet.outbox import send_due
from tests.shop_fixtures import make_order

RECEIPTS = 2000
RUNS = 3


def make_app(url: str, emulator_url: str) -> tuple[Flask, SQLAlchemy, KomtetKassa]:
    app = Flask("drain")
    app.config.update(SQLALCHEMY_DATABASE_URI=url, KOMTET_KASSA_API_URL=emulator_url, KOMTET_KASSA_DISPATCH="worker",
                      KOMTET_KASSA_PUBLIC_URL="http://127.0.0.1:9")
    db = SQLAlchemy(app)
    kassa = KomtetKassa(app, db=db)
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.add(kassa.models.CashRegister(name="Москва", region="msk", shop_id="bench", secret="secret",
                                                 queue_id=1, vat="22", payment_method="full_payment",
                                                 payment_address="https://shop.example"))
        db.session.commit()
    return app, db, kassa


def queue(app: Flask, db: SQLAlchemy, kassa: KomtetKassa, tag: str) -> list[bytes]:
    with app.app_context():
        receipts = [kassa.fiscalize(make_order(f"{tag}-{n}", lines=3)) for n in range(RECEIPTS)]
        db.session.commit()
        return [r.payload_json.encode() for r in receipts]


def drain(app: Flask, senders: int) -> float:
    state = app.extensions["komtet_kassa"]

    def run() -> None:
        with app.app_context():
            while send_due(state, limit=100):
                pass

    threads = [threading.Thread(target=run) for _ in range(senders)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return RECEIPTS / (time.perf_counter() - started)


def sdk_rate(emulator_url: str, bodies: list[bytes], tag: str) -> float:
    import json
    from decimal import Decimal

    from komtet_kassa_sdk.v2 import Client

    client = Client("bench", "secret")
    client.set_host(emulator_url)
    payloads = [json.loads(body, parse_float=Decimal) | {"external_id": f"{tag}-{n}"} for n, body in enumerate(bodies)]
    started = time.perf_counter()
    for payload in payloads:
        client.create_task(payload, 1)
    return len(payloads) / (time.perf_counter() - started)


def main() -> None:
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{Path(tempfile.mkdtemp()) / 'drain.sqlite'}"
    ours: dict[int, list[float]] = {n: [] for n in (1, 2, 4, 8)}
    sdk, limit = [], []
    with EmulatorProcess("bench:secret:1") as emulator:
        app, db, kassa = make_app(url, emulator.url)
        for run in range(RUNS):
            for senders in ours:
                queue(app, db, kassa, f"r{run}s{senders}")
                ours[senders].append(drain(app, senders))
            bodies = queue(app, db, kassa, f"sdk{run}")
            sdk.append(sdk_rate(emulator.url, bodies, f"sdk{run}"))
            limit.append(max(minimal_client_rate(emulator.url, threads, RECEIPTS // threads, f"lim{run}t{threads}")
                             for threads in (1, 4)))
    medians = {n: statistics.median(v) for n, v in ours.items()}
    sdk_m, limit_m = statistics.median(sdk), statistics.median(limit)
    for n, rate in medians.items():
        print(f"  ours, {n} sender(s): {rate:,.0f} receipts/s")
    print(f"  official SDK one by one: {sdk_m:,.0f} receipts/s; minimal client (emulator limit): {limit_m:,.0f}/s")
    best = max(medians.values())
    print(f"drain: {best / sdk_m:.1f}x the official SDK (goal 3x), {best / limit_m:.0%} of the emulator limit "
          f"(goal 50%), medians of {RUNS} runs x {RECEIPTS} receipts, db={url.split(':')[0]}")


if __name__ == "__main__":
    main()
