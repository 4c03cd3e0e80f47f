"""Marked goods over real HTTP with the emulator: codes on the receipt, held without them, permissive mode,
a register refusing a code, partial returns by unit, a code sold twice.

Expected values come from the rules (fiscal_2026.md «Marked goods», the SDK's ``PlannedStatus`` and
``PaymentObject``, KOMTET's Bitrix module 1.0.2 for tag 1265), not from the builder.
"""

from __future__ import annotations

import json
from decimal import Decimal

import sqlalchemy as sa

from flask_komtet import Customer, Mark, Order, OrderLine, Payment, outbox
from tests.shop_fixtures import add_register, wait_for
from tests.test_pipeline import emulator, shop, state_of  # noqa: F401  (fixtures)

GS = "\x1d"


def code(n: int, gtin: str = "04601234567893") -> str:
    """A Честный ЗНАК code of shoes: 01 GTIN, 21 serial of 13, GS, 91 key, GS, 92 signature of 44."""
    return f"01{gtin}21{n:013d}{GS}91EE06{GS}92{('dGVzdHNpZ25hdHVyZQ' + str(n)).ljust(44, 'A')[:44]}"


def sneakers(ref: str, codes: list, *, quantity: int | None = None, marked: bool = False, **extra) -> Order:
    count = quantity if quantity is not None else len(codes)
    lines = [OrderLine("Кроссовки", "5000.00", count, marks=codes, marked=marked),
             OrderLine("Шнурки", "100.00", 1)]
    total = Decimal(5000 * count + 100)
    return Order(ref=ref, region="msk", customer=Customer(email="buyer@example.com"), lines=lines,
                 payments=[Payment("card", total)], **extra)


def receipt_of(app, db, external_id: str):
    with app.app_context():
        Receipt = app.extensions["komtet_kassa"].models.Receipt
        db.session.expire_all()
        return db.session.scalar(sa.select(Receipt).where(Receipt.external_id == external_id))


def load(kassa, external_id: str):
    """The receipt, in the current app context's session (to act on it there)."""
    Receipt = kassa.models.Receipt
    return kassa.state.session.scalar(sa.select(Receipt).where(Receipt.external_id == external_id))


def commit(app, db, action):
    with app.app_context():
        receipt = action()
        db.session.commit()
        return receipt.external_id, receipt.state, receipt.last_error


def sent(emulator, external_id: str) -> dict:
    return {t.external_id: t.payload for t in emulator.tasks()}[external_id]


def marked_positions(payload: dict) -> list[dict]:
    return [p for p in payload["positions"] if "mark_code" in p]


def test_a_marked_sale_sends_one_position_per_unit_with_its_code(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models)
    codes = [code(1), code(2).replace(GS, "<GS>"), "]d2" + code(3).replace(GS, "")]  # as scanners give them
    order = sneakers("8001", codes)
    commit(app, db, lambda: kassa.fiscalize(order))
    wait_for(lambda: state_of(app, db, "sale-8001-1") == "done", what="marked sale done")
    payload = sent(emulator, "sale-8001-1")
    units = marked_positions(payload)
    assert [p["mark_code"] for p in units] == [{"gs1m": code(n)} for n in (1, 2, 3)]  # raw, real GS
    assert {(p["quantity"], p["total"], p["payment_object"], p["planned_status"]) for p in units} == {
        (1, Decimal("5000.00"), "tm", 1)}
    assert [p for p in payload["positions"] if "mark_code" not in p][0]["name"] == "Шнурки"
    assert sum(p["total"] for p in payload["positions"]) == Decimal("15100.00")


