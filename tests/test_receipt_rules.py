"""The receipt builder's rules, one by one (the property tests cover the invariants)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace as NS

import pytest

from flask_komtet.adapter import default_order_adapter
from flask_komtet.enums import PaymentMethod, PaymentObject, TaxSystem, VatRate
from flask_komtet.errors import InvalidOrder
from flask_komtet.orders import Customer, Order, OrderLine, Payment
from flask_komtet.receipts import (
    Cashier,
    ReceiptSettings,
    RefundLine,
    build_refund,
    build_sale,
    build_top_up,
    check_name_template,
    receipt_total,
)
from flask_komtet.receipts.contacts import check_inn, normalize_phone
from flask_komtet.receipts.money import allocate

BUYER = Customer(email="buyer@example.com")


def settings(**changes) -> ReceiptSettings:
    values = dict(tax_system=TaxSystem.COMMON, payment_address="https://shop.example", vat=VatRate.RATE_22,
                  payment_method=PaymentMethod.FULL_PAYMENT)
    return ReceiptSettings(**(values | changes))


def sale(order: Order, **changes) -> dict:
    return build_sale(order, settings(**changes), external_id="sale-1-1")


def test_komtet_discount_example() -> None:
    order = Order("1", [OrderLine("A", "120.67", 1), OrderLine("B", "113.54", 1)], BUYER, discount="50.00")
    assert [p["total"] for p in sale(order)["positions"]] == [Decimal("94.91"), Decimal("89.30")]
    assert allocate(5000, [12067, 11354]) == [2576, 2424]


def test_line_discount_and_fractional_quantity() -> None:
    order = Order("1", [OrderLine("Чай", "1990.00", "0.350", discount="10.00", measure=11)], BUYER)
    [position] = sale(order)["positions"]
    assert position["quantity"] == Decimal("0.35") and position["measure"] == 11
    assert position["total"] == Decimal("686.50")  # 696.50 − 10.00


def test_delivery_is_its_own_service_position_and_free_delivery_is_left_out() -> None:
    line = OrderLine("Чай", "100", 1)
    paid = sale(Order("1", [line], BUYER, delivery=OrderLine("Доставка", "300", vat=10)), delivery_vat=VatRate.RATE_20)
    assert paid["positions"][-1] | {} == {"name": "Доставка", "price": Decimal("300.00"), "quantity": Decimal(1),
                                          "total": Decimal("300.00"), "vat": "10", "measure": 0,
                                          "payment_method": "full_payment", "payment_object": "service"}
    assert sale(Order("1", [line], BUYER, delivery=OrderLine("Доставка", "300")),
                delivery_vat=VatRate.RATE_20)["positions"][-1]["vat"] == "20"
    assert len(sale(Order("1", [line], BUYER, delivery=OrderLine("Доставка", 0)))["positions"]) == 1


def test_coupon_does_not_touch_delivery() -> None:
    order = Order("1", [OrderLine("Чай", "100", 1)], BUYER, delivery=OrderLine("Доставка", "300"), discount="30")
    assert [p["total"] for p in sale(order)["positions"]] == [Decimal("70.00"), Decimal("300.00")]


def test_gifts_are_left_out_and_fully_discounted_lines_stay() -> None:
    order = Order("1", [OrderLine("Подарок", 0, 1), OrderLine("Чай", 100, 1, discount=100), OrderLine("Кофе", 50, 1)],
                  BUYER)
    assert [(p["name"], p["total"]) for p in sale(order)["positions"]] == [("Чай", Decimal("0.00")),
                                                                           ("Кофе", Decimal("50.00"))]


def test_line_vat_wins_over_the_register_default() -> None:
    order = Order("1", [OrderLine("Книга", 500, 1, vat=10), OrderLine("Чай", 100, 1)], BUYER)
    assert [p["vat"] for p in sale(order)["positions"]] == ["10", "22"]


@pytest.mark.parametrize("plain, calculated", [("20", "120"), ("22", "122"), ("10", "110"), ("5", "105"),
                                               ("7", "107"), ("0", "0"), ("no", "no")])
@pytest.mark.parametrize("method", [PaymentMethod.ADVANCE, PaymentMethod.PRE_PAYMENT_FULL, PaymentMethod.PRE_PAYMENT_PART])
def test_prepayment_uses_the_calculated_rate_and_payment_object(plain: str, calculated: str,
                                                                method: PaymentMethod) -> None:
    tax_system = TaxSystem.SIMPLIFIED_IN if plain in ("5", "7") else TaxSystem.COMMON  # 5 %/7 %: УСН only
    [position] = sale(Order("1", [OrderLine("Чай", 100, 1, vat=plain)], BUYER), payment_method=method,
                      tax_system=tax_system)["positions"]
    assert (position["vat"], position["payment_object"], position["payment_method"]) == (
        calculated, "payment", method.value)


def test_full_payment_uses_the_real_object() -> None:
    order = Order("1", [OrderLine("Курс", 100, 1, payment_object=PaymentObject.SERVICE)], BUYER)
    assert sale(order)["positions"][0]["payment_object"] == "service"


def test_name_template_tags_and_128_characters() -> None:
    order = Order("1", [OrderLine("обучение", 100, 1)], Customer(email="a@b.ru", name="Антон"),
                  fields={"legal": "Иванов П. М.", "custom_predmet": "октябрь", "note": ""})
    template = "{legal} за {name} {customer} - {custom_predmet} {note}"
    assert sale(order, name_template=template)["positions"][0]["name"] == "Иванов П. М. за обучение Антон - октябрь"
    long = sale(order.replace(fields={"legal": "Я" * 300}), name_template="{legal}")["positions"][0]["name"]
    assert len(long) == 128


def test_unknown_template_tag_is_refused_on_save() -> None:
    check_name_template("{legal} за обучение {customer} - {custom_predmet} {pay.ctt.tariff_name}")
    with pytest.raises(ValueError, match=r"\{client\}"):
        check_name_template("{client} за обучение")
    with pytest.raises(ValueError, match="скобка"):
        check_name_template("{legal")


@pytest.mark.parametrize("raw, expected", [("8 (999) 123-45-67", "+79991234567"), ("+7 999 123 45 67", "+79991234567"),
                                           ("9991234567", "+79991234567"), ("+375 29 123-45-67", "+375291234567")])
def test_phone_normalization(raw: str, expected: str) -> None:
    assert normalize_phone(raw) == expected
    assert sale(Order("1", [OrderLine("Чай", 1, 1)], Customer(phone=raw)))["client"] == {"phone": expected}


def test_no_contact_is_an_error_for_an_internet_payment_before_anything_is_sent() -> None:
    with pytest.raises(InvalidOrder) as caught:
        sale(Order("1", [OrderLine("Чай", 1, 1)], Customer(name="Без контактов")))
    assert caught.value.field == "customer" and "email или телефон" in str(caught.value)


@pytest.mark.parametrize("inn, ok", [("7707083893", True), ("500100732259", True), ("7707083894", False),
                                     ("500100732250", False), ("12345", False)])
def test_inn_checksum(inn: str, ok: bool) -> None:
    if ok:
        assert check_inn(inn) == inn
    else:
        with pytest.raises(ValueError):
            check_inn(inn)


def test_cashier_from_loader_or_register() -> None:
    order = Order("1", [OrderLine("Чай", 1, 1)], BUYER)
    assert sale(order, cashier_name="Кассир Петрова")["cashier"] == {"name": "Кассир Петрова"}
    payload = build_sale(order, settings(cashier_name="Петрова"), external_id="x",
                         cashier=Cashier("Иванов Иван", "500100732259"))
    assert payload["cashier"] == {"name": "Иванов Иван", "inn": "500100732259"}
    with pytest.raises(InvalidOrder, match="cashier.inn"):
        build_sale(order, settings(), external_id="x", cashier=Cashier("Иванов", "500100732250"))


def test_several_payments_must_sum_exactly() -> None:
    order = Order("1", [OrderLine("Чай", "100.00", 1)], BUYER,
                  payments=[Payment("card", "60.00"), Payment("cash", "40.00")])
    assert sale(order)["payments"] == [{"sum": Decimal("60.00"), "type": "card"}, {"sum": Decimal("40.00"), "type": "cash"}]
    with pytest.raises(InvalidOrder) as caught:
        sale(order.replace(payments=[Payment("card", "99.99")]))
    assert caught.value.field == "payments"


def test_default_payment_is_card_online_and_cash_at_the_counter() -> None:
    order = Order("1", [OrderLine("Чай", 10, 1)], BUYER)
    assert sale(order)["payments"][0]["type"] == "card"
    assert sale(order.replace(online=False))["payments"][0]["type"] == "cash"


def test_errors_name_the_line() -> None:
    with pytest.raises(InvalidOrder) as caught:
        sale(Order("1", [OrderLine("Чай", 10, 1), OrderLine("Кофе", 10, "0.0001")], BUYER))
    assert caught.value.field == "lines[1].quantity"
    with pytest.raises(InvalidOrder) as caught:
        sale(Order("1", [OrderLine("Чай", 10, 1, discount=11)], BUYER))
    assert caught.value.field == "lines[0].discount"
    with pytest.raises(InvalidOrder) as caught:
        sale(Order("1", [OrderLine("Чай", 10, 1)], BUYER, discount=11))
    assert caught.value.field == "discount"
    with pytest.raises(InvalidOrder) as caught:
        sale(Order("1", [OrderLine("Чай", 10, 1)], BUYER), payment_address="")
    assert caught.value.field == "settings.payment_address"


def test_refund_whole_and_partial() -> None:
    order = Order("1", [OrderLine("Чай", "100", 3), OrderLine("Кофе", "50", 1)], BUYER, discount="10")
    sold = sale(order)
    whole = build_refund(order, settings(), external_id="r")
    assert whole["intent"] == "sellReturn" and whole["positions"] == sold["positions"]
    part = build_refund(order, settings(), external_id="r", lines=[RefundLine(0, Decimal(1))])
    assert part["positions"][0]["quantity"] == 1 and part["positions"][0]["total"] == Decimal("97.14")
    assert receipt_total(part) == Decimal("97.14")
    with pytest.raises(InvalidOrder, match="больше, чем продано"):
        build_refund(order, settings(), external_id="r", lines=[RefundLine(0, Decimal(4))])


def test_top_up_receipt() -> None:
    payload = build_top_up(Customer(email="a@b.ru"), "500", settings(top_up_name="Пополнение счета"), external_id="t")
    assert payload["positions"] == [{"name": "Пополнение счета", "price": Decimal("500.00"), "quantity": Decimal(1),
                                     "total": Decimal("500.00"), "vat": "122", "measure": 0,
                                     "payment_method": "advance", "payment_object": "payment"}]
    with pytest.raises(InvalidOrder, match="amount"):
        build_top_up(Customer(email="a@b.ru"), "0", settings(), external_id="t")


def test_no_none_values_and_key_order() -> None:
    payload = sale(Order("1", [OrderLine("Чай", 1, 1)], BUYER))
    assert list(payload) == ["external_id", "intent", "print", "client", "company", "positions", "payments", "internet"]


def test_default_adapter_reads_obvious_names_and_names_what_is_missing() -> None:
    shop_order = NS(id=7, region=NS(code="msk"), customer=NS(email="a@b.ru", phone=None, name="Ив", inn=None),
                    items=[NS(title="Чай", price="10.50", qty=2, vat=10)], delivery_price=300, discount=0)
    order = default_order_adapter(shop_order)
    assert (order.ref, order.region, order.lines[0].name, order.lines[0].vat, order.delivery.price) == (
        "7", "msk", "Чай", VatRate.RATE_10, Decimal(300))
    with pytest.raises(InvalidOrder) as caught:
        default_order_adapter(NS(id=1, customer=None))
    assert caught.value.field == "order.lines" and "order_adapter" in str(caught.value)
    with pytest.raises(InvalidOrder) as caught:
        default_order_adapter(NS(id=1, items=[NS(title="Чай", qty=1)]))
    assert caught.value.field == "order.lines[0].price"


@pytest.mark.parametrize("print_receipt", [False, True])
def test_print_and_internet_follow_where_the_buyer_paid(print_receipt: bool) -> None:
    """«Печатать чек при онлайн оплате» decides online; at the counter the receipt is printed, never «в Интернете»."""
    lines = [OrderLine("Чай", Decimal("100.00"))]
    online = sale(Order(ref="1", customer=BUYER, lines=lines), print_receipt=print_receipt, internet=True)
    counter = sale(Order(ref="2", customer=BUYER, lines=lines, payments=[Payment("cash", Decimal("100.00"))]),
                   print_receipt=print_receipt, internet=True)
    assert online["print"] is print_receipt and online["internet"] is True
    assert counter["print"] is True and "internet" not in counter
    refund = build_refund(Order(ref="2", customer=BUYER, lines=lines, payments=[Payment("cash", Decimal("100.00"))]),
                          settings(print_receipt=print_receipt), external_id="refund-2-all-1")
    assert refund["print"] is True
