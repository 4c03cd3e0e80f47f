"""The database away for a moment, and bodies too big or broken: a retry or a clear answer, never a loss.

The outage is real: another connection takes an exclusive lock on the receipts
table while the sender waits for KOMTET's answer, and the app's connections
give up after 200 ms (SQLite's busy timeout, PostgreSQL's ``lock_timeout``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from flask_komtet.models import utcnow
from flask_komtet.outbox import send_due
from flask_komtet.signing import sign
from tests.shop_fixtures import SECRET, add_register, make_order, wait_for
from tests.test_pipeline import emulator, receipts, shop  # noqa: F401  (fixtures)

ORDERS = 4


def _short_waits(database_url: str) -> dict[str, Any]:
    """Engine options under which a locked table fails a statement after 200 ms."""
    if database_url.startswith("sqlite"):
        return {"pool_pre_ping": True, "connect_args": {"timeout": 0.2}}
    return {"pool_pre_ping": True, "connect_args": {"options": "-c lock_timeout=200"}}


@pytest.fixture
def locked_receipts(database_url: str) -> Iterator[Any]:
    """``lock(seconds) -> thread``: hold an exclusive lock on ``komtet_receipt`` from another connection."""
    engine = sa.create_engine(database_url)
    threads = []

    def lock(seconds: float) -> threading.Thread:
        taken = threading.Event()

        def hold() -> None:
            with engine.connect() as connection:
                if engine.dialect.name == "sqlite":
                    connection.exec_driver_sql("BEGIN EXCLUSIVE")
                else:
                    connection.exec_driver_sql("LOCK TABLE komtet_receipt IN ACCESS EXCLUSIVE MODE")
                taken.set()
                time.sleep(seconds)
                connection.rollback()

        thread = threading.Thread(target=hold, daemon=True)
        thread.start()
        threads.append(thread)
        taken.wait(5)
        return thread

    yield lock
    for thread in threads:
        thread.join(10)
    engine.dispose()


def test_database_away_while_sending_loses_and_doubles_nothing(shop, emulator, database_url, locked_receipts) -> None:
    app, db, kassa = shop("worker", LEASE=1, POLL_AFTER=0,
                          flask_config={"SQLALCHEMY_ENGINE_OPTIONS": _short_waits(database_url)})
    state = app.extensions["komtet_kassa"]
    with app.app_context():  # a register whose queue was checked a moment ago, as in a running shop
        add_register(db, kassa.models, queue_state="active", queue_checked_at=utcnow())
        for n in range(ORDERS):
            kassa.fiscalize(make_order(f"70{n}"))
        db.session.commit()
    emulator.state.delay = None  # tasks are printed when the test says so
    emulator.set_faults(latency=0.6)  # KOMTET answers slowly; the table gets locked meanwhile
    failures: list[BaseException] = []

    def send() -> None:
        with app.app_context():
            try:
                send_due(state)
            except BaseException as exc:  # what the worker loop would log before trying again
                failures.append(exc)

    sender = threading.Thread(target=send)
    sender.start()
    time.sleep(0.2)  # the batch is claimed and posted; KOMTET has not answered yet
    lock = locked_receipts(1.5)
    sender.join(10)
    lock.join(10)
    assert failures and isinstance(failures[0], sa.exc.OperationalError), failures
    assert {r.state for r in receipts(app, db)} == {"sending"}  # KOMTET took them; we could not write it down
    emulator.clear_faults()

    time.sleep(1.0)  # the lease runs out
    with app.app_context():
        assert send_due(state) == ORDERS  # taken again: KOMTET says "already exists", which counts as sent
    assert {r.state for r in receipts(app, db)} == {"sent"}
    for task in emulator.tasks():
        emulator.finish_task(task.id)
    wait_for(lambda: {r.state for r in receipts(app, db)} == {"done"}, timeout=15)
    with app.app_context():
        Receipt = kassa.models.Receipt
        for receipt in db.session.scalars(sa.select(Receipt)):
            assert emulator.submissions(receipt.external_id) >= 2  # posted again …
            assert len([t for t in emulator.tasks() if t.external_id == receipt.external_id]) == 1  # … one task
            assert receipt.fn and "already_submitted" in [e.action for e in receipt.events]


def test_callback_during_an_outage_gets_503_and_lands_later(shop, emulator, database_url, locked_receipts) -> None:
    app, db, kassa = shop("sync", flask_config={"SQLALCHEMY_ENGINE_OPTIONS": _short_waits(database_url)})
    emulator.state.delay = None  # tasks wait for finish_task
    with app.app_context():
        add_register(db, kassa.models)
        kassa.fiscalize(make_order("801"))
        db.session.commit()
    wait_for(lambda: [r.state for r in receipts(app, db)] == ["sent"])
    task = emulator.tasks()[0]
    lock = locked_receipts(1.2)
    emulator.finish_task(task.id)  # KOMTET calls back at once, and again after 0.1, 0.5 and 1 s
    lock.join(10)
    wait_for(lambda: [r.state for r in receipts(app, db)] == ["done"], timeout=15)
    statuses = [c.status for c in emulator.callbacks()]
    assert 503 in statuses and statuses[-1] == 200 and 500 not in statuses


@pytest.mark.parametrize("size", [300 * 1024, 20 * 1024 * 1024])
def test_huge_callback_body_is_refused_unread(shop, emulator, size: int) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        register = add_register(db, kassa.models)
        url = state_url = app.extensions["komtet_kassa"].webhook_url(register.id)
    body = b'{"external_id": "sale-1-1", "state": "done", "pad": "' + b"x" * size + b'"}'
    response = requests.post(url, data=body, headers={"X-HMAC-Signature": sign(SECRET, "POST", state_url, body),
                                                      "Content-Type": "application/json"}, timeout=30)
    assert response.status_code == 413
    chunked = requests.post(url, data=iter([body[:1000], body[1000:]]),
                            headers={"X-HMAC-Signature": "0" * 32}, timeout=30)
    assert chunked.status_code in (403, 413)  # no length given: read up to the limit, then refused


@pytest.mark.parametrize("body", [b"", b"\x00\xff\xfe", b"{" * 10000, b'{"external_id": "' + "я".encode() * 5000 + b'"',
                                  "не json".encode("cp1251"), b'[{"state": "done"}]'])
def test_malformed_signed_bodies_get_400(shop, emulator, body: bytes) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        register = add_register(db, kassa.models)
        url = app.extensions["komtet_kassa"].webhook_url(register.id)
    response = requests.post(url, data=body, headers={"X-HMAC-Signature": sign(SECRET, "POST", url, body)}, timeout=10)
    assert response.status_code == 400, response.text
