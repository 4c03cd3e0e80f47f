"""Receipts made for the purpose of «Сводка»'s tests: rows with chosen states, times, sums and errors."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

MSK = ZoneInfo("Europe/Moscow")
_numbers = itertools.count(1)

INTENTS = {"sale": "sell", "refund": "sellReturn", "topup": "sell", "settle": "sell", "manual": "sell",
           "correction": "sellCorrection"}


def utc(local: datetime) -> datetime:
    """A Moscow wall-clock time as stored (naive UTC)."""
    return local.replace(tzinfo=MSK).astimezone(UTC).replace(tzinfo=None)


def receipt_row(*, created: datetime, state: str = "done", kind: str = "sale", total: str | Decimal = "100.00",
                seconds: float | None = 10.0, register_id: int | None = 1, error: str | None = None,
                intent: str | None = None, **columns: Any) -> dict[str, Any]:
    """One receipt's columns; ``created`` is Moscow local time; ``seconds`` from creation to done."""
    number = next(_numbers)
    created_utc = utc(created)
    row = {
        "external_id": f"{kind}-t{number}-1", "order_ref": f"t{number}", "kind": kind, "event_key": "",
        "sequence": 1, "intent": intent or INTENTS[kind], "state": state, "register_id": register_id,
        "total": Decimal(total), "created_at": created_utc, "updated_at": created_utc, "last_error": error,
        "attempts": 1,
    }
    if state == "done" and seconds is not None:
        row["done_at"] = created_utc + timedelta(seconds=seconds)
    row.update(columns)
    return row


def insert(app: Any, db: Any, rows: list[dict[str, Any]]) -> None:
    """Insert rows with one statement (core, no ORM), in the app's database."""
    with app.app_context():
        Receipt = app.extensions["komtet_kassa"].models.Receipt
        keys = sorted({key for row in rows for key in row})
        db.session.execute(sa.insert(Receipt), [{key: row.get(key) for key in keys} for row in rows])
        db.session.commit()


def add_registers(app: Any, db: Any, *registers: dict[str, Any]) -> list[int]:
    """Registers with the given columns (the others filled in); returns their ids."""
    ids = []
    with app.app_context():
        CashRegister = app.extensions["komtet_kassa"].models.CashRegister
        for n, fields in enumerate(registers, 1):
            values = {"name": f"Касса {n}", "region": f"r{n}", "shop_id": f"shop-{n}", "secret": "s", "queue_id": 1,
                      "payment_address": "https://shop.test"} | fields
            register = CashRegister(**values)
            db.session.add(register)
            db.session.flush()
            ids.append(register.id)
        db.session.commit()
    return ids


def percentile_cont(values: list[float], p: float) -> float:
    """PostgreSQL's ``percentile_cont``: linear interpolation between the closest ranks."""
    ordered = sorted(values)
    position = p * (len(ordered) - 1)
    below = int(position)
    fraction = position - below
    if below + 1 >= len(ordered):
        return ordered[below]
    return ordered[below] + (ordered[below + 1] - ordered[below]) * fraction