def test_a_missing_code_holds_the_receipt_until_it_is_scanned_in(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models)
    order = sneakers("8002", [code(11)], quantity=2)  # two pairs, one code
    _, state, error = commit(app, db, lambda: kassa.fiscalize(order))
    assert state == "held"
    assert error == "нет кода маркировки для «Кроссовки» (строка 1): единица 2 из 2"
    with app.app_context():
        receipt = load(kassa, "sale-8002-1")
        try:
            outbox.release_held(kassa.state, receipt)
        except ValueError as exc:
            assert "ждет коды маркировки" in str(exc)
        else:
            raise AssertionError("a receipt without its codes was released")
    assert "sale-8002-1" not in {t.external_id for t in emulator.tasks()}  # never sent
    _, state, _ = commit(app, db, lambda: kassa.complete_marks(load(kassa, "sale-8002-1"), [code(12)]))
    assert state in ("queued", "sent", "done")  # sent on commit (DISPATCH = sync)
    wait_for(lambda: state_of(app, db, "sale-8002-1") == "done", what="completed sale done")
    assert [p["mark_code"]["gs1m"] for p in marked_positions(sent(emulator, "sale-8002-1"))] == [code(11), code(12)]


def test_a_line_declared_marked_without_codes_is_held(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models)
    _, state, error = commit(app, db, lambda: kassa.fiscalize(sneakers("8003", [], quantity=1, marked=True)))
    assert (state, error) == ("held", "нет кода маркировки для «Кроссовки» (строка 1): единица 1 из 1")


def test_permissive_mode_with_and_without_a_check_result(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models, permissive_mode=True)
    scanned = json.dumps({"code": code(21), "reqId": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                          "reqTimestamp": 1752482512345})  # KOMTET's scanning app
    commit(app, db, lambda: kassa.fiscalize(sneakers("8004", [scanned])))
    wait_for(lambda: state_of(app, db, "sale-8004-1") == "done", what="checked code sold")
    [unit] = marked_positions(sent(emulator, "sale-8004-1"))
    assert unit["mark_code"] == {"gs1m": code(21)}
    assert unit["sectoral_item_props"] == [{"federal_id": "030", "date": "21.11.2023", "number": "1944",
                                            "value": "UUID=3fa85f64-5717-4562-b3fc-2c963f66afa6&Time=1752482512345"}]

    _, state, error = commit(app, db, lambda: kassa.fiscalize(sneakers("8005", [code(22)])))
    assert state == "held" and error.startswith("нет результата проверки кода маркировки (разрешительный режим)")
    checked = Mark(code(22), uuid="11111111-2222-3333-4444-555555555555", time="1752482599000")
    _, state, _ = commit(app, db, lambda: kassa.complete_marks(load(kassa, "sale-8005-1"), [checked]))
    assert state in ("queued", "sent", "done")
    wait_for(lambda: state_of(app, db, "sale-8005-1") == "done", what="check result added, sold")


def test_a_register_refusing_a_code_is_an_error_with_its_description(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models)
    emulator.set_faults(fail_marks=f"21{31:013d}")
    try:
        commit(app, db, lambda: kassa.fiscalize(sneakers("8006", [code(31)])))
        wait_for(lambda: state_of(app, db, "sale-8006-1") == "error", what="refused code")
    finally:
        emulator.clear_faults()
    error = receipt_of(app, db, "sale-8006-1").last_error
    assert "Проверка КП КМ выполнена, результат отрицательный" in error and code(31).replace(GS, "<GS>") in error


def test_a_partial_return_carries_the_codes_of_the_units_returned(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models)
    order = sneakers("8007", [code(41), code(42), code(43)])
    commit(app, db, lambda: kassa.fiscalize(order))
    wait_for(lambda: state_of(app, db, "sale-8007-1") == "done")
    last, *_ = commit(app, db, lambda: kassa.refund(order, [{"index": 0, "quantity": 1}], ref="r1"))
    wait_for(lambda: state_of(app, db, last) == "done", what="partial return done")
    named, *_ = commit(app, db, lambda: kassa.refund(order, [{"index": 0, "marks": [code(41)]}], ref="r2"))
    wait_for(lambda: state_of(app, db, named) == "done", what="named return done")
    first = sent(emulator, last)
    assert [(p["mark_code"], p["planned_status"], p["quantity"], p["total"], p["payment_object"])
            for p in first["positions"]] == [({"gs1m": code(43)}, 3, 1, Decimal("5000.00"), "tm")]  # the last pair
    assert first["payments"] == [{"sum": Decimal("5000.00"), "type": "card"}]
    assert [(p["mark_code"], p["planned_status"]) for p in sent(emulator, named)["positions"]] == [
        ({"gs1m": code(41)}, 3)]
    _, state, error = commit(app, db, lambda: kassa.refund(order, [{"index": 0, "quantity": 2}], ref="r3"))
    assert state == "failed" and "продано 3, уже возвращено 2, запрошено 2" in error


