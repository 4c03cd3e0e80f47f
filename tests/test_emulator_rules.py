"""The emulator's own receipt rules over real HTTP: for each rule a receipt it accepts and one it refuses (422 VLD00
naming the field)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from flask_komtet.emulator import KomtetEmulator
from tests.test_emulator_support import DELETE, GS, GS1M, MARKED, SECRET, SHOP, post, receipt

VALID_INN10, VALID_INN12 = "7707083893", "500100732259"
SELF_CORRECTION = {"intent": "sellCorrection", "correction_info": {"type": "self", "base_date": "01.12.2025"}}
SECTORAL = [{"federal_id": "030", "date": "21.11.2023", "number": "1944", "value": "UUID=4f0a&Time=1700000000"}]
AGENT = {"type": "commissionaire"}
SUPPLIER = {"name": "ООО Поставщик", "inn": VALID_INN10, "phones": ["+79991234567"]}


@pytest.fixture(scope="module")
def emu() -> Iterator[KomtetEmulator]:
    with KomtetEmulator(delay=None, seed=1) as emulator:
        emulator.add_shop(SHOP, SECRET, (1,))
        yield emulator


def marked(**changes: Any) -> dict[str, Any]:
    position = {**MARKED, **changes}
    return {"positions.0": {key: value for key, value in position.items() if value is not DELETE}}


ACCEPTED: dict[str, dict[str, Any]] = {
    # buyer contact (fiscal_2026.md «Buyer and counter»)
    "printed, client {}": {"print": True, "client": {}},
    "printed, no client": {"print": True, "client": DELETE},
    "not internet, no client": {"internet": False, "client": DELETE},
    "internet with a phone": {"internet": True, "client": {"phone": "+79991234567"}},
    "buyer inn with name": {"client.inn": VALID_INN10, "client.name": "ООО Покупатель"},
    "buyer details": {"client": {"email": "b@example.com", "name": "Иванов Иван", "birthdate": "01.02.1990",
                                 "citizenship": "643", "document_code": "21", "document_data": "4507 443564",
                                 "address": "Москва, ул. Тверская, 1"}},
    # taxes and sums
    "5% on УСН доход": {"company.sno": 1, "positions.0.vat": "5"},
    "7/107 on УСН доход − расход": {"company.sno": 2, "positions.0.vat": "107"},
    "20% at the API level": {"positions.0.vat": "20"},
    "a discount": {"positions.0.total": 650},
    "fractional quantity": {"positions.0.quantity": 1.5, "positions.0.total": 525},
    "two payments": {"payments": [{"sum": 500, "type": "card"}, {"sum": 200, "type": "cash"}]},
    "company inn": {"company.inn": VALID_INN10},
    # enums and texts
    "return": {"intent": "sellReturn"},
    "buy": {"intent": "buy"},
    "name of 128": {"positions.0.name": "x" * 128},
    "line details": {"positions.0.user_data": "x" * 64, "positions.0.excise": 10.5, "positions.0.country_code": "056",
                     "positions.0.declaration_number": "10702070/010120/0000001", "positions.0.id": 17,
                     "positions.0.wholesale": False},
    "cashier": {"cashier": {"name": "Иванов", "inn": VALID_INN12}},
    "receipt props": {"additional_check_props": "x" * 16, "additional_user_props": {"name": "Бонус", "value": "100"},
                      "operating_check_props": {"name": "0", "value": "данные", "timestamp": "01.12.2026 10:00:00"},
                      "sectoral_check_props": SECTORAL, "timezone": 2},
    "cashless payments": {"cashless_payments": [{"sum": 700, "method": 1, "id": "tx-1", "additional_info": "СБП"}]},
    "callback url": {"callback_url": "https://shop.example/komtet"},
    # corrections (FFD 1.2)
    "self correction": SELF_CORRECTION,
    "instruction with number": {**SELF_CORRECTION, "correction_info": {"type": "instruction",
                                                                       "base_date": "01.12.2025", "base_number": "7"}},
    "correction without payment address": {**SELF_CORRECTION, "company.payment_address": DELETE},
    "authorised person": {**SELF_CORRECTION, "authorised_person": {"name": "Петров", "inn": VALID_INN12}},
    # marks
    "gs1m": marked(),
    "gs1m as base64": marked(mark_code={"gs1m": base64.b64encode(GS1M.encode()).decode()}),
    "gs1m 91/92 tail": marked(mark_code={"gs1m": "0104650117240408212" + "Dh8hTWRrbWq" + GS + "91EE06" + GS
                                          + "92" + "a" * 44}),
    "ean13 of goods without marking": {"positions.0.mark_code": {"ean13": "4600000000008"}},
    "fractional marked unit": marked(mark_quantity={"numerator": 1, "denominator": 4}),
    "weighed marked goods": marked(measure=11, quantity=0.35, total=1746.5, planned_status=2),
    "planned status 255": marked(planned_status=255),
    "returned marked unit": {**marked(planned_status=3), "intent": "sellReturn"},
    "sectoral item props": marked(sectoral_item_props=SECTORAL),
    "atm for excise goods": marked(payment_object="atm", mark_code={"egais30": "x" * 150}),
    # agents
    "agent with supplier": {"positions.0.agent_info": AGENT, "positions.0.supplier_info": SUPPLIER},
    "paying agent": {"positions.0.agent_info": {"type": "payment_agent", "paying_agent": {
        "operation": "Платеж", "phones": ["+79991234567"]}, "receive_payments_operator": {"phones": ["+79990001122"]}}},
    "money transfer operator": {"positions.0.agent_info": {"type": "bank_payment_agent", "money_transfer_operator": {
        "name": "Банк", "phones": ["+79991234567"], "address": "Москва", "inn": VALID_INN10}}},
}


@pytest.mark.parametrize("edits", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_accepted(emu: KomtetEmulator, edits: dict[str, Any]) -> None:
    response = post(emu.url, receipt(edits))
    assert response.status_code == 200, response.text


REFUSED: list[tuple[str, dict[str, Any], str]] = [
    # buyer
    ("internet without contact", {"internet": True, "print": True, "client": {}}, "client"),
    ("not printed, no contact", {"client": {}}, "client"),
    ("bad email", {"client.email": "b@"}, "client.email"),
    ("bad phone", {"client.phone": "12345"}, "client.phone"),
    ("buyer inn without name", {"client.inn": VALID_INN10}, "client.name"),
    ("buyer inn check digit", {"client.inn": "7707083894", "client.name": "ООО"}, "client.inn"),
    ("buyer name too long", {"client.name": "x" * 257}, "client.name"),
    ("birthdate format", {"client.birthdate": "1990-02-01"}, "client.birthdate"),
    ("birthdate not a day", {"client.birthdate": "31.02.1990"}, "client.birthdate"),
    ("birthdate in the future", {"client.birthdate": "01.01.2999"}, "client.birthdate"),
    ("citizenship", {"client.citizenship": "RU"}, "client.citizenship"),
    ("document code", {"client.document_code": "021"}, "client.document_code"),
    ("document data", {"client.document_data": "x" * 65}, "client.document_data"),
    ("address", {"client.address": " "}, "client.address"),
    # taxes
    ("5% on ОСН", {"positions.0.vat": "5"}, "positions[0].vat"),
    ("5/105 on patent", {"company.sno": 5, "positions.0.vat": "105"}, "positions[0].vat"),
    ("7% on ЕСХН", {"company.sno": 4, "positions.0.vat": "7"}, "positions[0].vat"),
    ("18%", {"positions.0.vat": "18"}, "positions[0].vat"),
    ("18/118", {"positions.0.vat": "118"}, "positions[0].vat"),
    ("vat as a number", {"positions.0.vat": 22}, "positions[0].vat"),
    ("vat with a percent", {"positions.0.vat": "22%"}, "positions[0].vat"),
    ("ЕНВД", {"company.sno": 3}, "company.sno"),
    ("sno as a string", {"company.sno": "0"}, "company.sno"),
    ("sno missing", {"company.sno": DELETE}, "company.sno"),
    ("company inn", {"company.inn": "123"}, "company.inn"),
    ("payment address", {"company.payment_address": DELETE}, "company.payment_address"),
    # sums
    ("payments short of totals", {"payments": [{"sum": 699.99, "type": "card"}]}, "payments"),
    ("total above price × quantity", {"positions.0.total": 701}, "positions[0].total"),
    ("price with 3 decimals", {"positions.0.price": 350.001}, "positions[0].price"),
    ("payment with 3 decimals", {"payments": [{"sum": 700.001, "type": "card"}]}, "payments[0].sum"),
    ("negative excise", {"positions.0.excise": -1}, "positions[0].excise"),
    ("quantity with 7 decimals", {"positions.0.quantity": 0.0000001}, "positions[0].quantity"),
    ("quantity as a string", {"positions.0.quantity": "2"}, "positions[0].quantity"),
    ("zero quantity", {"positions.0.quantity": 0}, "positions[0].quantity"),
    ("null", {"positions.0.excise": None}, "positions[0].excise"),
    # texts
    ("name of 129", {"positions.0.name": "x" * 129}, "positions[0].name"),
    ("user data", {"positions.0.user_data": "x" * 65}, "positions[0].user_data"),
    ("declaration number", {"positions.0.declaration_number": "x" * 33}, "positions[0].declaration_number"),
    ("country code", {"positions.0.country_code": "56"}, "positions[0].country_code"),
    ("cashier name", {"cashier": {"name": "x" * 65}}, "cashier.name"),
    ("cashier inn", {"cashier": {"name": "Иванов", "inn": VALID_INN10}}, "cashier.inn"),
    ("additional check props", {"additional_check_props": "x" * 17}, "additional_check_props"),
    ("additional user props", {"additional_user_props": {"name": "Бонус"}}, "additional_user_props.value"),
    ("operating props timestamp", {"operating_check_props": {"name": "0", "value": "v", "timestamp": "01.12.2026"}},
     "operating_check_props.timestamp"),
    ("callback url", {"callback_url": "ftp://shop.example"}, "callback_url"),
    ("wholesale", {"positions.0.wholesale": "yes"}, "positions[0].wholesale"),
    ("internet flag", {"internet": "yes"}, "internet"),
    ("print flag", {"print": 1}, "print"),
    # enums
    ("intent", {"intent": "sale"}, "intent"),
    ("measure", {"positions.0.measure": 7}, "positions[0].measure"),
    ("payment method", {"positions.0.payment_method": "full"}, "positions[0].payment_method"),
    ("payment object", {"positions.0.payment_object": "goods"}, "positions[0].payment_object"),
    ("payment type", {"payments": [{"sum": 700, "type": "bitcoin"}]}, "payments[0].type"),
    ("timezone", {"timezone": 12}, "timezone"),
    ("timezone as a string", {"timezone": "2"}, "timezone"),
    # cashless payments (tag 1235)
    ("cashless above card payments", {"cashless_payments": [{"sum": 800, "method": 1, "id": "tx"}]},
     "cashless_payments"),
    ("cashless method", {"cashless_payments": [{"sum": 700, "method": "card", "id": "tx"}]},
     "cashless_payments[0].method"),
    ("cashless id", {"cashless_payments": [{"sum": 700, "method": 1}]}, "cashless_payments[0].id"),
    # corrections
    ("correction without info", {"intent": "sellCorrection"}, "correction_info"),
    ("correction info on a sale", {"correction_info": SELF_CORRECTION["correction_info"]}, "correction_info"),
    ("instruction without number", {**SELF_CORRECTION, "correction_info.type": "instruction"},
     "correction_info.base_number"),
    ("forced is v1", {**SELF_CORRECTION, "correction_info.type": "forced"}, "correction_info.type"),
    ("base date format", {**SELF_CORRECTION, "correction_info.base_date": "2025-12-01"}, "correction_info.base_date"),
    ("base date in the future", {**SELF_CORRECTION, "correction_info.base_date": "01.01.2999"},
     "correction_info.base_date"),
    ("authorised person inn", {**SELF_CORRECTION, "authorised_person": {"name": "Петров", "inn": "500100732250"}},
     "authorised_person.inn"),
    ("authorised person name", {**SELF_CORRECTION, "authorised_person": {"inn": VALID_INN12}},
     "authorised_person.name"),
    # marks
    ("gs1m without GS", marked(mark_code={"gs1m": GS1M.replace(GS, "")}), "positions[0].mark_code.gs1m"),
    ("gs1m with ]d2", marked(mark_code={"gs1m": "]d2" + GS1M}), "positions[0].mark_code.gs1m"),
    ("gs1m with an escaped GS", marked(mark_code={"gs1m": GS1M.replace(GS, "\\u001d")}), "positions[0].mark_code.gs1m"),
    ("gs1m short GTIN", marked(mark_code={"gs1m": "01046000000021abc" + GS + "93ABCD"}), "positions[0].mark_code.gs1m"),
    ("gs1m as scanner JSON", marked(mark_code={"gs1m": '{"code": "x"}'}), "positions[0].mark_code.gs1m"),
    ("gs1m base64 of garbage", marked(mark_code={"gs1m": base64.b64encode(b"0104600000").decode()}),
     "positions[0].mark_code.gs1m"),
    ("unknown mark type", marked(mark_code={"datamatrix": GS1M}), "positions[0].mark_code"),
    ("two mark types", marked(mark_code={"gs1m": GS1M, "ean13": "4600000000008"}), "positions[0].mark_code"),
    ("ean13 of 5 digits", {"positions.0.mark_code": {"ean13": "12345"}}, "positions[0].mark_code.ean13"),
    ("fur of 21", marked(mark_code={"fur": "x" * 21}), "positions[0].mark_code.fur"),
    ("tm without a code", marked(mark_code=DELETE), "positions[0].mark_code"),
    ("tnm with a code", marked(payment_object="tnm"), "positions[0].payment_object"),
    ("marked as product", marked(payment_object="product"), "positions[0].payment_object"),
    ("marked unit quantity 2", marked(quantity=2, total=9980), "positions[0].quantity"),
    ("mark quantity not a fraction", marked(mark_quantity={"numerator": 3, "denominator": 2}),
     "positions[0].mark_quantity"),
    ("mark quantity without code", {"positions.0.mark_quantity": {"numerator": 1, "denominator": 2}},
     "positions[0].mark_quantity"),
    ("planned status 7", marked(planned_status=7), "positions[0].planned_status"),
    ("returned status on a sale", marked(planned_status=3), "positions[0].planned_status"),
    ("sold status on a return", {**marked(planned_status=1), "intent": "sellReturn"}, "positions[0].planned_status"),
    ("sectoral date", marked(sectoral_item_props=[{**SECTORAL[0], "date": "2023-11-21"}]),
     "positions[0].sectoral_item_props[0].date"),
    ("sectoral federal id", marked(sectoral_item_props=[{**SECTORAL[0], "federal_id": "30"}]),
     "positions[0].sectoral_item_props[0].federal_id"),
    ("empty sectoral check props", {"sectoral_check_props": []}, "sectoral_check_props"),
    # agents
    ("agent type", {"positions.0.agent_info": {"type": "broker"}}, "positions[0].agent_info.type"),
    ("agent without type", {"positions.0.agent_info": {}}, "positions[0].agent_info.type"),
    ("supplier without agent", {"positions.0.supplier_info": SUPPLIER}, "positions[0].supplier_info"),
    ("supplier inn", {"positions.0.agent_info": AGENT, "positions.0.supplier_info": {**SUPPLIER, "inn": "7707083894"}},
     "positions[0].supplier_info.inn"),
    ("supplier phones", {"positions.0.agent_info": AGENT, "positions.0.supplier_info": {"phones": "+79991234567"}},
     "positions[0].supplier_info.phones"),
    ("paying agent operation", {"positions.0.agent_info": {"type": "payment_agent",
                                                           "paying_agent": {"operation": "x" * 25}}},
     "positions[0].agent_info.paying_agent.operation"),
    ("receive payments operator", {"positions.0.agent_info": {"type": "payment_agent",
                                                              "receive_payments_operator": {}}},
     "positions[0].agent_info.receive_payments_operator.phones"),
    ("operator inn", {"positions.0.agent_info": {"type": "bank_payment_agent",
                                                 "money_transfer_operator": {"inn": "7707083894"}}},
     "positions[0].agent_info.money_transfer_operator.inn"),
]


@pytest.mark.parametrize("edits, field", [(e, f) for _, e, f in REFUSED], ids=[n for n, _, _ in REFUSED])
def test_refused_naming_the_field(emu: KomtetEmulator, edits: dict[str, Any], field: str) -> None:
    response = post(emu.url, receipt(edits))
    assert response.status_code == 422, response.text
    error = response.json()
    assert error["code"] == "VLD00"
    assert f"{field}:" in error["description"], error["description"]


def test_refusals_create_nothing(emu: KomtetEmulator) -> None:
    before = len(emu.tasks())
    assert post(emu.url, receipt({"positions.0.vat": "5"})).status_code == 422
    assert len(emu.tasks()) == before


def test_a_multi_task_batch_names_the_item_and_field(emu: KomtetEmulator) -> None:
    response = post(emu.url, [receipt(), receipt({"client.inn": VALID_INN10})], path="/queues/1/multi-tasks")
    assert response.status_code == 422 and response.json()["description"].startswith("1: client.name:")
