"""Integer kopecks become rubles at the edge: 65000 kopecks is 650,00 ₽, never 65 000 ₽."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flask_komtet import OrderLine
from flask_komtet.errors import InvalidOrder
from flask_komtet.kopecks import line_from_kopecks, rubles_from_kopecks


def test_kopecks_become_rubles() -> None:
    assert rubles_from_kopecks(65000) == Decimal("650.00")
    assert rubles_from_kopecks(1) == Decimal("0.01") and rubles_from_kopecks(-150) == Decimal("-1.50")
    line = line_from_kopecks("Чай", 65000, 2, vat="22", discount=1000)
    assert line == OrderLine("Чай", Decimal("650.00"), 2, vat="22", discount=Decimal("10.00"))


@pytest.mark.parametrize("value", [650.0, "65000", Decimal("650.00"), True, None])
def test_anything_but_whole_kopecks_is_refused_by_field(value) -> None:
    with pytest.raises(InvalidOrder, match="price"):
        line_from_kopecks("Чай", value)
