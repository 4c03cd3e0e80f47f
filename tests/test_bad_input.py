"""Bad input everywhere: the order adapter, the receipt builder and the checkout pipeline, fuzzed.

Whatever a shop hands over (missing keys, wrong types, NaN, ``"1e400"``,
``"12,50"``, NUL, RTL marks, astral characters, 20 000-character names, nested
garbage, objects whose properties raise) either becomes a receipt KOMTET
accepts, exact to the kopeck, or an ``InvalidOrder`` whose ``errors`` name the
field. Through ``kassa.fiscalize`` on SQLite and PostgreSQL it becomes one
``failed`` receipt row (and its one event) saying which field, inside the
shop's own transaction, which still commits.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from types import MappingProxyType, SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from flask_komtet.adapter import default_order_adapter
from flask_komtet.client import dumps
from flask_komtet.emulator import KomtetEmulator
from flask_komtet.enums import Measure, PaymentMethod, PaymentObject, TaxSystem, VatRate
from flask_komtet.errors import InvalidOrder
from flask_komtet.orders import Customer, Order, OrderLine, Payment
from flask_komtet.receipts import (
    Cashier,
    ReceiptSettings,
    RefundLine,
    build_refund,
    build_sale,
    build_top_up,
    receipt_total,
)
from flask_komtet.receipts.money import rubles, to_cents
from flask_komtet.validation import validate_task
from tests.shop_fixtures import QUEUE, SECRET, SHOP_ID, add_register

# -- what a shop may hand over -----------------------------------------------------------


@dataclass(frozen=True)
class Plausible:
    """A field's values a shop really sends: ``good`` ones, and ``tricky`` ones that may well be refused."""

    good: st.SearchStrategy[Any]
    tricky: st.SearchStrategy[Any]

    def any(self) -> st.SearchStrategy[Any]:
        return st.one_of(self.good, self.tricky)

    def usually_good(self) -> st.SearchStrategy[Any]:
        return st.integers(0, 9).flatmap(lambda roll: self.tricky if roll == 0 else self.good)

    def __or__(self, other: Plausible) -> Plausible:
        return Plausible(st.one_of(self.good, other.good), st.one_of(self.tricky, other.tricky))


mostly = Plausible


def long(text: str) -> st.SearchStrategy[str]:
    return st.builds(lambda: text)  # a long constant, kept out of Hypothesis's reports


