"""Helpers for the emulator tests (no tests here).

Receipts are posted over real HTTP and signed by hand, not with the emulator's own signer.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
from decimal import Decimal
from typing import Any

import requests

SHOP, SECRET = "rules-shop", "rules-secret"
DELETE = object()
GS = "\x1d"
# komtet_api.md §4.3's example code: 01 + GTIN, 21 + serial, GS, 93 + check code.
GS1M = "0104600000000000215abcde" + GS + "93ABCD"
BASE: dict[str, Any] = {
    "intent": "sell", "client": {"email": "b@example.com"},
    "company": {"sno": 0, "payment_address": "https://shop.example"},
    "positions": [{"name": "Чай", "price": 350, "quantity": 2, "total": 700, "vat": "22", "measure": 0,
                   "payment_method": "full_payment", "payment_object": "product"}],
    "payments": [{"sum": 700, "type": "card"}],
}
MARKED: dict[str, Any] = {"name": "Кроссовки", "price": 4990, "quantity": 1, "total": 4990, "vat": "22",
                          "measure": 0, "payment_method": "full_payment", "payment_object": "tm",
                          "mark_code": {"gs1m": GS1M}, "planned_status": 1}
_ids = itertools.count(1)


def receipt(edits: dict[str, Any] | None = None, *, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """``base`` with ``edits`` (dotted paths, ``DELETE`` removes); payments follow the totals unless edited."""
    task = copy.deepcopy(base or BASE)
    task["external_id"] = f"rule-{next(_ids)}"
    for path, value in (edits or {}).items():
        *parents, last = path.split(".")
        holder: Any = task
        for key in parents:
            holder = holder[int(key)] if key.isdigit() else holder.setdefault(key, {})
        key: Any = int(last) if last.isdigit() else last
        if value is DELETE:
            del holder[key]
        else:
            holder[key] = copy.deepcopy(value)
    if not any(path.startswith("payments") for path in edits or {}) and isinstance(task.get("positions"), list):
        try:
            total = sum(Decimal(str(p["total"])) for p in task["positions"])
        except (KeyError, TypeError, ArithmeticError):
            return task
        task["payments"] = [{"sum": float(total) if total != int(total) else int(total), "type": "card"}]
    return task


def sign(secret: str, method: str, url: str, body: bytes) -> str:
    return hmac.new(secret.encode(), method.encode() + url.encode() + body, hashlib.md5).hexdigest()


def post(base_url: str, document: Any, *, version: int = 2, path: str = "/queues/1/task") -> requests.Response:
    url = f"{base_url}/api/shop/v{version}{path}"
    body = document if isinstance(document, bytes) else json.dumps(document, ensure_ascii=False).encode()
    headers = {"Authorization": SHOP, "Content-Type": "application/json",
               "X-HMAC-Signature": sign(SECRET, "POST", url, body)}
    return requests.post(url, data=body, headers=headers, timeout=5)


def get(base_url: str, path: str) -> requests.Response:
    url = f"{base_url}/api/shop/v2{path}"
    return requests.get(url, headers={"Authorization": SHOP, "X-HMAC-Signature": sign(SECRET, "GET", url, b"")},
                        timeout=5)
