"""The admin's receipt list («Чеки») at 100,000 receipts against 1,000, through Flask's test client.

Each database (SQLite files) gets its receipts by a Core executemany; then
the first page and a middle page of the list (default sort: newest first,
50 rows) are fetched many times, interleaved, and the medians compared.

Run: python bench/bench_admin.py      (prints medians; the last line is the verdict)
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import _common
import sqlalchemy as sa
from flask import Flask
from flask_admin import Admin
from flask_sqlalchemy import SQLAlchemy

from flask_komtet import KomtetKassa
from flask_komtet.models import utcnow

LIMIT_MS = 300.0
LIMIT_RATIO = 1.5
ROUNDS = 40
STATES = ("done", "done", "done", "sent", "queued", "held", "error", "failed")


def make_app(path: Path, receipts: int) -> Any:
    app = Flask(f"bench{receipts}")
    app.config.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", SECRET_KEY="bench", KOMTET_KASSA_DISPATCH="worker",
                      KOMTET_KASSA_PUBLIC_URL="http://shop.test", KOMTET_KASSA_REGIONS={"msk": "Москва", "spb": "Питер"})
    db = SQLAlchemy(app)
    kassa = KomtetKassa(app, db=db, admin=Admin(app, name="Магазин"), admin_access=lambda: True)
    with app.app_context():
        db.create_all()
        models = kassa.models
        registers = [models.CashRegister(name=f"Касса {r}", region=r, shop_id="s", secret="x", queue_id=1,
                                         payment_address="https://shop.test") for r in ("msk", "spb")]
        db.session.add_all(registers)
        db.session.commit()
        fill(db, models.Receipt.__table__, [r.id for r in registers], receipts)
    return app


def fill(db: Any, table: sa.Table, registers: list[int], count: int) -> None:
    """``count`` receipts in batches of 10,000 (one executemany each)."""
    start = utcnow() - timedelta(days=30)
    payload = '{"external_id":"x","intent":"sell","positions":[],"payments":[{"type":"card","sum":1500.00}]}'
    with db.engine.begin() as connection:
        for first in range(0, count, 10_000):
            rows = []
            for i in range(first, min(first + 10_000, count)):
                state = STATES[i % len(STATES)]
                created = start + timedelta(seconds=i * 25)
                rows.append(dict(
                    external_id=f"sale-{100000 + i}-1", register_id=registers[i % 2], order_ref=str(100000 + i),
                    kind="sale", event_key="", sequence=1, intent="sell", state=state, region="msk",
                    payload_json=payload, total=1500 + i % 997, task_id=i if state in ("sent", "done") else None,
                    attempts=1, created_at=created, updated_at=created,
                    sent_at=created if state in ("sent", "done", "error") else None,
                    done_at=created if state in ("done", "error") else None,
                    last_error="Касса отклонила чек: нет бумаги" if state in ("error", "failed") else None))
            connection.execute(sa.insert(table), rows)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        apps = {n: make_app(Path(tmp) / f"receipts-{n}.sqlite", n) for n in (1_000, 100_000)}
        calls = {}
        for n, app in apps.items():
            client = app.test_client()
            pages = n // 50
            for label, url in (("first", "/admin/komtet_receipts/"),
                               ("middle", f"/admin/komtet_receipts/?page={pages // 2}")):
                assert client.get(url).status_code == 200  # warm up (templates, statement cache)

                def get(client: Any = client, url: str = url) -> None:
                    response = client.get(url)
                    assert response.status_code == 200 and response.data.count(b"komtet-state-") >= 50

                calls[f"{label} page @{n // 1000}k"] = get
        results = _common.interleaved(calls, ROUNDS)
    medians = {name: _common.median_ms(samples) for name, samples in results.items()}
    for name, value in medians.items():
        print(f"{name:>20}: {value:7.1f} ms median of {ROUNDS}")
    big = max(medians["first page @100k"], medians["middle page @100k"])
    ratio = (medians["first page @100k"] + medians["middle page @100k"]) / (
        medians["first page @1k"] + medians["middle page @1k"])
    verdict = "ok" if big < LIMIT_MS and ratio < LIMIT_RATIO else "TOO SLOW"
    print(f"admin receipt list @100k: {big:.0f} ms median (limit {LIMIT_MS:.0f} ms); "
          f"@100k / @1k = {ratio:.2f}x (limit {LIMIT_RATIO}x) — {verdict}")


if __name__ == "__main__":
    main()
