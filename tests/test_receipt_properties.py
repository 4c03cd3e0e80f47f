"""Property tests of the receipt builder over 10,000 random orders: exact to the kopeck, always."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_komtet.enums import (
    Measure,
    PaymentMethod,
    PaymentObject,
    PaymentType,
    TaxSystem,
    VatRate,
)
from flask_komtet.errors import InvalidOrder
from flask_komtet.orders import Customer, Order, OrderLine, Payment
from flask_komtet.receipts import (
    ReceiptSettings,
    RefundLine,
    build_refund,
    build_sale,
    build_settlement,
    receipt_total,
)
from flask_komtet.receipts.money import rubles

money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
quantity = st.one_of(st.integers(1, 20).map(Decimal), st.decimals(min_value=Decimal("0.001"), max_value=Decimal("50"),
                                                                    places=3))
vat = st.sampled_from(list(VatRate))
method = st.sampled_from(list(PaymentMethod))


@st.composite
def lines(draw: Any) -> OrderLine:
    price, qty = draw(money), draw(quantity)
    gross = rubles(price * qty)
    discount = draw(st.one_of(st.just(Decimal(0)), st.decimals(min_value=0, max_value=gross, places=2)))
    return OrderLine(draw(st.text(min_size=1, max_size=160).filter(str.strip)), price, qty,
                     vat=draw(st.one_of(st.none(), vat)),
                     payment_object=draw(st.one_of(st.none(), st.sampled_from(list(PaymentObject)))),
                     measure=draw(st.sampled_from(list(Measure))), discount=discount)


@st.composite
def orders(draw: Any) -> Order:
    items = draw(st.lists(lines(), min_size=1, max_size=20))
    delivery = draw(st.one_of(st.none(), st.builds(OrderLine, st.just("Доставка"), st.decimals(0, 2000, places=2),
                                                   vat=st.one_of(st.none(), vat))))
    # The coupon may exceed the goods (the rest comes off delivery), never the goods and delivery together.
    net = sum((rubles(line.price * line.quantity) - line.discount for line in items if line.price > 0), Decimal(0))
    most = net + (delivery.price if delivery is not None else 0)
    coupon = draw(st.one_of(st.just(Decimal(0)), st.just(most), st.decimals(min_value=0, max_value=net, places=2),
                            st.decimals(min_value=net, max_value=most, places=2)))
    customer = draw(st.sampled_from([Customer(email="buyer@example.com"), Customer(phone="89991234567"),
                                     Customer(email="a@b.ru", phone="+7 999 000-11-22 доб. 5"), Customer()]))
    # a buyer without a contact pays at the counter: a printed receipt, no contact needed
    online = False if customer == Customer() else draw(st.sampled_from([None, True, False]))
    return Order(ref="1", lines=items, discount=coupon, delivery=delivery, customer=customer, online=online)


def settings_for(vat_rate: VatRate, pm: PaymentMethod, tax_system: TaxSystem = TaxSystem.SIMPLIFIED_IN
                 ) -> ReceiptSettings:
    return ReceiptSettings(tax_system=tax_system, payment_address="https://shop.example", vat=vat_rate,
                           payment_method=pm, name_template="{name} {custom_note}")


def usn_only_rates(order: Order, settings_: ReceiptSettings) -> bool:
    """Whether the order puts 5 %/7 % on a position (a rate of УСН payers only, НК РФ art. 164 p. 8)."""
    rates = [line.vat or settings_.vat for line in order.lines if line.price > 0]
    if order.delivery is not None and order.delivery.price:
        rates.append(order.delivery.vat or settings_.delivery_vat or settings_.vat)
    return any(rate.plain in (VatRate.RATE_5, VatRate.RATE_7) for rate in rates)


def paid(order: Order) -> Decimal:
    """What the buyer paid: goods and delivery, less line discounts and the coupon (computed from the order)."""
    goods = sum((rubles(line.price * line.quantity) - line.discount for line in order.lines if line.price > 0),
                Decimal(0))
    delivery = rubles(order.delivery.price * order.delivery.quantity) if order.delivery is not None else 0
    return goods + delivery - order.discount


def split_payments(draw: Any, total: Decimal) -> list[Payment]:
    cents = int(total * 100)
    cut = draw(st.integers(0, cents))
    kinds = draw(st.lists(st.sampled_from([PaymentType.CARD, PaymentType.CASH, PaymentType.PREPAYMENT]), min_size=2,
                          max_size=2))
    return [Payment(kinds[0], Decimal(cut) / 100), Payment(kinds[1], Decimal(cents - cut) / 100)]


def assert_valid(payload: dict[str, Any]) -> None:
    from flask_komtet.validation import validate_task

    totals = [p["total"] for p in payload["positions"]]
    assert sum(totals) == receipt_total(payload)
    for p in payload["positions"]:
        assert Decimal(0) <= p["total"] <= rubles(p["price"] * p["quantity"])
        assert p["total"] == rubles(p["total"])
        assert len(p["name"]) <= 128
        VatRate.parse(p["vat"]), PaymentMethod.parse(p["payment_method"])
        PaymentObject.parse(p["payment_object"]), Measure.parse(p["measure"])
    for payment in payload["payments"]:
        PaymentType.parse(payment["type"])
    assert _no_none(payload)
    assert validate_task(payload) == []


def _no_none(value: Any) -> bool:
    if isinstance(value, dict):
        return all(v is not None and _no_none(v) for v in value.values())
    if isinstance(value, list):
        return all(_no_none(v) for v in value)
    return True


@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order=orders(), vat_rate=vat, pm=method, tax_system=st.sampled_from(list(TaxSystem)), data=st.data())
def test_sale_receipts_add_up_to_the_kopeck(order: Order, vat_rate: VatRate, pm: PaymentMethod,
                                            tax_system: TaxSystem, data: Any) -> None:
    settings_ = settings_for(vat_rate, pm, tax_system)
    forbidden = usn_only_rates(order, settings_) and tax_system not in (TaxSystem.SIMPLIFIED_IN,
                                                                        TaxSystem.SIMPLIFIED_IN_OUT)
    try:
        payload = build_sale(order, settings_, external_id="sale-1-1")
    except InvalidOrder as exc:  # an order with nothing to fiscalize, or 5 %/7 % without УСН
        assert exc.field == "lines" or (forbidden and exc.field.endswith("vat") and "УСН" in str(exc)), exc
        assert exc.field != "lines" or paid(order) == 0, exc
        return
    assert not forbidden
    assert receipt_total(payload) == paid(order)  # the receipt is what the buyer paid, coupon over goods or not
    assert_valid(payload)
    if not order.is_online:  # at the counter: printed, never «расчет в Интернете»
        assert payload["print"] is True and "internet" not in payload
    else:
        assert payload["client"].get("email") or payload["client"].get("phone")
    if pm.is_prepayment:
        assert all(p["payment_object"] == "payment" for p in payload["positions"])
        assert all(VatRate.parse(p["vat"]) in (VatRate.NO, VatRate.RATE_0) or VatRate.parse(p["vat"]).is_calculated
                   for p in payload["positions"])
    split = split_payments(data.draw, receipt_total(payload))
    assert_valid(build_sale(order.replace(payments=split), settings_, external_id="sale-1-1"))


@settings(max_examples=500, deadline=None)
@given(order=orders(), vat_rate=vat, data=st.data())
def test_refunds_and_settlement_never_exceed_the_sale(order: Order, vat_rate: VatRate, data: Any) -> None:
    settings_ = settings_for(vat_rate, PaymentMethod.ADVANCE)
    try:
        sale = build_sale(order, settings_, external_id="sale-1-1")
    except InvalidOrder:
        return
    sellable = [i for i, line in enumerate(order.lines) if line.price > 0]
    chosen = data.draw(st.lists(st.sampled_from(sellable), unique=True, max_size=len(sellable)))
    refund_lines = [RefundLine(i, None if data.draw(st.booleans()) else
                               min(order.lines[i].quantity, Decimal("0.001") * data.draw(st.integers(1, 1000))))
                    for i in chosen]
    refunds = []
    refunded = Decimal(0)
    if refund_lines:
        try:
            refund = build_refund(order, settings_, external_id="refund-1-a-1", lines=refund_lines)
        except InvalidOrder as exc:  # a part worth less than a kopeck, or nothing paid for: nothing to return
            assert (exc.field.startswith("refund_lines[") and "копейки" in str(exc)) or exc.field == "lines"
            return
        assert_valid(refund)
        assert refund["intent"] == "sellReturn"
        refunded = receipt_total(refund)
        refunds.append(refund_lines)
    assert refunded <= receipt_total(sale)
    prepaid = receipt_total(sale) - refunded
    try:
        settlement = build_settlement(order, settings_, external_id="settle-1-1", prepaid=prepaid, refunds=refunds)
    except InvalidOrder as exc:
        assert exc.field == "order"  # everything was refunded
        return
    assert_valid(settlement)
    assert receipt_total(settlement) == prepaid
    assert all(p["payment_method"] == "full_payment" and not VatRate.parse(p["vat"]).is_calculated
               for p in settlement["positions"])
    assert settlement["payments"] == [{"sum": prepaid, "type": "prepayment"}] or prepaid == 0