def test_the_same_code_cannot_be_sold_twice_until_it_is_returned(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models)
    first = sneakers("8008", [code(51)])
    commit(app, db, lambda: kassa.fiscalize(first))
    wait_for(lambda: state_of(app, db, "sale-8008-1") == "done")
    _, state, error = commit(app, db, lambda: kassa.fiscalize(sneakers("8009", [code(51).replace(GS, "")])))
    assert state == "failed"
    assert error.startswith("lines[0].marks[0]: код маркировки 0104601234567893210000000000051<GS>91EE06")
    assert "уже продан (заказ 8008) и не возвращен" in error
    refund_id, *_ = commit(app, db, lambda: kassa.refund(first))
    wait_for(lambda: state_of(app, db, refund_id) == "done")
    _, state, _ = commit(app, db, lambda: kassa.fiscalize(sneakers("8010", [code(51)])))
    assert state in ("queued", "sent", "done")  # returned: it may be sold again


def test_fiscalizing_the_order_again_with_its_codes_completes_the_held_receipt(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models)
    _, state, _ = commit(app, db, lambda: kassa.fiscalize(sneakers("8011", [], quantity=2, marked=True)))
    assert state == "held"
    external_id, state, _ = commit(app, db, lambda: kassa.fiscalize(sneakers("8011", [code(61), code(62)])))
    assert external_id == "sale-8011-1" and state in ("queued", "sent", "done")
    wait_for(lambda: state_of(app, db, "sale-8011-1") == "done", what="completed by the shop")


def test_a_prepayment_without_codes_is_settled_with_them_and_refunded_by_unit(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models, payment_method="pre_payment_full", settlement_scheme="two")
    prepaid = sneakers("8012", [], quantity=2, marked=True)  # codes are not known when the buyer pays
    commit(app, db, lambda: kassa.fiscalize(prepaid))
    wait_for(lambda: state_of(app, db, "sale-8012-1") == "done", what="prepayment done")
    assert not marked_positions(sent(emulator, "sale-8012-1"))  # a prepayment carries no codes
    _, state, error = commit(app, db, lambda: kassa.settle(prepaid))
    assert (state, error) == ("held", "нет кода маркировки для «Кроссовки» (строка 1): единицы 1, 2 из 2")
    shipped = sneakers("8012", [code(71), code(72)])
    _, state, _ = commit(app, db, lambda: kassa.complete_marks(load(kassa, "settle-8012-1"), [code(71), code(72)]))
    wait_for(lambda: state_of(app, db, "settle-8012-1") == "done", what="settlement done")
    settlement = sent(emulator, "settle-8012-1")
    assert [(p["mark_code"], p["payment_method"], p["payment_object"], p["planned_status"], p["total"])
            for p in marked_positions(settlement)] == [
        ({"gs1m": code(n)}, "full_payment", "tm", 1, Decimal("5000.00")) for n in (71, 72)]
    refund_id, *_ = commit(app, db, lambda: kassa.refund(shipped, [{"index": 0, "quantity": 1}]))
    wait_for(lambda: state_of(app, db, refund_id) == "done", what="refund after the settlement")
    assert [(p["mark_code"], p["planned_status"]) for p in sent(emulator, refund_id)["positions"]] == [
        ({"gs1m": code(72)}, 3)]