NASTY_TEXT = st.one_of(st.sampled_from([
    "", " ", "\t\n ", "\x00", "Чай\x00зелёный", "\u200f\u200e", "\u202eреверс", "\ufeffЧай", "e\u0301",
    "👨\u200d👩\u200d👧\u200d👦", "𝕮𝖍𝖆𝖎 𝖌𝖗𝖊𝖊𝖓", "\U0010fffd", "\x1b[31mкрасный\x1b[0m", "\u2028\u2029", "\x85", "\x7f\x9f",
    "العربية", "עברית \u05d0", "中文 商品", "<script>alert(1)</script>", "'; DROP TABLE komtet_receipt; --", "{name}",
    "{", "%s %(x)s", "\\u0000", "None", "null", "NaN", "\x1edec:1", "\xa0\u3000",
]), long("Я" * 129), long("😀" * 200), long("x" * 20_000), long("a" + "\u0300" * 300))
TEXT = st.one_of(
    st.text(max_size=30),
    NASTY_TEXT,
    st.text(min_size=100, max_size=300),
    st.text(st.characters(categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Co"]), max_size=8),
)
PRINTABLE = st.characters(categories=["L", "M", "N", "P", "S"])  # what a person types (and " ")
NAMES = ["Чай", "Кофе «Арабика», 250 г", "Tea", "Доставка курьером", "Подарочный сертификат №5"]
NAME = mostly(st.one_of(st.sampled_from(NAMES), st.text(PRINTABLE, min_size=1, max_size=200)), TEXT)

NUMBER_TEXT = [
    "1e400", "-1e400", "1e-400", "12,50", "1,234.56", "1 000", "", " ", "NaN", "sNaN", "-Infinity", "inf", "1_000",
    "١٢٣", "１２", "0x10", "12.5.1", "1" * 500, "−5", "+5", "5-", "1e12", "999999999999.99", "-0", "0E-1000000",
    "0." + "0" * 40 + "1", "1E+999999999",
]
NUMBERS = st.one_of(
    st.integers(-10, 10**6), st.integers(), st.sampled_from([10**12, -(10**12), 10**30]),
    st.floats(), st.decimals(),
    st.sampled_from([Decimal("sNaN"), Decimal("-Infinity"), Decimal("1E+400"), Decimal("1E-400"), Decimal("-0.00"),
                     Decimal("1E-999999999")]),
    st.sampled_from(NUMBER_TEXT), st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.builds(lambda: 10**5000),  # built, not sampled: an int over 4300 digits has no repr
)


class Exploding:
    """A shop object whose every attribute fails (a lazy relationship after the session closed)."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        raise RuntimeError(f"DetachedInstanceError: {name} is not loaded")

    def __repr__(self) -> str:
        return "<Exploding>"


def _boom() -> Any:
    raise ZeroDivisionError("division by zero in the shop's method")


def garbage() -> st.SearchStrategy[Any]:
    """Anything: scalars of every type, lists, dicts and objects of them, nested."""
    scalars = st.one_of(
        st.none(), st.booleans(), NUMBERS, TEXT, st.binary(max_size=4), st.dates(), st.datetimes(),
        st.sampled_from([object(), Exploding(), _boom, int, Ellipsis, 1j, frozenset({1}), b"\x00"]),
    )
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3),
            st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=4), st.integers()), inner, max_size=4),
            st.dictionaries(st.sampled_from(KEYS), inner, max_size=4).map(lambda d: SimpleNamespace(**d)),
        ),
        max_leaves=10,
    )


KEYS = ["ref", "number", "id", "region", "customer", "client", "email", "phone", "name", "inn", "lines", "items",
        "positions", "title", "price", "unit_price", "quantity", "qty", "count", "vat", "payment_object", "measure",
        "sku", "discount", "delivery", "delivery_price", "payments", "type", "amount", "sum", "fields", "paid_at",
        "code", "index"]
GARBAGE = garbage()

MONEY = st.decimals(Decimal("0.01"), Decimal("99999.99"), places=2)
PRICE = MONEY.flatmap(lambda d: st.sampled_from([d, str(d), str(d).replace(".", ","), f" {d} ", float(d), int(d) or 1]))
QUANTITY = st.one_of(st.integers(1, 5), st.sampled_from(["1", "2,5", Decimal("0.125"), 1.5, "3.000", " 2 "]))
EMAILS = mostly(st.one_of(st.sampled_from(["buyer@example.com", "почта@пример.рф", "a@b.ru", " spaced@example.com "]),
                          st.text(PRINTABLE.filter(lambda c: c != "@"), min_size=1, max_size=20).map(
                              lambda t: t + "@пример.рф")),
                st.one_of(st.emails(), TEXT.map(lambda t: t[:10] + "@example.com"), TEXT))
PHONES = mostly(st.sampled_from(["8 (999) 123-45-67", "+7 999 123 45 67", "9991234567", "+375 29 123-45-67",
                                 "８９９９１２３４５６７", "٨٩٩٩١٢٣٤٥٦٧", 79991234567, "+7 999 123 45 67\n"]),
                st.one_of(st.sampled_from(["12345", "+7 (999)", "телефон"]), TEXT))
INNS = mostly(st.sampled_from(["7707083893", "500100732259", " 7707083893 "]),
              st.sampled_from(["7707083894", "７７０７０８３８９３", "12345", "٧٧٠٧٠٨٣٨٩٣"]))
FIELD_VALUES = st.one_of(TEXT, st.integers(-5, 10**6), st.lists(TEXT, max_size=3), st.none(), st.dates(),
                         st.decimals(allow_nan=False, allow_infinity=False, places=2))


def _callable(value: Any) -> Any:
    return lambda: value


def shaped(data: dict[str, Any]) -> st.SearchStrategy[Any]:
    """The same data as a dict, a read-only mapping, an object, or an object with methods."""
    return st.sampled_from([
        dict(data), MappingProxyType(dict(data)), SimpleNamespace(**data),
        SimpleNamespace(**{k: _callable(v) for k, v in data.items()}),
    ])


def put(draw: Any, into: dict[str, Any], bad: int, keys: list[str], plausible: Any) -> None:
    """Set one of ``keys``: usually to a good value; with ``bad`` % chance drop it or put garbage there,
    with ``bad + 3`` % a tricky value."""
    key = draw(st.sampled_from(keys))
    roll = draw(st.integers(0, 99))
    if roll < bad:
        choice = draw(st.integers(0, 2))
        if choice == 0:
            return
        into[key] = draw(GARBAGE) if choice == 1 else draw(st.sampled_from([None, "", [], {}, 0]))
    elif isinstance(plausible, Plausible):
        into[key] = draw(plausible.tricky if roll < 2 * bad + 3 else plausible.good)
    else:
        into[key] = draw(plausible)


def optional(draw: Any, into: dict[str, Any], bad: int, keys: list[str], plausible: Any) -> None:
    if draw(st.booleans()):
        put(draw, into, bad, keys, plausible)


@st.composite
def shop_lines(draw: Any, bad: int) -> Any:
    if draw(st.integers(0, 99)) < bad // 3:
        return draw(GARBAGE)
    line: dict[str, Any] = {}
    put(draw, line, bad, ["name", "title"], NAME)
    put(draw, line, bad, ["price", "unit_price"], PRICE)
    put(draw, line, bad, ["quantity", "qty", "count"], QUANTITY)
    vats = st.sampled_from(["22", 22, "no", None, "10%", 0.2, "20/120", "НДС 5%", VatRate.RATE_10])
    optional(draw, line, bad, ["vat"], mostly(vats, st.sampled_from(["18", "inf", "1e400"])))
    optional(draw, line, bad, ["payment_object"], mostly(st.sampled_from(["service", "product", PaymentObject.WORK,
                                                                          "Услуга"]), st.just("commodity")))
    optional(draw, line, bad, ["measure"], st.sampled_from([0, 11, "0", Measure.PIECE, 255]))
    optional(draw, line, bad, ["sku"], st.one_of(TEXT, st.integers(0, 10**9)))
    optional(draw, line, bad, ["discount"], st.one_of(st.just(0), st.decimals(0, 1, places=2)))
    return draw(shaped(line))


@st.composite
def shop_orders(draw: Any) -> Any:
    """A shop's order: a dict or an object, more or less broken (``bad`` is the chance, in %, of each fault)."""
    bad = draw(st.sampled_from([0, 0, 0, 2, 5, 15, 40]))
    if draw(st.integers(0, 99)) < bad // 5:
        return draw(GARBAGE)
    order: dict[str, Any] = {}
    put(draw, order, bad, ["ref", "number", "id"],
        mostly(st.one_of(st.integers(1, 10**9), st.text(PRINTABLE, min_size=1, max_size=20)), TEXT))
    optional(draw, order, bad, ["region"],
              st.sampled_from(["msk", None, {"code": "msk"}, SimpleNamespace(code="msk")]))
    customer: dict[str, Any] = {}
    contact = draw(st.sampled_from(["email", "phone"]))
    put(draw, customer, bad, [contact], EMAILS if contact == "email" else PHONES)
    optional(draw, customer, bad, ["phone"], PHONES)
    optional(draw, customer, bad, ["name"], NAME)
    optional(draw, customer, bad, ["inn"], INNS)
    if draw(st.booleans()):
        put(draw, order, bad, ["customer", "client", "buyer"], shaped(customer))
    else:
        order.update(customer)  # the contacts on the order itself
    put(draw, order, bad, ["lines", "items", "positions"],
        st.lists(shop_lines(bad), min_size=1, max_size=4).flatmap(lambda xs: st.sampled_from([xs, tuple(xs)])))
    optional(draw, order, bad, ["delivery"], shop_lines(bad))
    optional(draw, order, bad, ["delivery_price", "shipping_price"], PRICE)
    optional(draw, order, bad, ["discount", "coupon_discount"], st.sampled_from([0, "0", "0,00", Decimal("0.01")]))
    optional(draw, order, bad, ["payments"], st.just([]))
    optional(draw, order, bad, ["fields"], st.dictionaries(
        st.sampled_from(["note", "legal", "customer", "predmet", "custom_predmet", "pay.ctt.subjects", 7]),
        FIELD_VALUES, max_size=4))
    optional(draw, order, bad, ["paid_at"], st.one_of(st.datetimes(), st.dates(),
                                                      st.datetimes().map(datetime.isoformat)))
    return draw(shaped(order))


REGISTERS = [
    ReceiptSettings(tax_system=TaxSystem.COMMON, payment_address="https://shop.example", vat=VatRate.RATE_22,
                    payment_method=PaymentMethod.FULL_PAYMENT),
    ReceiptSettings(tax_system=TaxSystem.SIMPLIFIED_IN, payment_address="https://магазин.рф", vat=VatRate.NO,
                    payment_method=PaymentMethod.ADVANCE, name_template="{name} {custom_predmet} {customer}",
                    cashier_name="Кассир Петрова"),
    ReceiptSettings(tax_system=TaxSystem.PATENT, payment_address="https://shop.example", vat=VatRate.RATE_10,
                    payment_method=PaymentMethod.PRE_PAYMENT_FULL, delivery_vat=VatRate.RATE_20,
                    name_template="{legal} за {name} — {pay.ctt.subjects}, заказ {order} {note} {sku}"),
]
RECEIPT_SETTINGS = st.builds(lambda base, cashier: replace(base, cashier_name=cashier),
                             st.sampled_from(REGISTERS), st.one_of(st.none(), TEXT))

# -- what must hold -------------------------------------------------------------------------

ROOTS = {"order", "ref", "region", "customer", "lines", "delivery", "delivery_price", "discount", "payments", "fields",
         "paid_at", "online", "settings", "amount", "refund_lines",
         "email", "phone", "name", "inn"}  # the buyer's contacts may sit on the order itself: order.email
PART_FIELDS = ROOTS | {"price", "quantity", "vat", "measure", "type", "sku"}
PATH = re.compile(r"[a-z_]+(\[\d+\])?(\.[a-z_]+(\[\d+\])?)*")
LETTER = re.compile(r"[A-Za-zА-Яа-яЁё]")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def visible(text: str) -> bool:
    """A letter, digit, punctuation mark or symbol: not only spaces, marks, control or format characters."""
    return any(ch.isalnum() or unicodedata.category(ch)[0] in "PS" for ch in text)


def expected_name(name: str) -> str:
    """A position name as KOMTET should get it: control characters and runs of spaces as one space, 128 at most."""
    cut = " ".join(CONTROL.sub(" ", name).split())[:128].rstrip()
    return cut if visible(cut) else "Товар"


def assert_names_the_field(exc: InvalidOrder, roots: set[str] = ROOTS) -> None:
    """A clear refusal: every key a field path we know, every message readable and short enough to store."""
    assert exc.errors, exc
    for path, message in exc.errors.items():
        inner = path.removeprefix("order.")
        root = re.match(r"[a-z_]+", inner)
        assert root and root.group() in roots, f"unexpected field {path!r}: {message}"
        if root.group() != "fields":  # template fields are named by the shop's own keys
            assert PATH.fullmatch(path), path
        assert isinstance(message, str) and LETTER.search(message), (path, message)
        assert message.isprintable() and len(message) <= InvalidOrder.MESSAGE_LIMIT, (path, message)
    assert len(str(exc)) <= InvalidOrder.TEXT_LIMIT and str(exc).isprintable()


def expected_cents(order: Order) -> int:
    """What the buyer pays, in kopecks, computed from the order by hand."""
    cents = 0
    for line in order.lines:
        if rubles(line.price) > 0:
            cents += to_cents(rubles(line.price) * line.quantity) - to_cents(line.discount)
    cents -= to_cents(order.discount)
    delivery = order.delivery
    if delivery is not None and delivery.price:
        cents += to_cents(rubles(delivery.price) * delivery.quantity) - to_cents(delivery.discount)
    return cents


def assert_sendable(payload: dict[str, Any]) -> None:
    """What KOMTET accepts: valid, exact to the kopeck, printable names within the limits, and JSON as sent."""
    assert validate_task(payload) == []
    positions = payload["positions"]
    assert sum(p["total"] for p in positions) == receipt_total(payload)
    for p in positions:
        assert p["total"] == rubles(p["total"]) and Decimal(0) <= p["total"] <= rubles(p["price"] * p["quantity"])
        assert 1 <= len(p["name"]) <= 128 and p["name"] == p["name"].strip() and visible(p["name"])
        assert not CONTROL.search(p["name"]) and not CONTROL.search(p.get("id", ""))
    client = payload["client"]
    assert set(client.get("phone", "+0")[1:]) <= set("0123456789")
    assert not CONTROL.search(client.get("name", "")) and len(client.get("name", "")) <= 128
    if "cashier" in payload:
        assert 1 <= len(payload["cashier"]["name"]) <= 64 and not CONTROL.search(payload["cashier"]["name"])
    body = dumps(payload)
    sent = json.loads(body, parse_float=Decimal)
    assert sent == payload and validate_task(sent) == []


def assert_kept(order: Order) -> None:
    """The outbox keeps the order as JSON text (``order_data``) and reads it back for a re-send."""
    text = json.dumps(order.to_dict(), ensure_ascii=False)
    text.encode("utf-8")
    assert "\x00" not in text
    assert Order.from_dict(json.loads(text)) == order


def adapt_and_build(shop_order: Any, receipt_settings: ReceiptSettings) -> tuple[Order | None, dict[str, Any] | None]:
    try:
        order = default_order_adapter(shop_order)
    except InvalidOrder as exc:
        assert_names_the_field(exc)
        event("refused by the adapter")
        return None, None
    assert isinstance(order, Order)
    assert_kept(order)
    try:
        payload = build_sale(order, receipt_settings, external_id="sale-1-1")
    except InvalidOrder as exc:
        assert_names_the_field(exc)
        event("refused by the builder")
        return order, None
    event("receipt built")
    assert_sendable(payload)
    assert to_cents(receipt_total(payload)) == expected_cents(order)
    return order, payload


# -- 1. the adapter and the builder ----------------------------------------------------------

REFUND_LINES = st.one_of(
    st.integers(-2, 5), st.just("delivery"), st.sampled_from(["0", "1", True]),
    st.fixed_dictionaries({"index": st.one_of(st.integers(-1, 4), st.just("delivery"), GARBAGE)},
                          optional={"quantity": st.one_of(QUANTITY, NUMBERS)}),
    st.builds(RefundLine, st.one_of(st.integers(-1, 4), GARBAGE), st.one_of(st.none(), QUANTITY, NUMBERS)),
    GARBAGE,
)


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shop_order=shop_orders(), receipt_settings=RECEIPT_SETTINGS, data=st.data())
def test_any_shop_order_becomes_a_valid_receipt_or_a_field_error(shop_order: Any, receipt_settings: ReceiptSettings,
                                                                  data: Any) -> None:
    order, sale = adapt_and_build(shop_order, receipt_settings)
    if sale is None:
        return
    lines = data.draw(st.one_of(st.none(), st.lists(REFUND_LINES, max_size=3)), label="refund lines")
    try:
        refund = build_refund(order, receipt_settings, external_id="refund-1-1", lines=lines)
    except InvalidOrder as exc:
        assert_names_the_field(exc)
        return
    assert_sendable(refund)
    assert receipt_total(refund) <= receipt_total(sale)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ref=st.one_of(st.integers(), TEXT, GARBAGE), lines=GARBAGE, customer=GARBAGE, region=st.one_of(TEXT, GARBAGE),
       delivery=GARBAGE, discount=st.one_of(NUMBERS, GARBAGE), payments=GARBAGE, fields=GARBAGE, paid_at=GARBAGE,
       online=GARBAGE, receipt_settings=RECEIPT_SETTINGS)
