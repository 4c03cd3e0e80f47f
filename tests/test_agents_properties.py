"""Property tests: random orders mixing agent lines and the shop's own, with every FFD 1.2 detail.

Each receipt is checked by the emulator's own rules (``emulator.rules.receipt.check_task``, written from the SDK
and KOMTET's limits, not the builder's validator) and its totals are exact to the kopeck. Expected values are
computed from the order: what the buyer paid, which lines are agents' (their own role, or the register's default
for a line that names only its supplier), and that a refund or settlement keeps each position's agent and details.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_komtet.details import Agent, MoneyTransferOperator, PayingAgent, ReceivePaymentsOperator, Supplier
from flask_komtet.emulator.rules.receipt import check_task
from flask_komtet.enums import AgentType, PaymentMethod, TaxSystem, TimeZone, VatRate
from flask_komtet.errors import InvalidOrder
from flask_komtet.orders import Customer, Order, OrderLine, Payment
from flask_komtet.receipts import ReceiptSettings, RefundLine, build_refund, build_sale, build_settlement, receipt_total
from flask_komtet.receipts.money import rubles

_W10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_W11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_W12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _check(digits: str, weights: tuple[int, ...]) -> str:
    return str(sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10)


@st.composite
def inns(draw: Any) -> str:
    """A valid INN by the ФНС algorithm: 10 digits (company) or 12 (person)."""
    if draw(st.booleans()):
        base = draw(st.text("0123456789", min_size=9, max_size=9))
        return base + _check(base, _W10)
    base = draw(st.text("0123456789", min_size=10, max_size=10))
    base += _check(base, _W11)
    return base + _check(base, _W12)


# Text as the receipt prints it (single spaces, none at the ends): the builder's cleaning is tested elsewhere.
words = st.text("абвгдежзиклмнопрстуфхцчшщэюяABCXYZ0123456789 ", min_size=1, max_size=40).map(
    lambda s: " ".join(s.split())).filter(bool)
phones = st.lists(st.sampled_from(["+7 999 123-45-67", "8 (495) 000-11-22", "+79161234567", "+375291234567"]),
                  min_size=1, max_size=3)
money = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2)


@st.composite
def agents(draw: Any) -> Agent:
    kind = draw(st.sampled_from(list(AgentType)))
    paying = receive = transfer = None
    if kind.is_payment_agent and draw(st.booleans()):
        paying = PayingAgent(phones=draw(phones), operation=draw(st.one_of(st.none(), words.map(lambda s: s[:24].strip()))))
    if kind.is_payment_agent and not kind.is_bank_agent and draw(st.booleans()):
        receive = ReceivePaymentsOperator(phones=draw(phones))
    if kind.is_bank_agent and draw(st.booleans()):
        transfer = MoneyTransferOperator(name=draw(words), phones=draw(phones), address=draw(words),
                                         inn=draw(st.one_of(st.none(), inns())))
    return Agent(kind, paying, receive, transfer)


@st.composite
def lines(draw: Any, default_role: bool) -> OrderLine:
    role = draw(st.sampled_from(["own", "agent"] + (["default"] if default_role else [])))
    extra: dict[str, Any] = {}
    if role != "own":
        extra["supplier"] = Supplier(name=draw(st.one_of(st.none(), words)), inn=draw(inns()),
                                     phones=draw(st.one_of(st.just([]), phones)))
    if role == "agent":
        extra["agent"] = draw(agents())
    if draw(st.booleans()):
        extra["excise"] = draw(st.decimals(min_value=0, max_value=1000, places=2))
    if draw(st.booleans()):
        extra["country_code"] = draw(st.sampled_from(["643", "156", "056", 276, 56]))
    if draw(st.booleans()):
        extra["declaration_number"] = draw(st.text("0123456789/", min_size=1, max_size=32).filter(
            lambda s: any(ch.isdigit() for ch in s)))
    if draw(st.booleans()):
        extra["user_data"] = draw(words)
    extra["wholesale"] = draw(st.booleans())
    price, quantity = draw(money), draw(st.integers(1, 5).map(Decimal))
    discount = draw(st.one_of(st.just(Decimal(0)), st.decimals(min_value=0, max_value=rubles(price * quantity),
                                                                places=2)))
    return OrderLine(draw(words), price, quantity, discount=discount, **extra)


@st.composite
def customers(draw: Any) -> Customer:
    details: dict[str, Any] = {}
    if draw(st.booleans()):  # B2B: the buyer's INN with its name
        details.update(name=draw(words), inn=draw(inns()))
    if draw(st.booleans()):
        details.update(birthdate=draw(st.dates(date(1930, 1, 1), date(2008, 12, 31))),
                       citizenship=draw(st.sampled_from(["643", "112", "398"])), document_code="21",
                       document_data=draw(st.text("0123456789 ", min_size=4, max_size=20).filter(str.strip)),
                       address=draw(words))
    return Customer(email="buyer@example.com", **details)


@st.composite
def orders(draw: Any, default_role: bool) -> Order:
    items = draw(st.lists(lines(default_role), min_size=1, max_size=8))
    net = sum((rubles(line.price * line.quantity) - line.discount for line in items), Decimal(0))
    coupon = draw(st.one_of(st.just(Decimal(0)), st.decimals(min_value=0, max_value=net, places=2)))
    total = net - coupon
    card = draw(st.decimals(min_value=0, max_value=total, places=2))
    payments = [Payment("card", card, cashless_method=draw(st.integers(0, 9)), cashless_id=draw(words),
                        cashless_info=draw(st.one_of(st.none(), words))), Payment("cash", total - card)]
    props: dict[str, Any] = {}
    if draw(st.booleans()):
        props.update(additional_check_props=draw(words.map(lambda s: s[:16].strip())),
                     additional_user_props={"name": draw(words), "value": draw(words)},
                     sectoral_check_props=[{"federal_id": "030", "date": "21.11.2023", "number": "1944",
                                            "value": "UUID=" + draw(words)}],
                     operating_check_props={"name": draw(st.integers(0, 255)), "value": draw(words),
                                            "timestamp": datetime(2026, 12, 1, 10, 30)})
    return Order(ref="1", lines=items, discount=coupon, customer=draw(customers()), payments=payments, **props)


def valid(payload: dict[str, Any]) -> None:
    assert check_task(payload) == [], check_task(payload)
    assert sum(p["total"] for p in payload["positions"]) == receipt_total(payload)


def expected_role(line: OrderLine, default: AgentType | None) -> str | None:
    if line.agent is not None:
        return line.agent.type.value
    return default.value if line.supplier is not None and default is not None else None


AGENT_KEYS = ("agent_info", "supplier_info", "excise", "country_code", "declaration_number", "user_data",
              "wholesale")


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), default=st.one_of(st.none(), st.sampled_from(list(AgentType))),
       timezone=st.one_of(st.none(), st.sampled_from(list(TimeZone))),
       method=st.sampled_from([PaymentMethod.FULL_PAYMENT, PaymentMethod.ADVANCE, PaymentMethod.PRE_PAYMENT_FULL]))
def test_agent_and_own_lines_with_every_detail_are_accepted_and_exact(data: Any, default: AgentType | None,
                                                                      timezone: TimeZone | None,
                                                                      method: PaymentMethod) -> None:
    order = data.draw(orders(default is not None))
    settings_ = ReceiptSettings(TaxSystem.COMMON, "https://shop.example", vat=VatRate.RATE_22, payment_method=method,
                                agent_type=default, timezone=timezone)
    paid = sum((p.amount for p in order.payments), Decimal(0))
    if paid == 0:
        return
    sale = build_sale(order, settings_, external_id="sale-1-1")
    valid(sale)
    assert receipt_total(sale) == paid
    for line, position in zip(order.lines, sale["positions"], strict=True):
        role = expected_role(line, default)
        assert position.get("agent_info", {}).get("type") == role
        assert ("supplier_info" in position) == (role is not None)
        if role is not None:
            assert position["supplier_info"]["inn"] == line.supplier.inn
        assert position.get("country_code") == (None if line.country_code is None else line.country_code.zfill(3))
        assert position.get("excise") == line.excise
        assert position.get("wholesale", False) == line.wholesale
    assert sale.get("timezone") == (None if timezone is None else int(timezone))
    card = order.payments[0]
    assert sale.get("cashless_payments", []) == ([{"sum": card.amount, "method": card.cashless_method,
                                                   "id": card.cashless_id} | (
        {"additional_info": card.cashless_info} if card.cashless_info else {})] if card.amount else [])
    if order.customer.inn:
        assert sale["client"]["inn"] == order.customer.inn and sale["client"]["name"]

    # A refund of some lines keeps each one's agent, supplier and details, as the sale sent them.
    chosen = data.draw(st.lists(st.integers(0, len(order.lines) - 1), unique=True, min_size=1))
    try:
        refund = build_refund(order, settings_, external_id="refund-1-1", lines=[RefundLine(i) for i in chosen])
    except InvalidOrder as exc:  # only lines discounted to nothing: no money to return
        assert exc.field == "lines" and sum(sale["positions"][i]["total"] for i in chosen) == 0, exc
        return
    valid(refund)
    assert "cashless_payments" not in refund and refund.get("timezone") == sale.get("timezone")
    for index, position in zip(chosen, refund["positions"], strict=True):
        sold = sale["positions"][index]
        assert {k: position.get(k) for k in AGENT_KEYS} == {k: sold.get(k) for k in AGENT_KEYS}
    if method.is_prepayment:
        settlement = build_settlement(order, settings_, external_id="settle-1-1", prepaid=receipt_total(sale))
        valid(settlement)
        assert receipt_total(settlement) == receipt_total(sale)
        for sold, settled in zip(sale["positions"], settlement["positions"], strict=True):
            assert {k: settled.get(k) for k in AGENT_KEYS} == {k: sold.get(k) for k in AGENT_KEYS}
            assert settled["payment_method"] == "full_payment"


@settings(max_examples=300, deadline=None)
@given(order=orders(False))
def test_orders_with_every_detail_survive_their_stored_form(order: Order) -> None:
    """The order stored with a receipt (``to_dict``) reads back the same: re-sends and refunds rebuild from it."""
    assert Order.from_dict(order.to_dict()) == order
