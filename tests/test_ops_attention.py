"""What needs a person now: the list, ``flask komtet check --attention`` (exit 2) and the worker's signal."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from flask_komtet import signals
from flask_komtet.models import utcnow
from flask_komtet.ops import AttentionWatch, attention_report
from tests.ops_fixtures import MSK, add_registers, insert, receipt_row

POLL_AFTER = 300


def moscow(moment: datetime) -> datetime:
    """A stored (UTC) time as Moscow wall time, for ``receipt_row``."""
    return moment.replace(tzinfo=__import__("datetime").UTC).astimezone(MSK).replace(tzinfo=None)


@pytest.fixture
def shop(make_app):
    app, db, kassa = make_app(POLL_AFTER=POLL_AFTER)
    ids = add_registers(app, db, {"name": "Москва"}, {"name": "Тверь", "queue_state": "passive"},
                        {"name": "Старая", "queue_state": "passive", "is_active": False})
    return app, db, ids


def trouble(now: datetime) -> list[dict[str, Any]]:
    old, fresh = now - timedelta(seconds=POLL_AFTER * 3), now - timedelta(seconds=POLL_AFTER / 3)
    return [
        receipt_row(created=moscow(old), state="held"),
        receipt_row(created=moscow(fresh), state="held"),
        receipt_row(created=moscow(old), state="held", kind="settle", last_error="Ждет выполнения чека предоплаты x"),
        receipt_row(created=moscow(fresh), state="held", kind="settle"),  # waiting a moment: normal
        receipt_row(created=moscow(old), state="sent", sent_at=old, next_attempt_at=old),
        receipt_row(created=moscow(fresh), state="sent", sent_at=fresh, next_attempt_at=fresh),
        receipt_row(created=moscow(old), state="queued", next_attempt_at=old),
        receipt_row(created=moscow(fresh), state="queued", next_attempt_at=fresh),
        receipt_row(created=moscow(old), state="failed", error="X"),  # failures are «Сводка»'s reasons, not here
        receipt_row(created=moscow(old), state="done"),
    ]


def test_the_list_counts_each_kind_of_trouble(shop) -> None:
    app, db, ids = shop
    now = utcnow()
    insert(app, db, trouble(now))
    with app.app_context():
        report = attention_report(app.extensions["komtet_kassa"], now=now)
    assert report.counts() == {"held": 2, "settlement": 1, "no_answer": 1, "not_sending": 1, "passive": 1}
    items = {item.key: item for item in report.items}
    assert items["passive"].registers == ("Тверь",)
    assert items["held"].oldest == pytest.approx(now - timedelta(seconds=POLL_AFTER * 3), abs=timedelta(seconds=1))
    assert report.lines()[0] == "Чеки ждут ручной отправки: 2 (самый старый — 15 мин назад)"
    with app.app_context():
        only_tver = attention_report(app.extensions["komtet_kassa"], ids[1], now=now)
    assert only_tver.counts() == {"passive": 1}


def test_check_attention_prints_the_list_and_exits_2(shop) -> None:
    app, db, ids = shop
    runner = app.test_cli_runner()
    with app.app_context():
        db.session.execute(sa.update(app.extensions["komtet_kassa"].models.CashRegister).values(queue_state="active"))
        db.session.commit()
    result = runner.invoke(args=["komtet", "check", "--attention"])
    assert (result.exit_code, result.output.strip()) == (0, "Все в порядке: ничего не ждет человека.")
    insert(app, db, trouble(utcnow()))
    result = runner.invoke(args=["komtet", "check", "--attention"])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "Чеки ждут ручной отправки", "Заказы с предоплатой ждут чека полного расчета",
        "Чеки отправлены, но КОМТЕТ не ответил", "Чеки в очереди, но не отправляются (не запущен worker?)"]


def test_the_watch_signals_when_the_list_appears_or_grows(shop) -> None:
    app, db, ids = shop
    heard: list[Any] = []

    def receiver(sender: Any, report: Any, **extra: Any) -> None:
        heard.append((sender, report.counts()))

    signals.receipts_need_attention.connect(receiver)
    try:
        watch = AttentionWatch(app.extensions["komtet_kassa"])
        watch.check()
        assert heard == [(app, {"passive": 1})]  # appears
        watch.check()
        assert len(heard) == 1  # the same: no news
        old = utcnow() - timedelta(hours=2)
        insert(app, db, [receipt_row(created=moscow(old), state="held")])
        watch.check()
        assert heard[-1] == (app, {"held": 1, "passive": 1})  # grows
        insert(app, db, [receipt_row(created=moscow(old), state="held")])
        watch.check()
        assert heard[-1][1] == {"held": 2, "passive": 1}
        with app.app_context():
            Receipt = app.extensions["komtet_kassa"].models.Receipt
            db.session.execute(sa.update(Receipt).values(state="done"))
            db.session.commit()
        watch.check()
        assert len(heard) == 3  # shrinks: nothing to tell
    finally:
        signals.receipts_need_attention.disconnect(receiver)


def test_the_worker_alerts_and_serves_metrics_on_its_own_port(shop, database_url: str, tmp_path) -> None:
    """``flask komtet worker --metrics-port``, a real process: its signal when the list grows, its gauges."""
    import json
    import os
    import socket
    import subprocess
    import sys
    from pathlib import Path

    import requests

    from tests.shop_fixtures import wait_for

    app, db, ids = shop
    alerts = tmp_path / "alerts.jsonl"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = Path(__file__).resolve().parents[1]
    env = os.environ | {"OPS_DATABASE_URL": database_url, "OPS_ALERTS": str(alerts),
                        "PYTHONPATH": os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")])}
    worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "tests.ops_worker_app", "komtet", "worker",
                               "--interval", "0.1", "--poll-every", "0.2", "--metrics-port", str(port)],
                              cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        def scrape() -> str | None:
            try:
                return requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            except requests.ConnectionError:
                return None

        wait_for(lambda: alerts.exists() and alerts.read_text(), timeout=30, what="the first alert")
        assert json.loads(alerts.read_text().splitlines()[0])["counts"] == {"passive": 1}
        insert(app, db, [receipt_row(created=moscow(utcnow() - timedelta(hours=1)), state="held")])
        wait_for(lambda: len(alerts.read_text().splitlines()) == 2, timeout=30, what="the alert that it grew")
        second = json.loads(alerts.read_text().splitlines()[1])
        assert second["counts"] == {"held": 1, "passive": 1}
        assert second["lines"][0].startswith("Чеки ждут ручной отправки: 1")
        text = wait_for(scrape, timeout=30, what="the worker's metrics")
        assert 'komtet_receipts{state="held"} 1.0' in text
        assert 'komtet_receipts_need_attention{item="passive"} 1.0' in text
    finally:
        worker.terminate()
        output = worker.communicate(timeout=20)[0]
    assert "KOMTET worker stopped" in output, output