def test_order_constructors_refuse_garbage_by_field(ref: Any, lines: Any, customer: Any, region: Any, delivery: Any,
                                                    discount: Any, payments: Any, fields: Any, paid_at: Any,
                                                    online: Any, receipt_settings: ReceiptSettings) -> None:
    try:
        order = Order(ref=ref, lines=lines, customer=customer, region=region, delivery=delivery, discount=discount,
                      payments=payments, fields=fields, paid_at=paid_at, online=online)
    except InvalidOrder as exc:
        assert_names_the_field(exc)
        return
    assert_kept(order)
    try:
        payload = build_sale(order, receipt_settings, external_id="sale-1-1")
    except InvalidOrder as exc:
        assert_names_the_field(exc)
        return
    assert_sendable(payload)


@settings(max_examples=500, deadline=None)
@given(name=st.one_of(st.sampled_from(NAMES), TEXT, GARBAGE), price=st.one_of(PRICE, NUMBERS, GARBAGE),
       quantity=st.one_of(QUANTITY, NUMBERS, GARBAGE), vat=st.one_of(st.none(), NUMBERS, TEXT, GARBAGE),
       measure=st.one_of(NUMBERS, GARBAGE), discount=st.one_of(NUMBERS, GARBAGE),
       payment=st.tuples(st.one_of(st.sampled_from(["card", "cash", None, ""]), GARBAGE), st.one_of(NUMBERS, GARBAGE)))
