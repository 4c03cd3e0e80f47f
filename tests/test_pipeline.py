"""Paid order → register for its region → receipt row → sent → done, exactly once, over real HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from flask_komtet import Customer, Order, signals
from flask_komtet.emulator import KomtetEmulator
from flask_komtet.models import utcnow
from tests.live_server import LateApp, LiveServer
from tests.shop_fixtures import (
    QUEUE,
    SECRET,
    SHOP_ID,
    add_register,
    make_order,
    wait_for,
)


@pytest.fixture
def emulator() -> Iterator[KomtetEmulator]:
    with KomtetEmulator(delay=0.02, seed=7) as emu:
        emu.add_shop(shop_id=SHOP_ID, secret=SECRET, queues=(QUEUE, 2))
        yield emu


@pytest.fixture
def shop(make_app, emulator):
    """``shop(dispatch=..., **config) -> (app, db, kassa)`` served on loopback so callbacks arrive."""
    servers = []

    def build(dispatch: str = "sync", **config: Any):
        late = LateApp()
        server = LiveServer(late).__enter__()
        servers.append(server)
        config.setdefault("RETRY_BASE", 0.05)
        config.setdefault("RETRY_MAX", 0.2)
        app, db, kassa = make_app(API_URL=emulator.url, PUBLIC_URL=server.url, DISPATCH=dispatch, **config)
        late.app = app
        return app, db, kassa

    yield build
    for server in servers:
        server.__exit__(None, None, None)


def receipts(app, db) -> list[Any]:
    with app.app_context():
        Receipt = app.extensions["komtet_kassa"].models.Receipt
        db.session.expire_all()
        return db.session.scalars(sa.select(Receipt).order_by(Receipt.id)).all()


def state_of(app, db, external_id: str) -> str:
    with app.app_context():
        Receipt = app.extensions["komtet_kassa"].models.Receipt
        db.session.expire_all()
        return db.session.scalar(sa.select(Receipt.state).where(Receipt.external_id == external_id))


def pay(app, db, kassa, order: Order, *, via_signal: bool = True):
    with app.app_context():
        if via_signal:
            signals.order_paid.send(app, order=order)
        else:
            kassa.fiscalize(order)
        db.session.commit()


@pytest.mark.parametrize("dispatch", ["sync", "thread", "worker"])
def test_paid_order_reaches_done_with_fiscal_data(shop, emulator, dispatch: str) -> None:
    app, db, kassa = shop(dispatch)
    with app.app_context():
        add_register(db, kassa.models)
    pay(app, db, kassa, make_order("1001"))
    if dispatch == "worker":
        assert state_of(app, db, "sale-1001-1") == "queued"
        result = CliRunner().invoke(app.cli, ["komtet", "send"], obj=_script_info(app))
        assert result.exit_code == 0, result.output
    wait_for(lambda: state_of(app, db, "sale-1001-1") == "done")
    [receipt] = receipts(app, db)
    assert receipt.fn and receipt.fd and receipt.fp and receipt.fiscal_time and receipt.task_id
    assert receipt.fiscal_data["s"] == str(receipt.total)
    [task] = emulator.tasks()
    assert task.external_id == "sale-1001-1"
    assert json.loads(receipt.payload_json) == json.loads(task.raw_body)
    actions = [e.action for e in _events(app, db, receipt.id)]
    assert actions[:2] == ["created", "sent"] and actions[-1] == "callback"


def _script_info(app):
    from flask.cli import ScriptInfo

    return ScriptInfo(create_app=lambda: app)


def _events(app, db, receipt_id: int) -> list[Any]:
    with app.app_context():
        Event = app.extensions["komtet_kassa"].models.ReceiptEvent
        return db.session.scalars(sa.select(Event).where(Event.receipt_id == receipt_id).order_by(Event.id)).all()


def test_double_signal_and_double_fiscalize_give_one_task(shop, emulator, recorded_signals) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models)
        order = make_order("1002")
        first = kassa.fiscalize(order)
        signals.order_paid.send(app, order=order)
        assert kassa.fiscalize(order) is first
        db.session.commit()
    with app.app_context():
        signals.order_paid.send(app, order=make_order("1002"))
        db.session.commit()
    wait_for(lambda: state_of(app, db, "sale-1002-1") == "done")
    emulator.wait_idle(5)
    assert len(receipts(app, db)) == 1
    assert emulator.submissions("sale-1002-1") == 1
    assert [name for name, _ in recorded_signals].count("receipt-queued") == 1
    assert [name for name, _ in recorded_signals].count("receipt-done") == 1


def test_nothing_is_queued_when_the_shop_rolls_back(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models)
        kassa.fiscalize(make_order("1003"))
        db.session.rollback()
    assert receipts(app, db) == []
    assert emulator.tasks() == []


def test_checkout_does_no_http_before_commit(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models)
        kassa.fiscalize(make_order("1004"))
        assert emulator.tasks() == []
        db.session.commit()
    assert len(emulator.tasks()) == 1


@pytest.mark.parametrize("fault", [
    {"error_rate": 0.6},
    {"drop_rate": 0.6},
    {"accept_then_timeout_rate": 0.6},
])
def test_retries_end_in_exactly_one_accepted_task(shop, emulator, fault: dict[str, float]) -> None:
    app, db, kassa = shop("worker", TIMEOUT=(1.0, 0.5), MAX_ATTEMPTS=50)
    with app.app_context():
        add_register(db, kassa.models)
        for n in range(8):
            kassa.fiscalize(make_order(f"20{n}"))
        db.session.commit()
    emulator.set_faults(**fault)
    with app.app_context():
        def drained() -> bool:
            kassa.send_pending()
            return all(r.state in ("sent", "done") for r in receipts(app, db))
        wait_for(drained, timeout=40, interval=0.05)
    emulator.clear_faults()
    for n in range(8):
        assert emulator.submissions(f"sale-20{n}-1") >= 1
        assert len([t for t in emulator.tasks() if t.external_id == f"sale-20{n}-1"]) == 1
    if "error_rate" in fault or "drop_rate" in fault:
        assert any(r.attempts > 1 for r in receipts(app, db)), "the fault never fired"


def test_passive_queue_holds_receipts_until_active(shop, emulator) -> None:
    app, db, kassa = shop("worker")
    emulator.set_queue_state(SHOP_ID, QUEUE, "passive")
    with app.app_context():
        add_register(db, kassa.models)
        kassa.fiscalize(make_order("3001"))
        db.session.commit()
        kassa.send_pending()
    [receipt] = receipts(app, db)
    assert receipt.state == "queued" and "неактивна" in receipt.last_error
    assert emulator.tasks() == []
    emulator.set_queue_state(SHOP_ID, QUEUE, "active")
    with app.app_context():
        Register = kassa.models.CashRegister
        db.session.execute(sa.update(Register).values(queue_checked_at=None))
        Receipt = kassa.models.Receipt
        db.session.execute(sa.update(Receipt).values(next_attempt_at=utcnow()))
        db.session.commit()
        kassa.send_pending()
    wait_for(lambda: state_of(app, db, "sale-3001-1") == "done")
    assert receipts(app, db)[0].attempts == 1


def test_polling_recovers_receipts_whose_callbacks_were_lost(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    emulator.set_faults(callback_loss_rate=1.0)
    with app.app_context():
        add_register(db, kassa.models)
        kassa.fiscalize(make_order("4001"))
        db.session.commit()
    emulator.wait_idle(5)
    assert state_of(app, db, "sale-4001-1") == "sent"
    with app.app_context():
        assert kassa.poll(older_than=0) == 1
    assert state_of(app, db, "sale-4001-1") == "done"
    result = CliRunner().invoke(app.cli, ["komtet", "poll", "--older-than", "0"], obj=_script_info(app))
    assert result.exit_code == 0 and "Обновлено чеков: 0" in result.output


def test_komtet_error_is_recorded_and_resend_uses_a_new_external_id(shop, emulator, recorded_signals) -> None:
    app, db, kassa = shop("sync")
    emulator.fail_external_ids(r"sale-5001-1", description="Ошибка открытия чека")
    with app.app_context():
        add_register(db, kassa.models)
        kassa.fiscalize(make_order("5001"))
        db.session.commit()
    wait_for(lambda: state_of(app, db, "sale-5001-1") == "error")
    [receipt] = receipts(app, db)
    assert receipt.last_error == "Ошибка открытия чека"
    assert ("receipt-failed", ) == tuple(n for n, _ in recorded_signals if n == "receipt-failed")
    from flask_komtet import outbox

    with app.app_context():
        state = app.extensions["komtet_kassa"]
        old = db.session.get(kassa.models.Receipt, receipt.id)
        new = outbox.resend(state, old)
        assert new.external_id == "sale-5001-2" and new.resend_of_id == old.id
        db.session.commit()
    wait_for(lambda: state_of(app, db, "sale-5001-2") == "done")
    assert state_of(app, db, "sale-5001-1") == "error"


def test_routing_primary_extra_held_and_missing(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        msk = add_register(db, kassa.models, region="msk", name="Москва", extra_regions=["tver"])
        spb = add_register(db, kassa.models, region="spb", name="Питер", auto_fiscalize=False, queue_id=2)
        kassa.fiscalize(make_order("6001", "msk"))
        kassa.fiscalize(make_order("6002", "tver"))
        kassa.fiscalize(make_order("6003", "tver", online=False))
        kassa.fiscalize(make_order("6004", "spb"))
        kassa.fiscalize(make_order("6005", "nsk"))
        db.session.commit()
        msk_id, spb_id = msk.id, spb.id
    wait_for(lambda: state_of(app, db, "sale-6002-1") == "done")
    by_ref = {r.order_ref: r for r in receipts(app, db)}
    assert by_ref["6001"].register_id == msk_id and "основной регион «msk»" in by_ref["6001"].routing
    assert by_ref["6002"].register_id == msk_id and "дополнительный регион «tver»" in by_ref["6002"].routing
    assert by_ref["6003"].state == "failed" and "только при онлайн-оплате" in by_ref["6003"].last_error
    assert by_ref["6004"].state == "held" and by_ref["6004"].register_id == spb_id
    assert "ручной отправки" in by_ref["6004"].routing
    assert by_ref["6005"].state == "failed" and "«nsk»" in by_ref["6005"].last_error
    assert {t.external_id for t in emulator.tasks()} == {"sale-6001-1", "sale-6002-1"}
    from flask_komtet import outbox

    with app.app_context():
        state = app.extensions["komtet_kassa"]
        outbox.release_held(state, db.session.get(kassa.models.Receipt, by_ref["6004"].id))
        add_register(db, kassa.models, region="nsk", name="Новосибирск")
        resent = outbox.resend(state, db.session.get(kassa.models.Receipt, by_ref["6005"].id))
        db.session.commit()
        resent_id = resent.external_id
    wait_for(lambda: state_of(app, db, "sale-6004-1") == "done")
    wait_for(lambda: state_of(app, db, resent_id) == "done")
    assert resent_id == "sale-6005-2"


def test_refund_and_top_up_receipts(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models, top_up_name="Пополнение баланса")
        order = make_order("7001", lines=3)
        kassa.fiscalize(order)
        db.session.commit()
    wait_for(lambda: state_of(app, db, "sale-7001-1") == "done")
    with app.app_context():
        whole = kassa.refund(order)
        again = kassa.refund(order)
        assert whole is again
        top_up = kassa.top_up(Customer(phone="8 (999) 123-45-67"), Decimal("500"), region="msk", ref="pay-9")
        db.session.commit()
        refund_id, top_up_id = whole.external_id, top_up.external_id
    wait_for(lambda: state_of(app, db, refund_id) == "done" and state_of(app, db, top_up_id) == "done")
    tasks = {t.external_id: t.payload for t in emulator.tasks()}
    sale, refund, topup = tasks["sale-7001-1"], tasks[refund_id], tasks[top_up_id]
    assert refund["intent"] == "sellReturn"
    assert refund["positions"] == sale["positions"] and refund["payments"] == sale["payments"]
    assert topup["intent"] == "sell" and [p["name"] for p in topup["positions"]] == ["Пополнение баланса"]
    assert topup["payments"][0]["sum"] == Decimal("500.00")
    assert topup["client"].get("phone") == "+79991234567"


def test_receiver_never_raises_into_the_payment_handler(shop, emulator, recorded_signals) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models)
        signals.order_paid.send(app, order=object())  # the default adapter cannot read this
        db.session.commit()
        [receipt] = receipts(app, db)
    assert receipt.state == "failed" and receipt.last_error
    assert any(name == "receipt-failed" for name, _ in recorded_signals)
    assert emulator.tasks() == []


def test_invalid_order_becomes_a_failed_receipt_naming_the_field(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models)
        receipt = kassa.fiscalize(make_order("8001").replace(customer=Customer()))
        db.session.commit()
        assert receipt.state == "failed"
        assert "customer" in receipt.last_error
        assert receipt.order_data  # nothing is lost: the order is kept for a re-send


def test_auth_failure_fails_at_once_with_komtet_message(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models, secret="wrong-secret")
        kassa.fiscalize(make_order("8101"))
        db.session.commit()
    [receipt] = receipts(app, db)
    assert receipt.state == "failed" and "авторизации" in receipt.last_error.lower()
    assert receipt.attempts == 1
    assert "wrong-secret" not in receipt.last_error


def test_external_id_already_submitted_counts_as_sent(shop, emulator) -> None:
    app, db, kassa = shop("worker", TIMEOUT=(1.0, 0.3))
    emulator.state.delay = None  # KOMTET keeps the task "new": no callback can settle it first
    emulator.set_faults(accept_then_timeout_rate=1.0)
    with app.app_context():
        add_register(db, kassa.models)
        kassa.fiscalize(make_order("8201"))
        db.session.commit()
        kassa.send_pending()
    assert state_of(app, db, "sale-8201-1") == "queued"
    emulator.clear_faults()
    with app.app_context():
        Receipt = kassa.models.Receipt
        db.session.execute(sa.update(Receipt).values(next_attempt_at=utcnow()))
        db.session.commit()
        kassa.send_pending()
    assert state_of(app, db, "sale-8201-1") == "sent"
    assert emulator.submissions("sale-8201-1") == 2
    assert len(emulator.tasks()) == 1
    events = [e.action for e in _events(app, db, receipts(app, db)[0].id)]
    assert "already_submitted" in events


def test_expired_lease_is_taken_again(shop, emulator) -> None:
    app, db, kassa = shop("worker", LEASE=0.01)
    with app.app_context():
        add_register(db, kassa.models)
        kassa.fiscalize(make_order("8301"))
        db.session.commit()
        Receipt = kassa.models.Receipt
        # a sender claimed it and died mid-send
        db.session.execute(sa.update(Receipt).values(state="sending", lease_token="dead",
                                                     lease_expires_at=utcnow()))
        db.session.commit()
        import time
        time.sleep(0.05)
        assert kassa.send_pending() == 1
    wait_for(lambda: state_of(app, db, "sale-8301-1") in ("sent", "done"))
    assert emulator.submissions("sale-8301-1") == 1


def test_callback_arriving_while_the_sender_waits_wins(shop, emulator, recorded_signals) -> None:
    """KOMTET accepts, calls back `done`, and only then the sender's connection breaks: done stays done."""
    app, db, kassa = shop("worker", TIMEOUT=(1.0, 2.0))
    emulator.set_faults(accept_then_timeout_rate=1.0, accept_then_timeout_delay=0.5)
    with app.app_context():
        add_register(db, kassa.models)
        kassa.fiscalize(make_order("8401"))
        db.session.commit()
        kassa.send_pending()
    emulator.clear_faults()
    [receipt] = receipts(app, db)
    assert receipt.state == "done" and receipt.fn
    actions = [e.action for e in _events(app, db, receipt.id)]
    assert "callback" in actions and "retry_late" in actions
    assert emulator.submissions("sale-8401-1") == 1
    assert [n for n, _ in recorded_signals if n != "receipt-queued"] == ["receipt-done"]


