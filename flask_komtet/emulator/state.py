"""The emulator's memory: shops, queues, tasks, submissions and callback deliveries."""

from __future__ import annotations

import hashlib
import itertools
import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .rules import marks_refusal, taxes_refusal

__all__ = ["CallbackRecord", "EmulatedShop", "Faults", "EmulatorState", "TaskRecord"]

_INTENT_N = {"sell": 1, "sellReturn": 2, "buy": 3, "buyReturn": 4, "sellCorrection": 1,
             "sellReturnCorrection": 2, "buyCorrection": 3, "buyReturnCorrection": 4}


@dataclass
class EmulatedShop:
    """One KOMTET shop: its id, secret, queues (id → "active"/"passive") and callback URLs."""

    shop_id: str
    secret: str
    queues: dict[int, str]
    success_url: str | None = None
    failure_url: str | None = None
    delay: float | None = None
    fail_all: str | None = None
    fn: str = ""
    rn: str = ""
    document_number: int = 0

    def __post_init__(self) -> None:
        digest = int(hashlib.sha1(self.shop_id.encode()).hexdigest(), 16)
        self.fn = self.fn or f"9999{digest % 10**12:012d}"
        self.rn = self.rn or f"{(digest >> 40) % 10**16:016d}"


@dataclass
class TaskRecord:
    """A task as KOMTET keeps it, with the payload and the raw body exactly as received."""

    id: int
    shop_id: str
    queue_id: int
    external_id: str
    payload: dict[str, Any]
    raw_body: bytes
    state: str = "new"
    error_description: str | None = None
    fiscal_data: dict[str, Any] | None = None
    receipt_url: str | None = None
    created_at: float = field(default_factory=time.time)

    def info(self) -> dict[str, Any]:
        """The task document of ``GET /tasks/{id}`` and of callbacks."""
        document: dict[str, Any] = {"id": self.id, "external_id": self.external_id, "state": self.state,
                                    "error_description": self.error_description, "fiscal_data": self.fiscal_data}
        if self.receipt_url:
            document["receipt_url"] = self.receipt_url
        return document


@dataclass
class CallbackRecord:
    """One delivery attempt of a callback."""

    task_id: int
    external_id: str
    url: str
    state: str
    status: int | str
    attempt: int
    at: float
    duplicate: bool = False
    body: bytes = b""


@dataclass
class Faults:
    """Failures on demand. Rates are shares of requests (0..1); delays are seconds."""

    error_rate: float = 0.0
    latency: float = 0.0
    drop_rate: float = 0.0
    accept_then_timeout_rate: float = 0.0
    accept_then_timeout_delay: float = 1.0
    callback_loss_rate: float = 0.0
    callback_duplicate_rate: float = 0.0
    callback_delay: float | tuple[float, float] = 0.0
    callback_reorder: bool = False
    reorder_window: float = 0.3
    #: Process tasks as a register checking taxes: accepted tasks whose VAT cross-check fails end in ``error``.
    strict_taxes: bool = False
    #: A regex: tasks with a position whose mark code matches end in ``error`` (the code failed its check).
    fail_marks: str | None = None
    #: The day the register stamps on receipts (``None``: today); ``strict_taxes`` judges VAT by it.
    register_date: date | None = None


class EmulatorState:
    """Thread-safe store behind the emulator's HTTP API and its Python inspection API."""

    def __init__(self, *, seed: int | None = None, delay: float | None = 0.05) -> None:
        self.lock = threading.RLock()
        self.random = random.Random(seed)
        self.delay = delay
        self.faults = Faults()
        self.shops: dict[str, EmulatedShop] = {}
        self.tasks: dict[int, TaskRecord] = {}
        self.by_external_id: dict[tuple[str, str], int] = {}
        self.submissions: Counter[tuple[str, str]] = Counter()
        self.callbacks: list[CallbackRecord] = []
        self.injected: Counter[str] = Counter()  # faults that fired, by kind
        self.fail_rules: list[tuple[re.Pattern[str], str]] = []
        self._ids = itertools.count(1)

    def roll(self, rate: float, kind: str = "") -> bool:
        """Whether a fault of ``rate`` fires now (counted under ``kind``)."""
        if rate <= 0:
            return False
        with self.lock:
            fired = self.random.random() < rate
            if fired and kind:
                self.injected[kind] += 1
            return fired

    def uniform(self, value: float | tuple[float, float]) -> float:
        if isinstance(value, tuple):
            with self.lock:
                return self.random.uniform(*value)
        return value

    def add_task(self, shop: EmulatedShop, queue_id: int, external_id: str, payload: dict[str, Any],
                 raw_body: bytes) -> TaskRecord | None:
        """Store a new task; ``None`` if the shop already has this external id."""
        with self.lock:
            key = (shop.shop_id, external_id)
            if key in self.by_external_id:
                return None
            task = TaskRecord(next(self._ids), shop.shop_id, queue_id, external_id, payload, raw_body)
            self.tasks[task.id] = task
            self.by_external_id[key] = task.id
            return task

    def outcome(self, shop: EmulatedShop, task: TaskRecord) -> str | None:
        """The error description this task gets, or ``None`` for success."""
        if shop.fail_all:
            return shop.fail_all
        with self.lock:
            for pattern, description in self.fail_rules:
                if pattern.search(task.external_id):
                    return description
            faults = self.faults
        refusal = None
        if faults.fail_marks:
            refusal = marks_refusal(task.payload, re.compile(faults.fail_marks))
        if refusal is None and faults.strict_taxes:
            refusal = taxes_refusal(task.payload, self.register_day())
        return refusal

    def register_day(self) -> date:
        """The day on the register's clock (``Faults.register_date`` or today)."""
        return self.faults.register_date or date.today()

    def fiscalize(self, shop: EmulatedShop, task: TaskRecord, base_url: str) -> None:
        """Fill ``fiscal_data`` consistent with the receipt."""
        payments = task.payload.get("payments") or []
        total = sum((Decimal(str(p.get("sum", 0))) for p in payments), Decimal(0)).quantize(Decimal("0.01"))
        with self.lock:
            shop.document_number += 1
            number = shop.document_number
        fp = int(hashlib.sha1(f"{shop.fn}:{number}:{total}".encode()).hexdigest(), 16) % 10**10
        task.fiscal_data = {
            "fn": shop.fn, "i": str(number), "fp": f"{fp:010d}",
            "t": datetime.combine(self.register_day(), datetime.now().time()).strftime("%Y%m%dT%H%M"),
            "s": str(total), "n": _INTENT_N.get(str(task.payload.get("intent")), 1), "rn": shop.rn,
            "sh": 1, "shn": number,
        }
        task.receipt_url = f"{base_url}/receipts/{task.id}"