def test_line_and_payment_constructors_name_the_field(name: Any, price: Any, quantity: Any, vat: Any, measure: Any,
                                                      discount: Any, payment: tuple[Any, Any]) -> None:
    for make in (lambda: OrderLine(name, price, quantity, vat=vat, measure=measure, discount=discount),
                 lambda: Payment(*payment)):
        try:
            make()
        except InvalidOrder as exc:
            assert_names_the_field(exc, PART_FIELDS)
            assert exc.field in ("name", "price", "quantity", "vat", "measure", "discount", "type", "amount")


@settings(max_examples=500, deadline=None)
@given(customer=st.fixed_dictionaries({}, optional={"email": st.one_of(EMAILS.any(), GARBAGE),
                                                    "phone": st.one_of(PHONES.any(), GARBAGE), "name": TEXT,
                                                    "inn": st.one_of(INNS.any(), GARBAGE)}),
       amount=st.one_of(PRICE, NUMBERS, GARBAGE), top_up_name=TEXT, cashier=st.one_of(st.none(), TEXT))
def test_top_up_with_bad_amount_or_contacts(customer: dict[str, Any], amount: Any, top_up_name: str,
                                            cashier: str | None) -> None:
    receipt_settings = replace(REGISTERS[0], top_up_name=top_up_name)
    try:
        payload = build_top_up(Customer(**customer), amount, receipt_settings, external_id="topup-1-1",
                               cashier=Cashier(cashier) if cashier is not None else None)
    except InvalidOrder as exc:
        assert_names_the_field(exc, PART_FIELDS)
        assert exc.field.split(".")[0] in ("customer", "email", "phone", "name", "inn", "amount", "settings")
        return
    assert_sendable(payload)
    assert receipt_total(payload) == rubles(Decimal(str(amount).strip().replace(",", ".")))


