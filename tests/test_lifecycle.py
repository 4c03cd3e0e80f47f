"""Prepayment then settlement, refunds in between, and VAT that changes on a date — over the emulator."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from flask_komtet import signals
from flask_komtet.errors import InvalidOrder
from flask_komtet.receipts import RefundLine
from tests.shop_fixtures import add_register, make_order, wait_for
from tests.test_pipeline import emulator, receipts, shop, state_of  # noqa: F401  (fixtures)


def prepayment_register(db, kassa, **fields):
    return add_register(db, kassa.models, payment_method="pre_payment_full", settlement_scheme="two", **fields)


def payloads(emulator) -> dict[str, dict]:
    return {t.external_id: t.payload for t in emulator.tasks()}


def test_prepayment_then_settlement(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    order = make_order("9001", lines=2)
    with app.app_context():
        prepayment_register(db, kassa)
        kassa.fiscalize(order)
        db.session.commit()
    wait_for(lambda: state_of(app, db, "sale-9001-1") == "done")
    with app.app_context():
        signals.order_shipped.send(app, order=order)
        assert kassa.settle(order).external_id == "settle-9001-1"  # exactly once
        db.session.commit()
    wait_for(lambda: state_of(app, db, "settle-9001-1") == "done")
    sent = payloads(emulator)
    prepaid, settled = sent["sale-9001-1"], sent["settle-9001-1"]
    assert {p["payment_method"] for p in prepaid["positions"]} == {"pre_payment_full"}
    assert {p["vat"] for p in prepaid["positions"]} == {"122"}
    assert {(p["payment_method"], p["payment_object"], p["vat"]) for p in settled["positions"]} == {
        ("full_payment", "product", "22")}
    assert settled["payments"] == [{"sum": sum(p["sum"] for p in prepaid["payments"]), "type": "prepayment"}]


def test_settlement_with_a_remainder(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    order = make_order("9002", lines=2)
    with app.app_context():
        prepayment_register(db, kassa)
        kassa.fiscalize(order)
        db.session.commit()
    wait_for(lambda: state_of(app, db, "sale-9002-1") == "done")
    bigger = order.replace(lines=list(order.lines) + [make_order("x", lines=1).lines[0]])  # added at hand-over
    with app.app_context():
        kassa.settle(bigger)
        db.session.commit()
    wait_for(lambda: state_of(app, db, "settle-9002-1") == "done")
    settled = payloads(emulator)["settle-9002-1"]
    kinds = {p["type"]: p["sum"] for p in settled["payments"]}
    assert kinds["prepayment"] == sum(p["sum"] for p in payloads(emulator)["sale-9002-1"]["payments"])
    assert kinds["card"] == Decimal("350.00")
    assert sum(kinds.values()) == sum(p["total"] for p in settled["positions"])


def test_settlement_waits_for_the_prepayment_receipt(shop, emulator) -> None:
    app, db, kassa = shop("worker")
    order = make_order("9003")
    with app.app_context():
        prepayment_register(db, kassa)
        kassa.fiscalize(order)
        settlement = kassa.settle(order)
        db.session.commit()
        assert settlement.state == "held" and "предоплаты" in settlement.last_error
        kassa.send_pending()
    wait_for(lambda: state_of(app, db, "sale-9003-1") == "done")
    with app.app_context():
        kassa.send_pending()
    wait_for(lambda: state_of(app, db, "settle-9003-1") == "done")


def test_settlement_of_a_partly_refunded_order(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    order = make_order("9004", lines=3)
    with app.app_context():
        prepayment_register(db, kassa)
        kassa.fiscalize(order)
        db.session.commit()
    wait_for(lambda: state_of(app, db, "sale-9004-1") == "done")
    with app.app_context():
        refund = kassa.refund(order, [RefundLine(1)], ref="ret-1")
        db.session.commit()
        refund_id = refund.external_id
    wait_for(lambda: state_of(app, db, refund_id) == "done")
    with app.app_context():
        kassa.settle(order)
        db.session.commit()
    wait_for(lambda: state_of(app, db, "settle-9004-1") == "done")
    sent = payloads(emulator)
    names = [p["name"] for p in sent["settle-9004-1"]["positions"]]
    assert names == [order.lines[0].name, order.lines[2].name]
    prepaid = sum(p["sum"] for p in sent["sale-9004-1"]["payments"]) - sum(p["sum"] for p in sent[refund_id]["payments"])
    assert sent["settle-9004-1"]["payments"] == [{"sum": prepaid, "type": "prepayment"}]


def test_one_receipt_scheme_needs_no_settlement(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    order = make_order("9005")
    with app.app_context():
        add_register(db, kassa.models, payment_method="advance", settlement_scheme="single")
        kassa.fiscalize(order)
        db.session.commit()
    wait_for(lambda: state_of(app, db, "sale-9005-1") == "done")
    assert {p["payment_method"] for p in payloads(emulator)["sale-9005-1"]["positions"]} == {"full_payment"}
    with app.app_context():
        assert kassa.settle(order) is None


def test_refund_after_settlement_refunds_settled_positions(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    order = make_order("9006")
    with app.app_context():
        prepayment_register(db, kassa)
        kassa.fiscalize(order)
        db.session.commit()
    wait_for(lambda: state_of(app, db, "sale-9006-1") == "done")
    with app.app_context():
        kassa.settle(order)
        db.session.commit()
    wait_for(lambda: state_of(app, db, "settle-9006-1") == "done")
    with app.app_context():
        kassa.refund(order)
        db.session.commit()
    wait_for(lambda: state_of(app, db, "refund-9006-all-1") == "done")
    refund = payloads(emulator)["refund-9006-all-1"]
    assert {(p["payment_method"], p["vat"]) for p in refund["positions"]} == {("full_payment", "22")}


def test_vat_change_crossing_its_date(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    change = date(2026, 1, 1)  # the real one: 20 % is not in force from this day, 22 % is (НК РФ art. 164 p. 3)
    with app.app_context():
        add_register(db, kassa.models, vat="20", next_vat="22", tax_change_date=change)
        before = make_order("9007", paid_at=datetime.combine(change - timedelta(days=1), datetime.min.time()))
        after = make_order("9008", paid_at=datetime.combine(change, datetime.min.time()))
        before = before.replace(lines=[type(line)(line.name, line.price, line.quantity)
                                       for line in before.lines])
        after = after.replace(lines=[type(line)(line.name, line.price, line.quantity) for line in after.lines])
        kassa.fiscalize(before)
        kassa.fiscalize(after)
        db.session.commit()
    wait_for(lambda: state_of(app, db, "sale-9008-1") == "done")
    sent = payloads(emulator)
    assert {p["vat"] for p in sent["sale-9007-1"]["positions"]} == {"20"}
    assert {p["vat"] for p in sent["sale-9008-1"]["positions"]} == {"22"}


def test_correction_receipts_of_each_kind(shop, emulator) -> None:
    from flask_komtet import outbox

    app, db, kassa = shop("sync")
    emulator.fail_external_ids(r"^correction-9010-.*-sellCorrection-1$", "Ошибка открытия чека")
    with app.app_context():
        add_register(db, kassa.models)
        first = kassa.correct(make_order("9010"), intent="sellCorrection", correction_type="self",
                              base_date=date(2026, 11, 20))
        second = kassa.correct(make_order("9010"), intent="sellReturnCorrection", correction_type="instruction",
                               base_date=date(2026, 11, 21), base_number="ПР-17")
        db.session.commit()
        ids = first.external_id, second.external_id
    wait_for(lambda: state_of(app, db, ids[1]) == "done" and state_of(app, db, ids[0]) == "error")
    sent = payloads(emulator)
    assert sent[ids[0]]["intent"] == "sellCorrection"
    assert sent[ids[0]]["correction_info"] == {"type": "self", "base_date": "20.11.2026"}
    assert sent[ids[1]]["correction_info"] == {"type": "instruction", "base_date": "21.11.2026", "base_number": "ПР-17"}
    with app.app_context():
        state = app.extensions["komtet_kassa"]
        again = outbox.resend(state, db.session.get(kassa.models.Receipt, first.id))
        db.session.commit()
        again_id = again.external_id
    wait_for(lambda: state_of(app, db, again_id) == "done")
    assert payloads(emulator)[again_id]["correction_info"] == sent[ids[0]]["correction_info"]


def test_a_correction_komtet_would_refuse_is_refused_naming_the_field(shop) -> None:
    app, db, kassa = shop()
    with app.app_context():
        add_register(db, kassa.models)
        with pytest.raises(InvalidOrder) as refused:
            kassa.correct(make_order("9020"), intent="sellCorrection", correction_type="instruction",
                          base_date=date.today() + timedelta(days=1))
        assert set(refused.value.errors) == {"base_number", "base_date"}
        assert "номер предписания" in refused.value.errors["base_number"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(kassa.models.Receipt)) == 0
