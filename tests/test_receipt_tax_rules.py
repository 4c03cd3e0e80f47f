"""Counter sales, tax cross-checks, coupons over the goods and phones, asserted on the payload from the law.

Sources: 54-ФЗ art. 1.2 p. 5 and art. 4.7 p. 1 (an electronic receipt for Internet payments, the buyer's INN
with the buyer's name), НК РФ art. 164 p. 3 (22 % from 2026-01-01, law 425-ФЗ) and p. 8 (5 %/7 % for УСН),
the SDK's ``Check`` (``client: {}``, ``print``, ``internet``). Nothing here calls the builder's validator.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from types import SimpleNamespace as NS

import pytest

from flask_komtet.enums import CorrectionType, Intent, PaymentMethod, PaymentType, TaxSystem, VatRate
from flask_komtet.errors import InvalidOrder
from flask_komtet.orders import Customer, Order, OrderLine, Payment
from flask_komtet.receipts import (
    ReceiptSettings,
    build_correction,
    build_refund,
    build_sale,
    build_settlement,
    build_top_up,
    receipt_total,
)
from flask_komtet.receipts.contacts import normalize_phone
from flask_komtet.receipts.taxes import register_tax_problems
from flask_komtet.validation import validate_task

BUYER = Customer(email="buyer@example.com")
WALK_IN = Customer()
IN_2026 = date(2026, 3, 2)


def settings(**changes) -> ReceiptSettings:
    values = dict(tax_system=TaxSystem.COMMON, payment_address="https://shop.example", vat=VatRate.RATE_22,
                  payment_method=PaymentMethod.FULL_PAYMENT, receipt_date=IN_2026)
    return ReceiptSettings(**(values | changes))


def tea(**changes) -> OrderLine:
    return OrderLine(**({"name": "Чай", "price": "350.00", "quantity": 2} | changes))


def cash(order_total: str) -> list[Payment]:
    return [Payment("cash", order_total)]


# -- counter sales: printed, no buyer contact needed, never «расчет в Интернете» -------------------------


def test_a_walk_in_cash_sale_is_printed_without_a_contact_and_is_not_an_internet_payment() -> None:
    payload = build_sale(Order("1", [tea()], WALK_IN, payments=cash("700.00")), settings(), external_id="sale-1-1")
    assert payload["client"] == {}  # as the SDK's Check starts
    assert payload["print"] is True
    assert "internet" not in payload
    assert payload["payments"] == [{"sum": Decimal("700.00"), "type": "cash"}]


def test_a_counter_sale_keeps_a_contact_when_the_buyer_gives_one() -> None:
    order = Order("1", [tea()], Customer(phone="8 999 123-45-67"), online=False)
    payload = build_sale(order, settings(), external_id="sale-1-1")
    assert payload["client"] == {"phone": "+79991234567"} and payload["print"] is True and "internet" not in payload


def test_an_internet_payment_still_needs_email_or_phone() -> None:
    with pytest.raises(InvalidOrder) as caught:
        build_sale(Order("1", [tea()], WALK_IN), settings(), external_id="sale-1-1")
    assert caught.value.field == "customer" and "Интернет" in str(caught.value)
    online = build_sale(Order("1", [tea()], BUYER), settings(), external_id="sale-1-1")
    assert online["internet"] is True and online["print"] is False and online["payments"][0]["type"] == "card"


def test_a_cash_top_up_at_the_counter_is_cash_printed_and_not_internet() -> None:
    for payload in (build_top_up(WALK_IN, 500, settings(), external_id="topup-1-1", online=False),
                    build_top_up(WALK_IN, 500, settings(), external_id="topup-1-1", payment_type=PaymentType.CASH)):
        assert payload["payments"] == [{"sum": Decimal("500.00"), "type": "cash"}]
        assert payload["print"] is True and "internet" not in payload and payload["client"] == {}
    online = build_top_up(BUYER, 500, settings(), external_id="topup-1-1")
    assert online["payments"][0]["type"] == "card" and online["internet"] is True and online["print"] is False


def test_refund_correction_and_settlement_of_a_counter_sale_are_printed_cash_receipts() -> None:
    order = Order("1", [tea()], WALK_IN, payments=cash("700.00"))
    refund = build_refund(order, settings(), external_id="refund-1-a-1")
    correction = build_correction(order, settings(), external_id="correction-1-1", intent=Intent.SELL_CORRECTION,
                                  correction_type=CorrectionType.SELF, base_date=date(2026, 3, 1))
    settled = build_settlement(order, settings(), external_id="settle-1-1", prepaid=Decimal("700.00"))
    for payload in (refund, correction, settled):
        assert payload["print"] is True and "internet" not in payload and payload["client"] == {}
    assert refund["payments"] == correction["payments"] == [{"sum": Decimal("700.00"), "type": "cash"}]
    counter = build_correction(Order("1", [tea()], WALK_IN, online=False), settings(), external_id="c-1",
                               intent=Intent.SELL_CORRECTION, correction_type="self", base_date=date(2026, 3, 1))
    assert counter["payments"] == [{"sum": Decimal("700.00"), "type": "cash"}] and counter["print"] is True


# -- 5 %/7 % only with УСН (НК РФ art. 164 p. 8) -----------------------------------------------------------


@pytest.mark.parametrize("rate", ["5", "7"])
@pytest.mark.parametrize("tax_system", [TaxSystem.COMMON, TaxSystem.UST, TaxSystem.PATENT])
def test_usn_rates_are_refused_with_other_tax_systems_naming_where_the_rate_came_from(rate: str,
                                                                                     tax_system: TaxSystem) -> None:
    cases = [
        (Order("1", [tea(vat=rate)], BUYER), {}, "lines[0].vat"),
        (Order("1", [tea()], BUYER), {"vat": VatRate.parse(rate)}, "settings.vat"),
        (Order("1", [tea(vat="0")], BUYER, delivery=OrderLine("Доставка", 300, vat=rate)), {}, "delivery.vat"),
        (Order("1", [tea(vat="0")], BUYER, delivery=OrderLine("Доставка", 300)),
         {"delivery_vat": VatRate.parse(rate)}, "settings.delivery_vat"),
    ]
    for order, changes, field in cases:
        with pytest.raises(InvalidOrder) as caught:
            build_sale(order, settings(tax_system=tax_system, **changes), external_id="sale-1-1")
        assert caught.value.field == field
        assert "только при УСН" in str(caught.value) and tax_system.label in str(caught.value)
    with pytest.raises(InvalidOrder, match="settings.vat"):
        build_top_up(BUYER, 100, settings(tax_system=tax_system, vat=VatRate.parse(rate)), external_id="t-1")


@pytest.mark.parametrize("tax_system", [TaxSystem.SIMPLIFIED_IN, TaxSystem.SIMPLIFIED_IN_OUT])
def test_usn_rates_go_out_with_usn_plain_on_full_payment_and_calculated_on_prepayment(tax_system: TaxSystem) -> None:
    order = Order("1", [tea(vat="5"), tea(name="Кофе", vat="7")], BUYER)
    full = build_sale(order, settings(tax_system=tax_system), external_id="sale-1-1")
    assert [p["vat"] for p in full["positions"]] == ["5", "7"] and full["company"]["sno"] == int(tax_system)
    advance = build_sale(order, settings(tax_system=tax_system, payment_method=PaymentMethod.ADVANCE),
                         external_id="sale-1-1")
    assert [p["vat"] for p in advance["positions"]] == ["105", "107"]


# -- the buyer's INN only with the buyer's name (54-ФЗ art. 4.7 p. 1) --------------------------------------


def test_a_buyer_inn_without_the_buyer_name_is_refused_naming_the_name() -> None:
    order = Order("1", [tea()], Customer(email="b@example.com", inn="7707083893"))
    with pytest.raises(InvalidOrder) as caught:
        build_sale(order, settings(), external_id="sale-1-1")
    assert caught.value.field == "customer.name" and "ИНН покупателя" in str(caught.value)
    with pytest.raises(InvalidOrder, match="customer.name"):  # a name of spaces only is no name
        build_sale(order.replace(customer=Customer(email="b@example.com", inn="7707083893", name="  ")), settings(),
                   external_id="sale-1-1")
    named = build_sale(order.replace(customer=Customer(email="b@example.com", inn="7707083893", name="ООО «Ромашка»")),
                       settings(), external_id="sale-1-1")
    assert named["client"] == {"email": "b@example.com", "name": "ООО «Ромашка»", "inn": "7707083893"}


# -- the VAT rate in force on the receipt's date (22 % from 2026-01-01) -------------------------------------


def test_twenty_percent_on_a_2026_sale_is_refused_naming_twenty_two() -> None:
    with pytest.raises(InvalidOrder) as caught:
        build_sale(Order("1", [tea(vat="20")], BUYER), settings(), external_id="sale-1-1")
    assert caught.value.field == "lines[0].vat"
    assert "20%" in str(caught.value) and "22%" in str(caught.value) and "01.01.2026" in str(caught.value)
    with pytest.raises(InvalidOrder) as caught:  # the register's own rate, that a prepayment would send as 20/120
        build_sale(Order("1", [tea()], BUYER), settings(vat=VatRate.RATE_20, payment_method=PaymentMethod.ADVANCE,
                                                        receipt_date=date(2026, 1, 1)), external_id="sale-1-1")
    assert caught.value.field == "settings.vat" and "22%" in str(caught.value)
    with pytest.raises(InvalidOrder) as caught:  # a line that names the calculated rate itself
        build_sale(Order("1", [tea(vat="20/120")], BUYER), settings(payment_method=PaymentMethod.ADVANCE),
                   external_id="sale-1-1")
    assert caught.value.field == "lines[0].vat" and "20/120" in str(caught.value) and "22/122" in str(caught.value)


def test_each_rate_on_the_days_it_is_in_force() -> None:
    last_of_2025 = settings(receipt_date=date(2025, 12, 31))
    assert build_sale(Order("1", [tea(vat="20")], BUYER), last_of_2025, external_id="s")["positions"][0]["vat"] == "20"
    # a rate not yet in force is not refused: a late receipt for an old payment is the shop's call
    assert build_sale(Order("1", [tea()], BUYER), last_of_2025, external_id="s")["positions"][0]["vat"] == "22"
    for rate in ("10", "0", "no"):
        assert build_sale(Order("1", [tea(vat=rate)], BUYER), settings(), external_id="s")["positions"][0]["vat"] == rate
    undated = settings(receipt_date=None)  # settings made by hand carry no date: nothing to check
    assert build_sale(Order("1", [tea(vat="20")], BUYER), undated, external_id="s")["positions"][0]["vat"] == "20"


def test_follow_ups_keep_the_rate_of_the_sale_they_follow() -> None:
    sold_2025 = Order("1", [tea(vat="20")], BUYER, paid_at=datetime(2025, 12, 20, 15, 30))
    refund = build_refund(sold_2025, settings(), external_id="refund-1-a-1")  # settings of a 2026 day
    assert [p["vat"] for p in refund["positions"]] == ["20"] and refund["intent"] == "sellReturn"
    later = build_sale(Order("1", [tea(vat="20")], BUYER), settings(), external_id="x", rates_as_of=date(2025, 12, 20))
    assert later["positions"][0]["vat"] == "20"
    with pytest.raises(InvalidOrder, match="22%"):  # a refund of a 2026 sale at 20 % is as wrong as the sale
        build_refund(sold_2025.replace(paid_at=datetime(2026, 2, 1)), settings(), external_id="refund-1-a-1")
    # a refund of a 2025 sale at today's 22 % cannot be what was sold: refused, naming the rate of the sale's day
    with pytest.raises(InvalidOrder) as caught:
        build_refund(sold_2025.replace(lines=[tea()]), settings(), external_id="refund-1-a-1")
    assert caught.value.field == "settings.vat" and "20.12.2025" in str(caught.value) and "20%" in str(caught.value)


# -- a coupon bigger than the goods comes off delivery --------------------------------------------------


def test_coupon_over_the_goods_takes_the_rest_from_delivery_and_the_receipt_is_what_was_paid() -> None:
    order = Order("1", [OrderLine("Чай", 400, 1)], BUYER, delivery=OrderLine("Доставка", 300), discount=500,
                  payments=[Payment("card", "200.00")])
    payload = build_sale(order, settings(), external_id="sale-1-1")
    assert [(p["name"], p["price"], p["total"]) for p in payload["positions"]] == [
        ("Чай", Decimal("400.00"), Decimal("0.00")), ("Доставка", Decimal("300.00"), Decimal("200.00"))]
    assert payload["payments"] == [{"sum": Decimal("200.00"), "type": "card"}]
    assert receipt_total(payload) == sum(p["total"] for p in payload["positions"]) == Decimal("200.00")


def test_coupon_over_the_goods_with_line_discounts_and_kopecks() -> None:
    order = Order("1", [OrderLine("A", "120.67", 1, discount="0.67"), OrderLine("B", "113.54", 3)], BUYER,
                  delivery=OrderLine("Доставка", "349.99"), discount="500.01")
    positions = build_sale(order, settings(), external_id="sale-1-1")["positions"]
    goods = Decimal("120.00") + Decimal("340.62")
    assert [p["total"] for p in positions] == [Decimal("0.00"), Decimal("0.00"), Decimal("349.99") - (Decimal("500.01") - goods)]
    assert all(Decimal(0) <= p["total"] <= p["price"] * p["quantity"] for p in positions)


def test_a_coupon_over_goods_and_delivery_is_refused_naming_the_discount() -> None:
    order = Order("1", [OrderLine("Чай", 400, 1)], BUYER, delivery=OrderLine("Доставка", 300), discount="700.01")
    with pytest.raises(InvalidOrder) as caught:
        build_sale(order, settings(), external_id="sale-1-1")
    assert caught.value.field == "discount" and "700.00" in str(caught.value)


# -- phones with extensions -------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["+7 999 123 45 67 доб. 12", "+7 999 123 45 67 доб 12", "+7 (999) 123-45-67 ДОБ.12",
                                 "8 999 123 45 67 ext. 3", "8 999 123 45 67 ext 3", "+79991234567x12",
                                 "+7 999 123-45-67 #12", "8 (999) 123-45-67, 8 (999) 000-00-00",
                                 "+7 999 123 45 67 добавочный 345"])
def test_a_phone_keeps_the_number_and_drops_the_extension(raw: str) -> None:
    assert normalize_phone(raw) == "+79991234567"
    assert build_sale(Order("1", [tea()], Customer(phone=raw)), settings(), external_id="s")["client"] == {
        "phone": "+79991234567"}


def test_a_phone_without_a_number_before_the_extension_is_still_refused() -> None:
    with pytest.raises(ValueError, match="телефон"):
        normalize_phone("доб. 12")
    with pytest.raises(InvalidOrder, match="customer.phone"):
        build_sale(Order("1", [tea()], Customer(phone="123 доб. 4567890")), settings(), external_id="s")


# -- the register's tax settings, as the model and the form check them on save ----------------------------


def register(**fields) -> NS:
    values = dict(tax_system=0, vat="22", delivery_vat=None, next_tax_system=None, next_vat=None, tax_change_date=None)
    return NS(**(values | fields))


def test_register_tax_problems() -> None:
    assert register_tax_problems(register()) == {}
    assert register_tax_problems(register(tax_system=1, vat="5", delivery_vat="107")) == {}
    assert set(register_tax_problems(register(vat="5"))) == {"vat"}
    assert "только при УСН" in register_tax_problems(register(vat="105"))["vat"]
    assert set(register_tax_problems(register(delivery_vat="7"))) == {"delivery_vat"}
    change = date(2027, 1, 1)
    assert set(register_tax_problems(register(next_vat="5", tax_change_date=change))) == {"next_vat"}
    leaving_usn = register(tax_system=1, vat="5", next_tax_system=0, tax_change_date=change)
    assert set(register_tax_problems(leaving_usn)) == {"next_tax_system"}
    assert "01.01.2027" in register_tax_problems(leaving_usn)["next_tax_system"]
    assert register_tax_problems(register(tax_system=1, vat="5", next_tax_system=0, next_vat="22",
                                          tax_change_date=change)) == {}


def test_register_rates_in_force_today_and_on_the_change_date_when_the_form_asks() -> None:
    today = date(2026, 6, 1)
    assert register_tax_problems(register(vat="20")) == {}  # the model does not depend on the clock
    assert "22%" in register_tax_problems(register(vat="20"), today=today)["vat"]
    scheduled = register(vat="20", next_vat="22", tax_change_date=date(2026, 1, 1))
    assert register_tax_problems(scheduled, today=today) == {}
    late = register(vat="22", next_vat="20", tax_change_date=date(2026, 9, 1))
    assert "22%" in register_tax_problems(late, today=today)["next_vat"]


# -- the validator's (and the emulator's) side of the same rules -------------------------------------------


def _task(**changes) -> dict:
    task = {"external_id": "t-1", "intent": "sell", "print": True, "client": {},
            "company": {"sno": 0, "payment_address": "https://shop.example"},
            "positions": [{"name": "Чай", "price": Decimal("10.00"), "quantity": Decimal(1), "total": Decimal("10.00"),
                           "vat": "22", "measure": 0, "payment_method": "full_payment", "payment_object": "product"}],
            "payments": [{"sum": Decimal("10.00"), "type": "cash"}]}
    return task | changes


def test_validate_task_printed_without_contact_ok_electronic_needs_one() -> None:
    assert validate_task(_task()) == []
    assert [f for f, _ in validate_task(_task(print=False))] == ["client"]
    assert [f for f, _ in validate_task(_task(internet=True))] == ["client"]
    assert validate_task(_task(print=False, client={"email": "a@b.ru"})) == []


def test_validate_task_inn_needs_name_and_usn_rates_need_usn() -> None:
    assert [f for f, _ in validate_task(_task(client={"inn": "7707083893"}))] == ["client.name"]
    assert validate_task(_task(client={"inn": "7707083893", "name": "ООО «Ромашка»"})) == []
    five = _task()
    five["positions"] = [five["positions"][0] | {"vat": "5"}]
    assert [f for f, _ in validate_task(five)] == ["positions[0].vat"]
    assert validate_task(five | {"company": {"sno": 1, "payment_address": "x"}}) == []