# -- the bugs the fuzzing found, one example each ---------------------------------------------

SHOP = ReceiptSettings(tax_system=TaxSystem.COMMON, payment_address="https://shop.example", vat=VatRate.RATE_22,
                       payment_method=PaymentMethod.FULL_PAYMENT)
BUYER = {"email": "buyer@example.com"}


def refused(shop_order: Any, settings_: ReceiptSettings = SHOP) -> InvalidOrder:
    with pytest.raises(InvalidOrder) as caught:
        build_sale(default_order_adapter(shop_order), settings_, external_id="sale-1-1")
    assert_names_the_field(caught.value)
    return caught.value


@pytest.mark.parametrize("price, message", [
    ("1e400", "слишком большое"),  # was decimal.InvalidOperation in rubles()
    (10**5000, "слишком большое"),  # was ValueError: int to str conversion over 4300 digits
    (float("nan"), "finite"), (Decimal("sNaN"), "finite"), ("12.5.1", "number"), (None, "number"), ([1], "number"),
    ("-1", "отрицательной"),
], ids=["1e400", "10**5000", "nan", "sNaN", "12.5.1", "None", "list", "negative"])
def test_bad_prices_name_the_line(price: Any, message: str) -> None:
    error = refused({"id": 1, **BUYER, "items": [{"name": "Чай", "price": "1", "qty": 1},
                                                 {"name": "Кофе", "price": price, "qty": 1}]})
    assert error.field in ("order.lines[1].price", "lines[1].price") and message in error.errors[error.field]


@pytest.mark.parametrize("vat", ["inf", "1e400", 1e400])  # was OverflowError from VatRate's float parsing
def test_infinite_vat_is_a_field_error(vat: Any) -> None:
    assert refused({"id": 1, **BUYER, "items": [{"name": "Чай", "price": 1, "qty": 1, "vat": vat}]}).field == \
        "order.lines[0].vat"


