"""Follow-up receipts over the emulator: refunds and settlements from what was sold, refund caps, recovery.

The expected values come from the rules, not from the builder: a refund keeps the rate, method and
object of the receipt it returns (ФНС letter of 15.12.2025 № АБ-4-20/11248@); a settlement after a
prepayment is ``full_payment`` at the rate in force on the shipment day (22 % from 2026-01-01, НК РФ
art. 164 p. 3 as amended by 425-ФЗ); corrections follow FFD 1.2 (tag 1178 the corrected settlement's
date, tag 1179 the instruction's number).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa

from flask_komtet import Customer, Order, OrderLine, Payment, outbox
from flask_komtet.receipts import RefundLine
from tests.shop_fixtures import add_register, make_order, wait_for
from tests.test_pipeline import emulator, shop, state_of  # noqa: F401  (fixtures)

DECEMBER_2025 = datetime(2025, 12, 20, 12, 0)
NEW_YEAR = date(2026, 1, 1)


def payloads(emulator) -> dict[str, dict]:
    return {t.external_id: t.payload for t in emulator.tasks()}


def plain_order(ref: str, *, paid_at: datetime | None = None, online: bool = True, **extra) -> Order:
    """Lines without a rate of their own: they take the register's rate of the day."""
    lines = [OrderLine("Чайник", "1000.00", 1), OrderLine("Чашка", "250.00", 3)]
    kind = "card" if online else "cash"
    return Order(ref=ref, region="msk", customer=extra.pop("customer", Customer(email="buyer@example.com")),
                 lines=lines, payments=[Payment(kind, "1750.00")], paid_at=paid_at, **extra)


def changing_register(db, kassa, **fields):
    """A register at 20 % until 2025-12-31 and 22 % from 2026-01-01 (its dated settings)."""
    return add_register(db, kassa.models, vat="20", next_vat="22", tax_change_date=NEW_YEAR, **fields)


def commit(app, db, action):
    with app.app_context():
        receipt = action()
        db.session.commit()
        return receipt.external_id, receipt.state, receipt.last_error


def methods(payload) -> set[tuple[str, str, str]]:
    return {(p["payment_method"], p["payment_object"], p["vat"]) for p in payload["positions"]}


