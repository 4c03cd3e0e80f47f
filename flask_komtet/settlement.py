"""Settlement receipts («Полный расчет» after a prepayment): see issue 11."""

from __future__ import annotations

from typing import Any


def create_settlement(state: Any, shop_order: Any) -> Any:
    raise NotImplementedError("settlement receipts are not implemented yet")


def settlement_builder(state: Any, order: Any) -> Any:
    raise NotImplementedError("settlement receipts are not implemented yet")