@pytest.mark.parametrize("shop_order, field", [
    ({"id": 1, **BUYER, "items": [{"name": "Чай", "price": 1, "qty": 1}], "fields": [1, 2]}, "order.fields"),
    ({"id": 1, **BUYER, "items": [{"name": "Чай", "price": 1, "qty": 1}], "fields": "abc"}, "order.fields"),
    ({"id": 1, **BUYER, "items": [{"name": "Чай", "price": 1, "qty": 1}], "paid_at": "вчера"}, "order.paid_at"),
    ({"id": 1, **BUYER, "items": 5}, "order.lines"),
    ({"id": 1, **BUYER, "items": "Чай"}, "order.lines"),
    ({"id": 1, **BUYER, "items": ["Чай"]}, "order.lines[0]"),
    ({"id": 1, **BUYER, "items": [{"name": "Чай", "price": 1, "qty": 1}], "payments": [{"amount": 1}]},
     "order.payments[0].type"),
    ({"id": 1, **BUYER, "items": [{"name": "Чай", "price": 1, "qty": 1}], "payments": [{"type": "card"}]},
     "order.payments[0].amount"),
    ({"id": 1, "customer": {"email": ["a@b.ru"]}, "items": [{"name": "Чай", "price": 1, "qty": 1}]},
     "order.customer.email"),
    ({"id": 1, "customer": "Иван", "items": [{"name": "Чай", "price": 1, "qty": 1}]}, "order.customer"),
    ({"id": None, **BUYER, "items": [{"name": "Чай", "price": 1, "qty": 1}]}, "order.ref"),  # was the order "None"
    ({"id": "12\x00", **BUYER, "items": [{"name": "Чай", "price": 1, "qty": 1}]}, "order.ref"),
    ({"id": "1" * 129, **BUYER, "items": [{"name": "Чай", "price": 1, "qty": 1}]}, "order.ref"),
    ({"id": 1, "region": "m" * 65, **BUYER, "items": [{"name": "Чай", "price": 1, "qty": 1}]}, "order.region"),
    ({"id": 1, **BUYER, "items": [{"name": "Чай", "price": 1, "quantity": 1}],
      "delivery_price": "-300"}, "delivery.price"),
    (SimpleNamespace(id=1, email="a@b.ru", items=[SimpleNamespace(name="Чай", price=_boom, qty=1)]),
     "order.lines[0].price"),
    (SimpleNamespace(id=1, email="a@b.ru", items=[Exploding()]), "order.lines[0].name"),
    ("order #1", "order"), (None, "order"), ([{"id": 1}], "order"),
    ({"id": 1, "email": "a@b.ru", "items": [{"title": "Чай", "price": 1, "count": 1, "sku": ["x"]}]},
     "order.lines[0].sku"),
])
def test_wrong_types_are_field_errors(shop_order: Any, field: str) -> None:
    """Each of these used to raise TypeError, ValueError, AttributeError or KeyError (or slip through)."""
    with pytest.raises(InvalidOrder) as caught:
        build_sale(default_order_adapter(shop_order), SHOP, external_id="sale-1-1")
    assert_names_the_field(caught.value)
    assert caught.value.field == field, caught.value.errors


def test_text_values_read_as_numbers_and_unicode_digits_as_ascii() -> None:
    order = default_order_adapter({"id": 42, "phone": "８ (９９９) １２３-４５-６７", "name": "Иван\u200f",
                                   "items": [{"name": "Чай", "price": " 12,50 ", "qty": "2"}]})
    payload = build_sale(order, SHOP, external_id="sale-42-1")
    assert payload["client"] == {"phone": "+79991234567", "name": "Иван\u200f"}
    assert payload["positions"][0]["total"] == Decimal("25.00") and order.ref == "42"
    with pytest.raises(InvalidOrder) as caught:
        build_sale(order.replace(customer=Customer(email="a@b.ru", inn="７７０７０８３８９３")), SHOP, external_id="x")
    assert caught.value.field == "customer.inn"
    assert validate_task(payload | {"client": {"phone": "+٧٩٩٩١٢٣٤٥٦٧"}})  # KOMTET wants ASCII digits
    assert validate_task(payload | {"client": {"email": "a@b.ru\n"}})  # "$" let a trailing newline through


def test_refund_lines_are_checked() -> None:
    order = Order("1", [OrderLine("Чай", "100", 2), OrderLine("Кофе", "50", 1)], Customer(email="a@b.ru"))
    for lines, field in [([{"quantity": 1}], "refund_lines[0].index"), ([{"index": [0]}], "refund_lines[0].index"),
                         ([{"index": 0, "quantity": "NaN"}], "refund_lines[0].quantity"),
                         ([RefundLine(0, "abc")], "refund_lines[0].quantity"), ([True], "refund_lines[0]"),
                         ([0, 0], "refund_lines[1].quantity"), ("0", "refund_lines")]:
        with pytest.raises(InvalidOrder) as caught:
            build_refund(order, SHOP, external_id="r", lines=lines)
        assert caught.value.field == field, (lines, caught.value.errors)
    twice = build_refund(order, SHOP, external_id="r", lines=[RefundLine(0, 1), {"index": "0", "quantity": "1"}])
    assert receipt_total(twice) == Decimal("200.00")


# -- 3. Unicode in every string the shop supplies ----------------------------------------------


def test_unicode_names_are_cleaned_and_cut_to_128() -> None:
    long = "😀" * 200
    order = Order("Заказ №15/А", [OrderLine(long, 1, 1), OrderLine("Чай\x00\tзелёный  \x1b[0m", 1, 1, sku="SKU\x00-1"),
                                  OrderLine("\u202eעברית\u200f", 1, 1)],
                  Customer(email="почта@пример.рф", name="Я" * 300), fields={"predmet": "матем\u0430тика\x00"})
    payload = build_sale(order, SHOP, external_id="sale-1-1")
    names = [p["name"] for p in payload["positions"]]
    assert names == ["😀" * 128, "Чай зелёный [0m", "\u202eעברית\u200f"]
    assert payload["positions"][1]["id"] == "SKU -1"
    assert payload["client"] == {"email": "почта@пример.рф", "name": "Я" * 128}
    templated = build_sale(order, replace(SHOP, name_template="{name} — {custom_predmet} {order}"), external_id="x")
    assert templated["positions"][1]["name"] == "Чай зелёный [0m — матем\u0430тика Заказ №15/А"
    assert len(templated["positions"][0]["name"]) == 128
    assert_sendable(payload)
    assert_sendable(templated)
    assert build_sale(order.replace(lines=[OrderLine("\x08", 1, 1)]), SHOP,
                      external_id="x")["positions"][0]["name"] == "Товар"