def test_registers_changed_by_another_process_are_seen_by_the_next_receipt(make_app, database_url) -> None:
    """The registers are cached per app; every receipt's INSERT returns their version, so a change
    made elsewhere (here: another connection, as the admin of another process would) is never missed."""
    app, db, kassa = make_app(DISPATCH="worker")
    other = sa.create_engine(database_url)
    with app.app_context():
        table = kassa.models.CashRegister.__table__
        add_register(db, kassa.models)
        first = kassa.fiscalize(make_order("901"))
        db.session.commit()
        assert first.register_id == 1 and first.payload["company"]["sno"] == 0
    with other.begin() as connection:  # the tax system changed elsewhere
        connection.execute(sa.update(table).values(tax_system=1, updated_at=utcnow()))
    with app.app_context():
        second = kassa.fiscalize(make_order("902"))
        assert second.payload["company"]["sno"] == 1
        db.session.commit()
    with other.begin() as connection:  # the register switched off and a new one opened elsewhere
        connection.execute(sa.update(table).values(is_active=False, updated_at=utcnow()))
        connection.execute(sa.insert(table).values(
            name="Новая касса", region="msk", extra_regions=[], shop_id=SHOP_ID, secret=SECRET, queue_id=QUEUE,
            tax_system=0, vat="22", payment_method="full_payment", payment_object="product",
            top_up_payment_method="advance", top_up_payment_object="payment", top_up_name="Пополнение",
            settlement_scheme="two", auto_fiscalize=True, print_receipt=False, internet=True,
            payment_address="https://shop.test", is_active=True, created_at=utcnow(), updated_at=utcnow()))
    with app.app_context():
        third = kassa.fiscalize(make_order("903"))
        db.session.commit()
        assert third.register_id == 2 and "Новая касса" in third.routing and third.state == "queued", third.last_error
        assert [e.to_state for e in third.events] == ["queued"]
    with other.begin() as connection:  # and removed: no register for the region
        connection.execute(sa.update(table).values(is_active=False, updated_at=utcnow()))
    with app.app_context():
        fourth = kassa.fiscalize(make_order("904"))
        db.session.commit()
        assert fourth.state == "failed" and fourth.register_id is None and "«msk»" in fourth.last_error
    other.dispose()


def test_two_notifications_at_the_same_moment_make_one_receipt(make_app) -> None:
    """Two transactions add the same order's receipt concurrently: the second INSERT waits for the first,
    skips the duplicate, and returns the row the first committed; neither shop transaction fails."""
    app, db, kassa = make_app(DISPATCH="worker")
    with app.app_context():
        add_register(db, kassa.models)
    first_added, release = threading.Event(), threading.Event()
    results: dict[str, Any] = {}

    def first() -> None:
        with app.app_context():
            results["first"] = kassa.fiscalize(make_order("951")).external_id
            first_added.set()
            release.wait(10)
            db.session.commit()

    def second() -> None:
        with app.app_context():
            first_added.wait(10)
            receipt = kassa.fiscalize(make_order("951"))  # blocks on the first one's row until it commits
            results["second"] = receipt.external_id
            db.session.commit()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)  # the second is waiting on the first's uncommitted row
    assert "second" not in results
    release.set()
    for thread in threads:
        thread.join(15)
    assert results == {"first": "sale-951-1", "second": "sale-951-1"}
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(kassa.models.Receipt)) == 1
