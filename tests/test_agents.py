"""Agents, suppliers and the other FFD 1.2 details over real HTTP (the emulator checks them by the SDK's shapes).

Expected payloads are written from the SDK (``agent.py``, ``check.py``) and the law: a commissionaire's line
carries ``agent_info.type`` and ``supplier_info`` with the supplier's INN beside it (tags 1222, 1224, 1226); a
B2B receipt carries the buyer's INN with the buyer's name (54-ФЗ art. 4.7 p. 1); card payments carry their
cashless details (tag 1235); the register's time zone is tag 1011 (1..11 = UTC+2..UTC+12).
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from flask_komtet import Agent, Customer, Order, OrderLine, Payment, Supplier
from flask_komtet.emulator.rules.receipt import check_task
from flask_komtet.enums import AgentType, TaxSystem, TimeZone
from flask_komtet.errors import InvalidOrder
from flask_komtet.receipts import ReceiptSettings, RefundLine, build_correction
from tests.shop_fixtures import add_register, wait_for
from tests.test_pipeline import emulator, shop, state_of  # noqa: F401  (fixtures)

PARTNER = {"name": "ООО «Керамика Ли»", "inn": "5001007329", "phones": ["+7 495 123-45-67"]}
COMPANY_INN = "7801123455"


def payloads(emulator) -> dict[str, dict]:
    return {t.external_id: t.payload for t in emulator.tasks()}


def commit(app, db, action) -> tuple[str, str, str | None]:
    with app.app_context():
        receipt = action()
        db.session.commit()
        return receipt.external_id, receipt.state, receipt.last_error


def marketplace_order(ref: str, **extra: Any) -> Order:
    """The shop's tea, a partner's bowl sold as commissionaire, another partner's (the register's default role),
    and the shop's own fee for selling them; paid by card with the acquirer's payment id."""
    lines = [
        OrderLine("Да Хун Пао, 100 г", "480.00", 2),
        OrderLine("Пиала мастера Ли", "1800.00", 1, agent=Agent(type="commissionaire"), supplier=Supplier(**PARTNER),
                  country_code="156", declaration_number="10702070/011126/0012345", excise="0.00"),
        OrderLine("Чайник партнера", "2500.00", 1, supplier={"name": "ИП Петров", "inn": "500100732259"},
                  user_data="партия 7"),
        OrderLine("Сервисный сбор", "120.00", 1, payment_object="commission"),
    ]
    payments = extra.pop("payments", None) or [
        Payment("card", "5380.00", cashless_method=1, cashless_id="pay-8f2c", cashless_info="СБП")]
    return Order(ref=ref, region="msk", customer=extra.pop("customer", Customer(email="buyer@example.com")),
                 lines=lines, payments=payments, **extra)


def test_an_agent_sale_and_its_refund_carry_agents_suppliers_and_details(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models, agent_type="agent", timezone=2)
    order = marketplace_order("9001")
    commit(app, db, lambda: kassa.fiscalize(order))
    wait_for(lambda: state_of(app, db, "sale-9001-1") == "done")
    refund_id, *_ = commit(app, db, lambda: kassa.refund(order, [RefundLine(1), RefundLine(2)]))
    wait_for(lambda: state_of(app, db, refund_id) == "done")
    sale, refund = payloads(emulator)["sale-9001-1"], payloads(emulator)[refund_id]

    own_tea, bowl, teapot, fee = sale["positions"]
    assert "agent_info" not in own_tea and "supplier_info" not in own_tea
    assert "agent_info" not in fee and fee["payment_object"] == "commission"  # the shop's own fee: an ordinary line
    assert bowl["agent_info"] == {"type": "commissionaire"}
    assert bowl["supplier_info"] == {"name": "ООО «Керамика Ли»", "phones": ["+74951234567"], "inn": "5001007329"}
    assert (bowl["country_code"], bowl["declaration_number"], bowl["excise"]) == (
        "156", "10702070/011126/0012345", Decimal("0.00"))
    assert teapot["agent_info"] == {"type": "agent"}  # the register's default role for a line naming its supplier
    assert teapot["supplier_info"] == {"name": "ИП Петров", "inn": "500100732259"}
    assert teapot["user_data"] == "партия 7"
    assert sum(p["total"] for p in sale["positions"]) == Decimal("5380.00")
    assert sale["payments"] == [{"sum": Decimal("5380.00"), "type": "card"}]
    assert sale["cashless_payments"] == [{"sum": Decimal("5380.00"), "method": 1, "id": "pay-8f2c",
                                          "additional_info": "СБП"}]
    assert sale["timezone"] == 2  # UTC+3, Moscow

    assert refund["intent"] == "sellReturn"
    assert [p["name"] for p in refund["positions"]] == ["Пиала мастера Ли", "Чайник партнера"]
    for returned, sold in zip(refund["positions"], (bowl, teapot), strict=True):
        assert returned == sold  # the whole line: every key as sold, the agent's and supplier's included
    assert refund["payments"] == [{"sum": Decimal("4300.00"), "type": "card"}]
    assert refund["timezone"] == 2 and "cashless_payments" not in refund


def test_a_settlement_after_a_prepayment_keeps_the_agent_and_supplier(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models, payment_method="pre_payment_full", settlement_scheme="two",
                     agent_type="commissionaire")
    order = marketplace_order("9002")
    commit(app, db, lambda: kassa.fiscalize(order))
    wait_for(lambda: state_of(app, db, "sale-9002-1") == "done")
    commit(app, db, lambda: kassa.settle(order))
    wait_for(lambda: state_of(app, db, "settle-9002-1") == "done")
    sale, settle = payloads(emulator)["sale-9002-1"], payloads(emulator)["settle-9002-1"]
    assert [p.get("agent_info") for p in settle["positions"]] == [
        None, {"type": "commissionaire"}, {"type": "commissionaire"}, None]
    assert [p.get("supplier_info") for p in settle["positions"]] == [p.get("supplier_info") for p in sale["positions"]]
    assert settle["positions"][1]["country_code"] == "156"
    assert {p["payment_method"] for p in settle["positions"]} == {"full_payment"}
    assert settle["payments"] == [{"sum": Decimal("5380.00"), "type": "prepayment"}]


def test_a_b2b_receipt_carries_the_buyers_inn_and_name(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models)
    company = Customer(email="office@teaclub.example", name="ООО «Чайный клуб»", inn=COMPANY_INN,
                       address="Москва, ул. Тверская, 1")
    order = Order(ref="9003", region="msk", customer=company, lines=[OrderLine("Сенча, 100 г", "540.00", 10)],
                  payments=[Payment("card", "5400.00")])
    commit(app, db, lambda: kassa.fiscalize(order))
    wait_for(lambda: state_of(app, db, "sale-9003-1") == "done")
    client = payloads(emulator)["sale-9003-1"]["client"]
    assert client == {"email": "office@teaclub.example", "name": "ООО «Чайный клуб»", "inn": COMPANY_INN,
                      "address": "Москва, ул. Тверская, 1"}
    # The INN without the name is refused before sending (tag 1228 only with 1227).
    nameless = order.replace(ref="9004", customer=Customer(email="office@teaclub.example", inn=COMPANY_INN))
    _, state, error = commit(app, db, lambda: kassa.fiscalize(nameless))
    assert state == "failed" and error.startswith("customer.name")
    assert "sale-9004-1" not in payloads(emulator)


def test_receipt_props_cashless_details_and_time_zone_reach_komtet(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models, timezone=9)
    order = Order(
        ref="9005", region="msk", customer=Customer(phone="+7 999 000-11-22", birthdate="02.03.1980",
                                                    citizenship="643", document_code="21",
                                                    document_data="4500 123456"),
        lines=[OrderLine("Пуэр", "2900.00", 1)],
        payments=[Payment("card", "2000.00", cashless_method=0, cashless_id="RRN 123456789012"),
                  Payment("cash", "900.00")],
        additional_check_props="К-9005", additional_user_props={"name": "Клиентская карта", "value": "0042"},
        sectoral_check_props=[{"federal_id": "030", "date": "21.11.2023", "number": "1944",
                               "value": "UUID=abc&Time=1764000000"}],
        operating_check_props={"name": 0, "value": "заказ 9005", "timestamp": "01.12.2026 10:30:00"})
    commit(app, db, lambda: kassa.fiscalize(order))
    wait_for(lambda: state_of(app, db, "sale-9005-1") == "done")
    sale = payloads(emulator)["sale-9005-1"]
    assert sale["timezone"] == 9  # UTC+10
    assert sale["cashless_payments"] == [{"sum": Decimal("2000.00"), "method": 0, "id": "RRN 123456789012"}]
    assert sale["additional_check_props"] == "К-9005"
    assert sale["additional_user_props"] == {"name": "Клиентская карта", "value": "0042"}
    assert sale["sectoral_check_props"] == [{"federal_id": "030", "date": "21.11.2023", "number": "1944",
                                             "value": "UUID=abc&Time=1764000000"}]
    assert sale["operating_check_props"] == {"name": 0, "value": "заказ 9005", "timestamp": "01.12.2026 10:30:00"}
    assert sale["client"] == {"phone": "+79990001122", "birthdate": "02.03.1980", "citizenship": "643",
                              "document_code": "21", "document_data": "4500 123456"}


BAD = [
    ("lines[1].supplier.inn", {1: {"supplier": {"name": "ООО", "inn": "5001007328"}, "agent": {"type": "agent"}}}),
    ("lines[1].supplier.inn", {1: {"supplier": {"inn": "50010073290"}, "agent": {"type": "agent"}}}),
    ("lines[1].supplier.inn", {1: {"supplier": {"name": "ООО"}, "agent": {"type": "agent"}}}),
    ("lines[1].supplier", {1: {"agent": {"type": "commissionaire"}}}),
    ("lines[1].agent", {1: {"supplier": PARTNER}}),
    ("lines[1].agent.money_transfer_operator",
     {1: {"agent": {"type": "commissionaire", "money_transfer_operator": {"name": "Банк"}}, "supplier": PARTNER}}),
    ("lines[1].agent.receive_payments_operator",
     {1: {"agent": {"type": "bank_payment_agent", "receive_payments_operator": {"phones": ["+79990000000"]}},
          "supplier": PARTNER}}),
    ("lines[1].agent.paying_agent.operation",
     {1: {"agent": {"type": "payment_agent", "paying_agent": {"operation": "x" * 25}}, "supplier": PARTNER}}),
    ("lines[1].agent.money_transfer_operator.inn",
     {1: {"agent": {"type": "bank_payment_subagent", "money_transfer_operator": {"inn": "1234567890"}},
          "supplier": PARTNER}}),
    ("lines[0].country_code", {0: {"country_code": "RUS"}}),
    ("lines[0].country_code", {0: {"country_code": "64"}}),
    ("lines[0].excise", {0: {"excise": "-1"}}),
    ("lines[0].declaration_number", {0: {"declaration_number": "1" * 33}}),
    ("lines[0].user_data", {0: {"user_data": "я" * 65}}),
]


@pytest.mark.parametrize(("field", "changes"), BAD, ids=[f"{f}-{n}" for n, (f, _) in enumerate(BAD)])
def test_bad_agents_suppliers_and_details_are_refused_before_sending(shop, emulator, field, changes) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models)
    base = [dict(name="Чай", price="100.00"), dict(name="Пиала", price="200.00")]
    for index, change in changes.items():
        base[index] |= change
    order = Order(ref="9010", region="msk", customer=Customer(email="buyer@example.com"), lines=base)
    _, state, error = commit(app, db, lambda: kassa.fiscalize(order))
    assert state == "failed" and error.split(":")[0] == field, error
    assert not emulator.tasks()


@pytest.mark.parametrize(("field", "customer", "payments"), [
    ("customer.citizenship", {"citizenship": "RU"}, None),
    ("customer.document_code", {"document_data": "4500 123456"}, None),
    ("customer.birthdate", {"birthdate": "01.01.2999"}, None),
    ("payments[0].cashless_method", {}, [{"type": "cash", "amount": "300.00", "cashless_method": 1,
                                          "cashless_id": "x"}]),
    ("payments[0].cashless_id", {}, [{"type": "card", "amount": "300.00", "cashless_method": 1}]),
])
def test_bad_buyer_and_payment_details_are_refused_naming_the_field_without_the_value(
        shop, emulator, caplog, field, customer, payments) -> None:
    caplog.set_level(logging.DEBUG, logger="flask_komtet")
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models)
    order = Order(ref="9020", region="msk", customer=Customer(email="buyer@example.com", **customer),
                  lines=[OrderLine("Чай", "300.00")], payments=payments or ())
    _, state, error = commit(app, db, lambda: kassa.fiscalize(order))
    assert state == "failed" and error.split(":")[0] == field, error
    assert not emulator.tasks()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert field in logged
    for personal in ("4500 123456", "2999", "buyer@example.com"):
        assert personal not in logged


def test_order_details_read_their_types_and_name_the_field() -> None:
    with pytest.raises(InvalidOrder) as caught:
        Order(ref="1", lines=[{"name": "Чай", "price": 1, "supplier": {"phones": 42}}])
    assert caught.value.field == "lines[0].supplier.phones"
    with pytest.raises(InvalidOrder) as caught:
        Order(ref="1", lines=[{"name": "Чай", "price": 1, "agent": {}}])
    assert caught.value.field.startswith("lines[0].agent")
    with pytest.raises(InvalidOrder) as caught:
        Order(ref="1", operating_check_props={"name": 1, "value": "x", "timestamp": "2026-12-01"})
    assert caught.value.field == "operating_check_props.timestamp"
    with pytest.raises(InvalidOrder) as caught:
        OrderLine("Чай", 1, wholesale="yes")
    assert caught.value.field == "wholesale"
    assert OrderLine("Чай", 1, country_code=56).country_code == "056"
    with pytest.raises(InvalidOrder) as caught:  # not one of the SDK's AgentType values
        Order(ref="1", lines=[{"name": "Чай", "price": 1, "agent": {"type": "broker"}, "supplier": PARTNER}])
    assert caught.value.field == "lines[0].agent.type"


def test_a_correction_carries_the_agent_supplier_and_receipt_props() -> None:
    """FFD 1.2 corrections carry positions like a sale (api §4.3): the agent's lines keep their role and supplier."""
    settings = ReceiptSettings(TaxSystem.COMMON, "https://shop.test", agent_type=AgentType.AGENT,
                               timezone=TimeZone.UTC3)
    payload = build_correction(marketplace_order("9030", additional_check_props="К-9030"), settings,
                               external_id="correction-9030-1", intent="sellCorrection", correction_type="self",
                               base_date=date(2026, 11, 30))
    assert check_task(payload, today=date(2026, 12, 3)) == []
    assert [p.get("agent_info") for p in payload["positions"]] == [
        None, {"type": "commissionaire"}, {"type": "agent"}, None]
    assert payload["positions"][1]["supplier_info"]["inn"] == "5001007329"
    assert payload["timezone"] == 2 and payload["additional_check_props"] == "К-9030"
    assert payload["cashless_payments"] == [{"sum": Decimal("5380.00"), "method": 1, "id": "pay-8f2c",
                                             "additional_info": "СБП"}]