def test_names_with_nothing_visible_become_placeholders() -> None:
    order = Order("1", [OrderLine("\x00\x01 \u2028", 1, 1), OrderLine("\u200f\u200e", 1, 1, sku="\x00")],
                  Customer(email="a@b.ru", name="\x08"), delivery=OrderLine("\t\x7f", 100, 1))
    payload = build_sale(order, replace(SHOP, cashier_name="\u200b"), external_id="sale-1-1")
    assert [p["name"] for p in payload["positions"]] == ["Товар", "Товар", "Доставка"]
    assert "id" not in payload["positions"][1] and payload["client"] == {"email": "a@b.ru"}
    assert "cashier" not in payload
    top_up = build_top_up(Customer(email="a@b.ru"), 10, replace(SHOP, top_up_name="\x00"), external_id="t")
    assert top_up["positions"][0]["name"] == "Пополнение баланса"


@pytest.mark.parametrize("change, field", [
    (dict(customer=Customer(email="a\u200f@b.ru")), "customer.email"),
    (dict(customer=Customer(email="a\x00@b.ru")), "customer.email"),
    (dict(customer=Customer(phone="телефон\u200f")), "customer.phone"),
])
def test_unprintable_contacts_are_refused(change: dict[str, Any], field: str) -> None:
    order = Order("1", [OrderLine("Чай", 1, 1)], Customer(email="a@b.ru")).replace(**change)
    with pytest.raises(InvalidOrder) as caught:
        build_sale(order, SHOP, external_id="sale-1-1")
    assert_names_the_field(caught.value)
    assert caught.value.field == field


def test_lone_surrogates_are_refused_where_they_enter() -> None:
    for make, field in [(lambda: OrderLine("Чай\ud800", 1, 1), "name"), (lambda: Customer(name="\udfff"), "name"),
                        (lambda: Order("1\ud83d"), "ref"),
                        (lambda: Order("1", fields={"note": "\ud800"}), "fields.note")]:
        with pytest.raises(InvalidOrder) as caught:
            make()
        assert caught.value.field == field
        assert_names_the_field(caught.value, PART_FIELDS)


# -- 2. the same through kassa.fiscalize, on SQLite and PostgreSQL ------------------------------


@pytest.fixture
def komtet_emulator() -> Iterator[KomtetEmulator]:
    with KomtetEmulator(delay=None, seed=7) as emu:  # no processing, no callbacks: the sending is what counts
        emu.add_shop(shop_id=SHOP_ID, secret=SECRET, queues=(QUEUE,))
        yield emu


SHOP_PAYMENTS = sa.Table("shop_payment", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                         sa.Column("note", sa.Text))


@pytest.fixture
def shop(make_app, komtet_emulator):
    """A shop with one register (region msk) and its own ``shop_payment`` table, sending synchronously."""
    app, db, kassa = make_app(API_URL=komtet_emulator.url, DISPATCH="sync", TIMEOUT=(1.0, 2.0))
    with app.app_context():
        SHOP_PAYMENTS.create(db.engine)
        add_register(db, kassa.models, name="Касса «Москва» 🏪", name_template="{name} {custom_predmet}")
    return app, db, kassa


def _start(app: Any, db: Any, kassa: Any, emulator: KomtetEmulator) -> None:
    """Empty tables for the next example (examples share the test's database)."""
    models = kassa.models
    db.session.execute(sa.delete(models.ReceiptEvent))
    db.session.execute(sa.delete(models.Receipt))
    db.session.execute(sa.delete(SHOP_PAYMENTS))
    db.session.commit()
    emulator.reset()


def _fiscalize_in_the_shops_transaction(app: Any, db: Any, kassa: Any, emulator: KomtetEmulator,
                                        shop_order: Any) -> Any:
    """The shop's payment handler: its own row, fiscalize, more of its own work, commit. Returns the receipt row."""
    with app.app_context():
        models = kassa.models
        _start(app, db, kassa, emulator)
        db.session.execute(SHOP_PAYMENTS.insert().values(note="paid"))
        receipt = kassa.fiscalize(shop_order)
        assert receipt is not None and receipt.id is not None
        note = "paid, receipt " + receipt.state
        db.session.execute(SHOP_PAYMENTS.update().values(note=note))
        db.session.commit()  # the shop's transaction is not broken
        db.session.expire_all()
        assert db.session.scalars(sa.select(SHOP_PAYMENTS.c.note)).all() == [note]
        [row] = db.session.scalars(sa.select(models.Receipt)).all()  # exactly one receipt row
        events = db.session.scalars(sa.select(models.ReceiptEvent).order_by(models.ReceiptEvent.id)).all()
        assert events and all(e.receipt_id == row.id for e in events) and events[0].action == "created"
        assert row.order_data and json.loads(row.order_data)  # nothing is lost: the order is kept
        if currently_in_test_context():
            event(f"receipt {row.state}")
        if row.state == "failed":
            assert len(events) == 1 and events[0].to_state == "failed"
            assert row.payload_json is None and emulator.tasks() == []
            reason = row.last_error or ""
            assert re.search(r"(order|lines|customer|delivery|payments|discount|fields|ref|region|paid_at)"
                             r"(\[\d+\])?(\.\w+)*(\[\d+\])?:|регион", reason), reason
        else:  # built: sent to the emulator over HTTP and accepted there
            assert row.state == "sent", (row.state, row.last_error)
            [task] = emulator.tasks()
            assert task.external_id == row.external_id and json.loads(task.raw_body) == json.loads(row.payload_json)
            assert_sendable(task.payload)
        return row


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(shop_order=shop_orders())
def test_bad_orders_become_failed_receipts_in_the_shops_transaction(shop, komtet_emulator, shop_order: Any) -> None:
    app, db, kassa = shop
    _fiscalize_in_the_shops_transaction(app, db, kassa, komtet_emulator, shop_order)


