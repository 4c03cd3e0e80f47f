"""Six weeks of past receipts for the demo, so that «Сводка» shows real shapes at once.

Rows are written straight into the receipts table (they are history: done,
refused or waiting for a person, never sent again): weekday and weekend
rhythms, a slow afternoon at KOMTET, a register that ran out of paper, refunds,
sales held on the Saint Petersburg register (it waits for a manual send), and
a wholesale order a month on that УСН register, so its VAT-threshold bar has
something to show. Their orders («D…») exist only as receipts.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

__all__ = ["seed_history"]

ZONE = ZoneInfo("Europe/Moscow")
ERRORS = [
    ("error", "Касса: закончилась бумага в ККТ", 4),
    ("error", "Ошибка регистрации позиции: неверная ставка НДС для СНО", 2),
    ("failed", "Нет активной кассы для региона «Новосибирск»", 5),
    ("failed", "KOMTET отклонил чек: Неверный формат email покупателя", 1),
]


def _utc(local: datetime) -> datetime:
    return local.replace(tzinfo=ZONE).astimezone(UTC).replace(tzinfo=None)


def _row(n: int, register_id: int | None, kind: str, state: str, total: Decimal, created: datetime,
         seconds: float | None = None, error: str | None = None) -> dict[str, Any]:
    done = created + timedelta(seconds=seconds) if state == "done" and seconds is not None else None
    return {"external_id": f"{kind}-D{n}-1", "order_ref": f"D{n}", "kind": kind, "event_key": "", "sequence": 1,
            "intent": "sellReturn" if kind == "refund" else "sell", "state": state, "register_id": register_id,
            "total": total, "created_at": created, "updated_at": done or created, "sent_at": created if done else None,
            "done_at": done, "last_error": error, "attempts": 1 if state != "held" else 0}


def seed_history(db: Any, models: Any, registers: list[Any], *, days: int = 42, seed: int = 54) -> int:
    """Add the past receipts once (nothing if the demo already has receipts); returns how many were added."""
    Receipt = models.Receipt
    if db.session.scalar(sa.select(sa.func.count()).select_from(Receipt)):
        return 0
    rng = random.Random(seed)
    msk, spb = registers[0].id, registers[1].id if len(registers) > 1 else registers[0].id
    today = datetime.now(ZONE).date()
    rows, n = [], 0
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        orders = int(rng.gauss(26 if day.weekday() < 5 else 38, 5))
        slow = back in (9, 10)  # KOMTET answered slowly for two days
        for _ in range(max(4, orders)):
            n += 1
            created = _utc(datetime.combine(day, time(rng.choice(range(9, 23)), rng.randrange(60))))
            total = Decimal(rng.choice((540, 650, 1250, 1890, 2900, 3200, 4800))) * rng.choice((1, 1, 1, 2, 3))
            register = msk if rng.random() < 0.8 else spb
            state = "held" if register == spb and back <= 2 and rng.random() < 0.5 else "done"
            seconds = rng.lognormvariate(1.6 if not slow else 3.6, 0.5)
            rows.append(_row(n, register, "sale", state, total, created, seconds))
            if state == "done" and rng.random() < 0.04:
                n += 1
                rows.append(_row(n, register, "refund", "done", total, created + timedelta(hours=20),
                                 rng.lognormvariate(1.6, 0.4)))
        for receipt_state, text, weight in ERRORS:
            if rng.random() < weight / 12:
                n += 1
                created = _utc(datetime.combine(day, time(rng.choice(range(10, 20)), rng.randrange(60))))
                register = None if "Новосибирск" in text else msk
                rows.append(_row(n, register, "sale", receipt_state, Decimal(rng.choice((650, 2900))), created,
                                 error=text))
    for month in range(1, today.month + 1):  # wholesale on the УСН register: the threshold bar fills up
        first = date(today.year, month, 1)
        if first < today - timedelta(days=days):
            n += 1
            rows.append(_row(n, spb, "sale", "done", Decimal("1650000.00"), _utc(datetime.combine(first, time(11))), 4.0))
    db.session.execute(sa.insert(Receipt), rows)
    db.session.commit()
    return len(rows)