def test_a_2025_sale_refunded_in_2026_keeps_its_rate_and_method(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    order = plain_order("7001", paid_at=DECEMBER_2025)
    with app.app_context():
        changing_register(db, kassa)
    commit(app, db, lambda: kassa.fiscalize(order))
    wait_for(lambda: state_of(app, db, "sale-7001-1") == "done")
    refund_id, *_ = commit(app, db, lambda: kassa.refund(order))
    wait_for(lambda: state_of(app, db, refund_id) == "done")
    sale, refund = payloads(emulator)["sale-7001-1"], payloads(emulator)[refund_id]
    assert methods(sale) == {("full_payment", "product", "20")}
    assert methods(refund) == {("full_payment", "product", "20")}  # not today's 22
    assert [(p["name"], p["quantity"], p["total"]) for p in refund["positions"]] == [
        ("Чайник", 1, Decimal("1000.00")), ("Чашка", 3, Decimal("750.00"))]
    assert refund["intent"] == "sellReturn" and refund["payments"] == [{"sum": Decimal("1750.00"), "type": "card"}]


def test_a_2025_prepayment_is_refunded_as_a_prepayment_at_its_calculated_rate(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    order = plain_order("7002", paid_at=DECEMBER_2025)
    with app.app_context():
        changing_register(db, kassa, payment_method="advance")
    commit(app, db, lambda: kassa.fiscalize(order))
    wait_for(lambda: state_of(app, db, "sale-7002-1") == "done")
    refund_id, *_ = commit(app, db, lambda: kassa.refund(order, [RefundLine(1, Decimal(2))]))
    wait_for(lambda: state_of(app, db, refund_id) == "done")
    refund = payloads(emulator)[refund_id]
    assert methods(refund) == {("advance", "payment", "120")}  # 20/120: the prepayment's rate
    assert [(p["name"], p["quantity"], p["total"]) for p in refund["positions"]] == [("Чашка", 2, Decimal("500.00"))]


def test_a_cash_counter_sale_is_refunded_mirroring_it(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    order = plain_order("7003", online=False)
    with app.app_context():
        add_register(db, kassa.models, payment_method="advance")  # online payments would be prepayments
    commit(app, db, lambda: kassa.fiscalize(order))
    wait_for(lambda: state_of(app, db, "sale-7003-1") == "done")
    refund_id, *_ = commit(app, db, lambda: kassa.refund(order))
    wait_for(lambda: state_of(app, db, refund_id) == "done")
    sale, refund = payloads(emulator)["sale-7003-1"], payloads(emulator)[refund_id]
    assert methods(sale) == methods(refund) == {("full_payment", "product", "22")}
    assert refund["payments"] == [{"sum": Decimal("1750.00"), "type": "cash"}]
    assert refund["print"] is True and not refund.get("internet")


def test_a_prepayment_refunded_before_and_after_its_settlement(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    order = plain_order("7004")
    with app.app_context():
        add_register(db, kassa.models, payment_method="pre_payment_full", settlement_scheme="two")
    commit(app, db, lambda: kassa.fiscalize(order))
    wait_for(lambda: state_of(app, db, "sale-7004-1") == "done")
    before, *_ = commit(app, db, lambda: kassa.refund(order, [RefundLine(1, Decimal(1))], ref="before"))
    wait_for(lambda: state_of(app, db, before) == "done")
    commit(app, db, lambda: kassa.settle(order))
    wait_for(lambda: state_of(app, db, "settle-7004-1") == "done")
    after, *_ = commit(app, db, lambda: kassa.refund(order, ref="after"))
    wait_for(lambda: state_of(app, db, after) == "done")
    sent = payloads(emulator)
    assert methods(sent[before]) == {("pre_payment_full", "payment", "122")}
    assert methods(sent["settle-7004-1"]) == {("full_payment", "product", "22")}
    assert [(p["name"], p["quantity"]) for p in sent["settle-7004-1"]["positions"]] == [("Чайник", 1), ("Чашка", 2)]
    assert methods(sent[after]) == {("full_payment", "product", "22")}
    assert [(p["name"], p["quantity"], p["total"]) for p in sent[after]["positions"]] == [
        ("Чайник", 1, Decimal("1000.00")), ("Чашка", 2, Decimal("500.00"))]  # what the settlement handed over
    assert sent[after]["payments"] == [{"sum": Decimal("1500.00"), "type": "card"}]


def test_after_a_settlement_komtet_refused_the_refund_stays_a_prepayment_refund(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    emulator.fail_external_ids(r"^settle-7005-", "Ошибка открытия чека")
    order = plain_order("7005")
    with app.app_context():
        add_register(db, kassa.models, payment_method="advance", settlement_scheme="two")
    commit(app, db, lambda: kassa.fiscalize(order))
    wait_for(lambda: state_of(app, db, "sale-7005-1") == "done")
    commit(app, db, lambda: kassa.settle(order))
    wait_for(lambda: state_of(app, db, "settle-7005-1") == "error")
    refund_id, *_ = commit(app, db, lambda: kassa.refund(order))
    wait_for(lambda: state_of(app, db, refund_id) == "done")
    assert methods(payloads(emulator)[refund_id]) == {("advance", "payment", "122")}


def test_a_settlement_after_the_new_year_takes_the_new_rate_and_says_so(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    order = plain_order("7006", paid_at=DECEMBER_2025)
    with app.app_context():
        changing_register(db, kassa, payment_method="advance", settlement_scheme="two")
    commit(app, db, lambda: kassa.fiscalize(order))
    wait_for(lambda: state_of(app, db, "sale-7006-1") == "done")
    commit(app, db, lambda: kassa.settle(order))
    wait_for(lambda: state_of(app, db, "settle-7006-1") == "done")
    sent = payloads(emulator)
    assert methods(sent["sale-7006-1"]) == {("advance", "payment", "120")}
    assert methods(sent["settle-7006-1"]) == {("full_payment", "product", "22")}
    with app.app_context():
        settlement = db.session.scalar(sa.select(kassa.models.Receipt).where(
            kassa.models.Receipt.external_id == "settle-7006-1"))
        assert "НДС на дату отгрузки" in settlement.routing and "НДС 22%" in settlement.routing
        assert "НДС 20/120" in settlement.routing
    refund_id, *_ = commit(app, db, lambda: kassa.refund(order))
    wait_for(lambda: state_of(app, db, refund_id) == "done")
    assert methods(payloads(emulator)[refund_id]) == {("full_payment", "product", "22")}  # mirrors the settlement


def test_a_second_full_refund_under_another_ref_is_refused(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    order = make_order("7007")
    with app.app_context():
        add_register(db, kassa.models)
    commit(app, db, lambda: kassa.fiscalize(order))
    wait_for(lambda: state_of(app, db, "sale-7007-1") == "done")
    first, *_ = commit(app, db, lambda: kassa.refund(order, ref="r-1"))
    wait_for(lambda: state_of(app, db, first) == "done")
    second, second_state, why = commit(app, db, lambda: kassa.refund(order, ref="r-2"))
    assert second_state == "failed" and "уже возвращены" in why
    with app.app_context():
        kassa.send_pending()
    assert second not in payloads(emulator)


def test_one_then_three_of_a_line_sold_three_times_is_refused(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    order = make_order("7008", lines=3)
    assert order.lines[2].quantity == 3
    with app.app_context():
        add_register(db, kassa.models)
    commit(app, db, lambda: kassa.fiscalize(order))
    wait_for(lambda: state_of(app, db, "sale-7008-1") == "done")
    one, *_ = commit(app, db, lambda: kassa.refund(order, [{"index": 2, "quantity": 1}], ref="one"))
    wait_for(lambda: state_of(app, db, one) == "done")
    three, three_state, why = commit(app, db, lambda: kassa.refund(order, [{"index": 2, "quantity": 3}], ref="three"))
    assert three_state == "failed"
    assert "нельзя вернуть больше, чем продано: продано 3, уже возвращено 1, запрошено 3" in why
    two, *_ = commit(app, db, lambda: kassa.refund(order, [{"index": 2, "quantity": 2}], ref="two"))
    wait_for(lambda: state_of(app, db, two) == "done")
    sent = payloads(emulator)
    assert three not in sent
    line_total = sum(p["total"] for p in sent["sale-7008-1"]["positions"] if p["name"] == order.lines[2].name)
    assert sent[one]["positions"][0]["total"] + sent[two]["positions"][0]["total"] == line_total


def test_refund_lines_may_be_the_orders_own_lines_and_anything_else_fails_the_receipt(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    order = make_order("7009", lines=3)
    with app.app_context():
        add_register(db, kassa.models)
    commit(app, db, lambda: kassa.fiscalize(order))
    wait_for(lambda: state_of(app, db, "sale-7009-1") == "done")
    by_line, *_ = commit(app, db, lambda: kassa.refund(order, [order.lines[1]], ref="line"))
    wait_for(lambda: state_of(app, db, by_line) == "done")
    assert [p["name"] for p in payloads(emulator)[by_line]["positions"]] == [order.lines[1].name]
    for n, junk in enumerate(([object()], [OrderLine("Не из заказа", 1)], "0,1", [{"quantity": 1}])):
        _, junk_state, why = commit(app, db, lambda junk=junk, n=n: kassa.refund(order, junk, ref=f"junk-{n}"))
        assert junk_state == "failed" and "refund_lines" in why, (junk, why)


def test_a_failed_order_fixed_is_fiscalized_again_from_the_order_given(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    broken = plain_order("7010", customer=Customer())  # online, without email or phone
    with app.app_context():
        add_register(db, kassa.models)
    _, first_state, why = commit(app, db, lambda: kassa.fiscalize(broken))
    assert first_state == "failed" and "customer" in why
    assert commit(app, db, lambda: kassa.fiscalize(broken))[0] == "sale-7010-1"  # unchanged: nothing new
    fixed = broken.replace(customer=Customer(email="found@example.com"))
    again, *_ = commit(app, db, lambda: kassa.fiscalize(fixed))
    assert again == "sale-7010-2"
    wait_for(lambda: state_of(app, db, again) == "done")
    assert payloads(emulator)[again]["client"]["email"] == "found@example.com"
    assert commit(app, db, lambda: kassa.fiscalize(fixed))[0] == again  # exactly once from here


def test_resend_rebuilds_from_the_current_order_through_the_order_loader(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    orders = {"7011": plain_order("7011", customer=Customer())}
    with app.app_context():
        add_register(db, kassa.models)
        app.extensions["komtet_kassa"].order_loader = orders.get
    failed_id, state, _ = commit(app, db, lambda: kassa.fiscalize(orders["7011"]))
    assert state == "failed"
    orders["7011"] = orders["7011"].replace(customer=Customer(phone="+7 999 123-45-67"))
    with app.app_context():
        failed = db.session.scalar(sa.select(kassa.models.Receipt).where(kassa.models.Receipt.external_id == failed_id))
        new_id = outbox.resend(app.extensions["komtet_kassa"], failed).external_id
        db.session.commit()
    wait_for(lambda: state_of(app, db, new_id) == "done")
    assert payloads(emulator)[new_id]["client"] == {"phone": "+79991234567"}


def test_a_correction_by_instruction_follows_ffd_1_2(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    order = plain_order("7012")
    with app.app_context():
        changing_register(db, kassa)
    by_instruction, *_ = commit(app, db, lambda: kassa.correct(
        order, correction_type="instruction", base_date=date(2025, 12, 10), base_number="12-34/567",
        authorised_person=("Иванов Иван Иванович", "500100732259")))
    by_self, *_ = commit(app, db, lambda: kassa.correct(
        order, correction_type="self", base_date=date(2026, 2, 3), base_number="акт 5"))
    wait_for(lambda: state_of(app, db, by_instruction) == "done" and state_of(app, db, by_self) == "done")
    sent = payloads(emulator)
    assert sent[by_instruction]["correction_info"] == {
        "type": "instruction", "base_date": "10.12.2025", "base_number": "12-34/567"}
    assert sent[by_instruction]["authorised_person"] == {"name": "Иванов Иван Иванович", "inn": "500100732259"}
    assert {p["vat"] for p in sent[by_instruction]["positions"]} == {"20"}  # the rate on the corrected date
    assert sent[by_self]["correction_info"] == {"type": "self", "base_date": "03.02.2026"}  # no 1179 for self
    assert {p["vat"] for p in sent[by_self]["positions"]} == {"22"}
    assert "authorised_person" not in sent[by_self]


def test_a_refund_that_failed_before_komtet_is_made_again_once_the_order_is_fixed(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    order = plain_order("7013")
    with app.app_context():
        add_register(db, kassa.models, region="msk")
    commit(app, db, lambda: kassa.fiscalize(order))
    wait_for(lambda: state_of(app, db, "sale-7013-1") == "done")
    wrong = order.replace(customer=Customer())  # the shop's order lost the buyer's email: nowhere to send it
    first, first_state, why = commit(app, db, lambda: kassa.refund(wrong, [1], ref="ret"))
    assert first_state == "failed" and "customer" in why
    assert commit(app, db, lambda: kassa.refund(wrong, [1], ref="ret"))[0] == first  # the same again: nothing new
    again, *_ = commit(app, db, lambda: kassa.refund(order, [1], ref="ret"))
    assert again == first.removesuffix("-1") + "-2"
    wait_for(lambda: state_of(app, db, again) == "done")
    assert [(p["name"], p["quantity"]) for p in payloads(emulator)[again]["positions"]] == [("Чашка", 3)]


def test_a_cash_top_up_at_the_counter_is_paid_in_cash_and_printed(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models, region="msk")
    top_up, *_ = commit(app, db, lambda: kassa.top_up(Customer(email="buyer@example.com"), "500", region="msk",
                                                      ref="t-1", online=False))
    wait_for(lambda: state_of(app, db, top_up) == "done")
    payload = payloads(emulator)[top_up]
    assert payload["payments"] == [{"sum": Decimal("500.00"), "type": "cash"}]
    assert payload["print"] is True and not payload.get("internet")


def test_two_full_refunds_in_concurrent_transactions_make_one_refund(make_app, database_url) -> None:
    """PostgreSQL: the second refund waits for the first one's transaction and counts it."""
    import threading
    import time

    if not database_url.startswith("postgresql"):
        return  # SQLite has no row locks (docs/receipts.md)
    app, db, kassa = make_app(DISPATCH="worker")
    order = make_order("7020")
    with app.app_context():
        add_register(db, kassa.models)
        kassa.fiscalize(order)
        db.session.commit()
    first_added, release = threading.Event(), threading.Event()
    results: dict[str, tuple[str, str]] = {}

    def refund(name: str, wait: threading.Event | None, hold: threading.Event | None) -> None:
        with app.app_context():
            if wait is not None:
                wait.wait(10)
            receipt = kassa.refund(order, ref=name)
            if hold is not None:
                first_added.set()
                hold.wait(10)
            db.session.commit()
            results[name] = (receipt.state, receipt.last_error or "")

    threads = [threading.Thread(target=refund, args=("a", None, release)),
               threading.Thread(target=refund, args=("b", first_added, None))]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    assert "b" not in results  # waiting for the first refund's transaction
    release.set()
    for thread in threads:
        thread.join(15)
    assert results["a"][0] == "queued"
    assert results["b"][0] == "failed" and "уже возвращены" in results["b"][1]
