"""What the shop shows about its receipts, read from the extension's ``Receipt`` table."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from .extensions import db, kassa

__all__ = ["PENDING", "latest_sale", "receipts_by_ref", "receipts_for"]

#: Receipts still on their way: the order page refreshes itself while it shows one.
PENDING = {"queued", "sending", "sent"}


def receipts_by_ref(refs: Iterable[str]) -> dict[str, list[Any]]:
    """Every receipt of the given order refs (one query), oldest first."""
    refs = [ref for ref in set(refs) if ref]
    result: dict[str, list[Any]] = defaultdict(list)
    if refs:
        Receipt = kassa.models.Receipt
        for receipt in db.session.scalars(
                db.select(Receipt).where(Receipt.order_ref.in_(refs)).order_by(Receipt.id)):
            result[receipt.order_ref].append(receipt)
    return result


def receipts_for(ref: str) -> list[Any]:
    return receipts_by_ref([ref]).get(ref, [])


def latest_sale(receipts: list[Any]) -> Any | None:
    """The order's current sale receipt (the newest attempt), if any."""
    sales = [r for r in receipts if r.kind in ("sale", "manual")]
    return sales[-1] if sales else None