@pytest.mark.parametrize("shop_order", [
    {"id": 1, "email": "a@b.ru", "items": [{"name": "Чай", "price": "1e400", "qty": 1}]},
    {"id": 1, "email": "a@b.ru", "items": [{"name": "Чай", "price": 1, "qty": 1, "payment_object": "x" * 60}]},
    {"id": "Заказ\x00", "email": "a@b.ru", "items": [{"name": "Чай", "price": 1, "qty": 1}]},
    {"id": "7" * 500, "email": "a@b.ru", "items": [{"name": "Чай", "price": 1, "qty": 1}]},
    {"id": 1, "email": "a@b.ru", "region": "ю" * 100, "items": [{"name": "Чай", "price": 1, "qty": 1}]},
    {"id": 1, "email": "a@b.ru", "items": [{"name": "Чай", "price": 1, "qty": 1}], "fields": {"x": {1, 2}}},
    {"id": 1, "email": "a@b.ru", "items": [{"name": "Чай", "price": 1, "qty": 1}], "paid_at": date(2024, 5, 1)},
    {"id": 1, "email": "a@b.ru", "items": [{"name": "\x00", "price": 1, "qty": 1}]},
    "not an order", 12345, None,
])
def test_orders_that_broke_the_checkout(shop, komtet_emulator, shop_order: Any) -> None:
    """The first eight used to raise out of ``fiscalize`` or break the shop's transaction on PostgreSQL."""
    app, db, kassa = shop
    row = _fiscalize_in_the_shops_transaction(app, db, kassa, komtet_emulator, shop_order)
    assert row.state in ("failed", "sent")


# Unicode end to end: what the emulator (KOMTET's rules) receives.
PRINTABLE_NAME = st.text(st.characters(exclude_characters="\x00"), min_size=1, max_size=140).filter(str.strip)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(register_name=PRINTABLE_NAME.map(lambda t: t[:128]), names=st.lists(NAME.any(), min_size=1, max_size=3),
       customer_name=NAME.any(), email=EMAILS.usually_good(), phone=st.one_of(st.none(), PHONES.usually_good()),
       ref=mostly(st.text(PRINTABLE, min_size=1, max_size=30), TEXT).usually_good(), predmet=NAME.any(),
       template=st.sampled_from([None, "{name} {custom_predmet}", "{customer}: {name} ({order})"]))
def test_unicode_in_every_string_is_sent_or_refused_by_field(shop, komtet_emulator, register_name: str,
                                                             names: list[str], customer_name: str, email: str,
                                                             phone: Any, ref: str, predmet: str,
                                                             template: str | None) -> None:
    app, db, kassa = shop
    with app.app_context():
        db.session.execute(sa.update(kassa.models.CashRegister).values(name=register_name, name_template=template))
        db.session.commit()
    shop_order = {"number": ref, "region": "msk", "fields": {"predmet": predmet},
                  "customer": {"email": email, "phone": phone, "name": customer_name},
                  "items": [{"title": name, "unit_price": "10.00", "qty": 1} for name in names]}
    row = _fiscalize_in_the_shops_transaction(app, db, kassa, komtet_emulator, shop_order)
    if row.state == "sent":
        [task] = komtet_emulator.tasks()
        sent_names = [p["name"] for p in task.payload["positions"]]
        assert all(1 <= len(n) <= 128 for n in sent_names)
        if template is None:
            assert sent_names == [expected_name(n) for n in names]
        assert f"«{register_name}»" in row.routing


# -- unreadable orders keep a receipt of their own ---------------------------------------------


def test_two_unreadable_orders_keep_two_receipts(shop) -> None:
    app, db, kassa = shop
    alike = {"note": "x" * 120}
    with app.app_context():
        first = kassa.fiscalize(alike | {"items": 1})
        second = kassa.fiscalize(alike | {"items": 2})
        db.session.commit()
        assert first.id != second.id and first.state == second.state == "failed"


@pytest.mark.parametrize("shop_order", [SimpleNamespace(id="12\x00", items=[]), Exploding(), [10**5000]],
                         ids=["NUL in id", "exploding properties", "int without repr"])
def test_unreadable_objects_with_hostile_ids(shop, komtet_emulator, shop_order: Any) -> None:
    app, db, kassa = shop
    row = _fiscalize_in_the_shops_transaction(app, db, kassa, komtet_emulator, shop_order)
    assert row.state == "failed" and "\x00" not in row.order_ref + row.external_id


class _HostileCustomer:
    email = "buyer@example.com"

    @property
    def phone(self) -> str:
        raise RuntimeError("the CRM is down")


@pytest.mark.parametrize("customer, ref, field", [
    (_HostileCustomer(), "topup-1", "customer.phone"),
    (SimpleNamespace(email="a@b.ru"), "12\x00", "ref"),
    (SimpleNamespace(email="not an email\u202e"), "topup-2", "customer.email"),
])
def test_top_ups_the_shop_cannot_describe_are_kept_failed(shop, customer: Any, ref: str, field: str) -> None:
    app, db, kassa = shop
    with app.app_context():
        receipt = kassa.top_up(customer, "100.00", region="msk", ref=ref)
        db.session.commit()
        assert receipt.state == "failed" and field in receipt.last_error, receipt.last_error
