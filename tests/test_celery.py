"""Celery dispatch on the host's own Celery app, with a real Redis broker and a real worker."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from flask_komtet.emulator import KomtetEmulator
from tests.live_server import LateApp, LiveServer
from tests.shop_fixtures import (
    QUEUE,
    SECRET,
    SHOP_ID,
    add_register,
    make_order,
    wait_for,
)

celery = pytest.importorskip("celery", reason="the celery extra is part of the test extra")
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    found = subprocess.run([str(ROOT / "scripts" / "redis")], capture_output=True, text=True)
    if found.returncode != 0:
        pytest.fail(f"could not install redis-server:\n{found.stderr}", pytrace=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([found.stdout.strip(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no"], stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait(5)


@pytest.fixture
def celery_shop(make_app, redis_url):
    from celery.contrib.testing.worker import start_worker

    late = LateApp()
    with KomtetEmulator(delay=0.02, seed=5) as emu, LiveServer(late) as server:
        emu.add_shop(SHOP_ID, SECRET, (QUEUE,))
        celery_app = celery.Celery("shop", broker=redis_url, set_as_current=False)
        celery_app.conf.update(task_ignore_result=True, broker_connection_retry_on_startup=True)
        app, db, kassa = make_app(init=False, API_URL=emu.url, PUBLIC_URL=server.url, DISPATCH="celery",
                                  RETRY_BASE=0.05, RETRY_MAX=0.2)
        kassa.init_app(app, db=db, celery=celery_app)
        late.app = app
        with app.app_context():
            db.create_all()
            add_register(db, kassa.models)
        with start_worker(celery_app, pool="threads", concurrency=2, perform_ping_check=False, loglevel="WARNING"):
            yield app, db, kassa, emu


def _state(app, db, external_id):
    with app.app_context():
        Receipt = app.extensions["komtet_kassa"].models.Receipt
        db.session.expire_all()
        return db.session.scalar(db.select(Receipt.state).where(Receipt.external_id == external_id))


def test_paid_order_is_sent_by_a_celery_task(celery_shop) -> None:
    app, db, kassa, emu = celery_shop
    with app.app_context():
        kassa.fiscalize(make_order("c-1"))
        db.session.commit()
    wait_for(lambda: _state(app, db, "sale-c-1-1") == "done", timeout=20)
    assert emu.submissions("sale-c-1-1") == 1


def test_the_task_is_safe_to_run_twice(celery_shop) -> None:
    app, db, kassa, emu = celery_shop
    send_task = app.extensions["komtet_kassa"].celery_tasks[0]
    with app.app_context():
        receipt = kassa.fiscalize(make_order("c-2"))
        db.session.commit()
        for _ in range(3):
            send_task.delay(receipt.id)
    wait_for(lambda: _state(app, db, "sale-c-2-1") == "done", timeout=20)
    time.sleep(0.3)
    assert emu.submissions("sale-c-2-1") == 1


def test_retries_stay_with_the_outbox(celery_shop) -> None:
    app, db, kassa, emu = celery_shop
    emu.set_faults(error_rate=0.7)
    with app.app_context():
        kassa.fiscalize(make_order("c-3"))
        db.session.commit()
    wait_for(lambda: _state(app, db, "sale-c-3-1") in ("sent", "done"), timeout=30)
    emu.clear_faults()
    assert len([t for t in emu.tasks() if t.external_id == "sale-c-3-1"]) == 1
