"""The pure rules of follow-up receipts: refunds never pass what was sold and add up to it exactly."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flask_komtet import OrderLine
from flask_komtet.enums import VatRate
from flask_komtet.errors import InvalidOrder
from flask_komtet.receipts import RefundLine
from flask_komtet.receipts.followups import (
    refund_items,
    refund_request,
    refunded,
    sale_indices,
    settled_items,
    settled_vat,
)

SOLD_LINE = {"name": "Чашка", "price": Decimal("333.33"), "quantity": Decimal(3), "total": Decimal("899.99"),
             "vat": "122", "measure": 0, "payment_method": "advance", "payment_object": "payment",
             "mark_code": {"gs1m": "0104601234567893215abc"}, "agent_info": {"type": "commissionaire"}}


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(st.integers(min_value=1, max_value=4), min_size=1, max_size=6))
def test_partial_refunds_of_a_line_never_pass_it_and_add_up_to_it(parts: list[int]) -> None:
    sold = {1: SOLD_LINE}
    done: dict = {}
    returned = []
    for quantity in parts:
        left = SOLD_LINE["quantity"] - sum((q for q, _ in done.values()), Decimal(0))
        if quantity > left:
            with pytest.raises(InvalidOrder) as refused:
                refund_items(sold, [RefundLine(1, Decimal(quantity))], done)
            assert refused.value.field == "refund_lines[0].quantity"
            continue
        [(index, item)] = refund_items(sold, [RefundLine(1, Decimal(quantity))], done)
        assert index == 1 and item["quantity"] == quantity
        assert 0 <= item["total"] <= item["price"] * item["quantity"]
        returned.append(item)
        done = refunded([{1: item}, {i: {"quantity": q, "total": t} for i, (q, t) in done.items()}])
    assert sum((i["quantity"] for i in returned), Decimal(0)) <= 3
    if sum((i["quantity"] for i in returned), Decimal(0)) == 3:
        assert sum((i["total"] for i in returned), Decimal(0)) == SOLD_LINE["total"]  # to the kopeck


def test_a_refund_copies_every_key_it_was_sold_with() -> None:
    [(_, item)] = refund_items({0: SOLD_LINE}, [RefundLine(0, Decimal(1))], {})
    assert {k: v for k, v in item.items() if k not in ("quantity", "total")} == {
        k: v for k, v in SOLD_LINE.items() if k not in ("quantity", "total")}


def test_nothing_left_to_refund_is_refused() -> None:
    done = {0: (Decimal(3), Decimal("899.99"))}
    with pytest.raises(InvalidOrder, match="уже возвращены"):
        refund_items({0: SOLD_LINE}, None, done)


def test_refund_lines_in_every_documented_form() -> None:
    tea, cup = OrderLine("Чай", 100), OrderLine("Чашка", 50, 2)
    delivery = OrderLine("Доставка", 300)
    lines = refund_request([0, {"index": "1", "quantity": "1"}, RefundLine("delivery"), cup], [tea, cup], delivery)
    assert lines == [RefundLine(0), RefundLine(1, Decimal(1)), RefundLine("delivery"), RefundLine(1)]
    for junk, field in ((object(), "refund_lines[0]"), (True, "refund_lines[0]"), ({"quantity": 1}, "refund_lines[0].index"),
                        (OrderLine("Нет такой", 1), "refund_lines[0]"), ({"index": 0, "quantity": "-1"},
                                                                         "refund_lines[0].quantity")):
        with pytest.raises(InvalidOrder) as refused:
            refund_request([junk], [tea, cup], delivery)
        assert refused.value.field == field, junk
    with pytest.raises(InvalidOrder):
        refund_request("0,1", [tea, cup])


def test_positions_are_matched_to_order_lines_past_gifts_and_delivery() -> None:
    data = {"lines": [{"price": "100"}, {"price": "0"}, {"price": "50"}], "delivery": {"price": "300"}}
    assert sale_indices(data, 3) == [0, 2, "delivery"]
    assert sale_indices(data, 2) == [0, 2]  # delivery left out (free after all)
    assert sale_indices(data, 5) is None


def test_a_settlement_takes_the_rate_in_force_on_the_shipment_day() -> None:
    assert settled_vat("120", on=date(2025, 12, 31)) is VatRate.RATE_20
    assert settled_vat("120", on=date(2026, 1, 1)) is VatRate.RATE_22  # 425-ФЗ: 22 % from 2026-01-01
    assert settled_vat("110", on=date(2026, 3, 1)) is VatRate.RATE_10
    assert settled_vat("105", on=date(2026, 3, 1), default_then=VatRate.RATE_5,
                       default_now=VatRate.NO) is VatRate.NO  # the register's default changed with its tax system
    [(_, item)] = settled_items({0: SOLD_LINE}, {0: (Decimal(1), Decimal("300.00"))}, objects={0: "product"},
                                default_object="service", vat=lambda rate: settled_vat(rate, on=date(2026, 2, 1)))
    assert (item["payment_method"], item["payment_object"], item["vat"]) == ("full_payment", "product", "22")
    assert (item["quantity"], item["total"]) == (Decimal(2), Decimal("599.99"))
    assert item["mark_code"] == SOLD_LINE["mark_code"]
