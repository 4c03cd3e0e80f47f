"""Prometheus metrics after a real pipeline run: paid orders → the emulator → callbacks over HTTP → scrape.

Served at ``{URL_PREFIX}/metrics`` with the admin's access rule, and on the worker's own port.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from flask_komtet import signals
from flask_komtet.emulator import KomtetEmulator
from flask_komtet.monitoring import serve_metrics
from tests.live_server import LateApp, LiveServer
from tests.shop_fixtures import QUEUE, SECRET, SHOP_ID, add_register, make_order, wait_for


@pytest.fixture
def emulator() -> Iterator[KomtetEmulator]:
    with KomtetEmulator(delay=0.02, seed=11) as emu:
        emu.add_shop(shop_id=SHOP_ID, secret=SECRET, queues=(QUEUE,))
        yield emu


@pytest.fixture
def served(make_app, emulator) -> Iterator[tuple[Any, Any, Any, str]]:
    late = LateApp()
    with LiveServer(late) as server:
        app, db, kassa = make_app(init=False, API_URL=emulator.url, PUBLIC_URL=server.url, DISPATCH="sync",
                                  METRICS_PATH="/metrics")
        allowed = {"yes": True}
        kassa.init_app(app, db=db, admin_access=lambda: allowed["yes"])
        app.config["ALLOWED"] = allowed
        with app.app_context():
            db.create_all()
        late.app = app
        yield app, db, kassa, server.url


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_after_a_pipeline_run(served, emulator) -> None:
    app, db, kassa, url = served
    with app.app_context():
        register = add_register(db, kassa.models)
        register_id = str(register.id)
    emulator.fail_external_ids("sale-2003-1", "Касса: неверная ставка НДС")
    with app.app_context():
        for ref in ("2001", "2002", "2003"):
            kassa.fiscalize(make_order(ref))
        kassa.fiscalize(make_order("2004", region="nowhere"))  # no register: failed at once
        db.session.commit()
    Receipt = app.extensions["komtet_kassa"].models.Receipt

    def finished() -> bool:
        with app.app_context():
            db.session.expire_all()
            return db.session.query(Receipt).filter(Receipt.state.in_(("done", "error", "failed"))).count() == 4

    wait_for(finished, what="four receipts final")
    assert requests.post(f"{url}/komtet/{register_id}/success", data=b"{}", timeout=5).status_code == 401  # unsigned
    response = requests.get(f"{url}/komtet/metrics", timeout=5)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    found = samples(response.text)
    assert value(found, "komtet_receipts_created_total", kind="sale", register=register_id) == 3
    assert value(found, "komtet_receipts_created_total", kind="sale", register="none") == 1
    assert value(found, "komtet_receipts_sent_total", kind="sale", register=register_id) == 3
    assert value(found, "komtet_receipts_done_total", kind="sale", register=register_id) == 2
    assert value(found, "komtet_receipts_failed_total", kind="sale", register=register_id, state="error") == 1
    assert value(found, "komtet_receipts_failed_total", kind="sale", register="none", state="failed") == 1
    assert value(found, "komtet_send_errors_total", register="none") == 1
    assert value(found, "komtet_callback_errors_total", status="401") == 1
    assert value(found, "komtet_receipt_seconds_to_done_count") == 2
    with app.app_context():
        done = db.session.query(Receipt).filter(Receipt.state == "done").all()
        seconds = sum((r.done_at - r.created_at).total_seconds() for r in done)
    assert value(found, "komtet_receipt_seconds_to_done_sum") == pytest.approx(seconds, abs=0.01)
    assert value(found, "komtet_receipts", state="queued") == 0
    # A held receipt shows in the gauges read from the database (whoever scrapes).
    with app.app_context():
        register = db.session.get(kassa.models.CashRegister, int(register_id))
        register.auto_fiscalize = False
        db.session.commit()
        kassa.fiscalize(make_order("2005"))
        db.session.commit()
    found = samples(requests.get(f"{url}/komtet/metrics", timeout=5).text)
    assert value(found, "komtet_receipts", state="held") == 1
    assert value(found, "komtet_receipts_need_attention", item="held") == 1
    app.config["ALLOWED"]["yes"] = False
    assert requests.get(f"{url}/komtet/metrics", timeout=5).status_code == 403


def test_the_workers_own_port_serves_the_same_gauges(served) -> None:
    app, db, kassa, url = served
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = serve_metrics(app.extensions["komtet_kassa"], port)
    try:
        with app.app_context():
            add_register(db, kassa.models, auto_fiscalize=False)
            kassa.fiscalize(make_order("3001"))
            db.session.commit()
        worker = samples(requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text)
        web = samples(requests.get(f"{url}/komtet/metrics", timeout=5).text)
        assert value(worker, "komtet_receipts", state="held") == value(web, "komtet_receipts", state="held") == 1
    finally:
        server.shutdown()


def test_metrics_are_off_unless_configured(make_app) -> None:
    app, db, kassa = make_app()
    assert app.test_client().get("/komtet/metrics").status_code == 404
    assert not signals.receipt_queued.has_receivers_for(app)
