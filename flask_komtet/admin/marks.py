"""Marked goods on the receipt page: each unit's code (type, GTIN, serial), check result, planned status;
a receipt held for codes takes them from a barcode scanner, one per line («Отправить»)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import InvalidOrder, KomtetError
from ..marks import describe, scanned_lines
from .actions import Outcome

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["PLANNED", "complete", "unit_rows"]

#: Tag 2003 (SDK ``PlannedStatus``), as a manager reads it.
PLANNED = {1: "1 — штучный товар реализован", 2: "2 — мерный товар в стадии реализации",
           3: "3 — штучный товар возвращен", 4: "4 — часть товара возвращена", 5: "5 — штучный товар в стадии "
           "реализации", 6: "6 — мерный товар реализован", 255: "255 — статус не изменился"}


def unit_rows(receipt: Any) -> list[dict[str, Any]]:
    """One row per marked unit: from the payload as sent, or (held for codes) from the stored order."""
    payload = receipt.payload
    if payload:
        rows: list[dict[str, Any]] = []
        for item in payload.get("positions") or []:
            mark = item.get("mark_code")
            if not isinstance(mark, Mapping) or len(mark) != 1:
                continue
            (kind, code), = mark.items()
            props = item.get("sectoral_item_props") or []
            rows.append(describe(str(kind), str(code)) | {
                "name": item.get("name"), "quantity": item.get("quantity"),
                "check": next((p.get("value") for p in props if isinstance(p, Mapping)), None),
                "status": PLANNED.get(item.get("planned_status"), item.get("planned_status") or "—"),
                "missing": False})
        return rows
    return _stored_units(receipt)


def _stored_units(receipt: Any) -> list[dict[str, Any]]:
    from ..outbox import stored_order
    from ..receipts.marks import units_missing

    try:
        order = stored_order(receipt)
    except (InvalidOrder, TypeError, ValueError):
        return []
    rows: list[dict[str, Any]] = []
    for line in order.lines:
        for mark in line.marks:
            rows.append(describe(str(mark.type), mark.code) | {
                "name": line.name, "quantity": None, "check": mark.check_value, "status": "—", "missing": False})
        for _ in range(units_missing(line, line.quantity)):
            rows.append({"name": line.name, "type": "—", "code": "нет кода маркировки", "quantity": None,
                         "check": None, "status": "—", "missing": True})
    return rows


def complete(state: KassaState, receipt: Any, text: str) -> Outcome:
    """«Отправить»: the codes scanned into the textarea (one per line) go onto the units without one."""
    from .. import outbox

    def operation() -> Outcome:
        codes = scanned_lines(text)
        if not codes:
            return Outcome(False, "Отсканируйте коды маркировки: по одному на строку", receipt)
        outbox.complete_marks(state, receipt, codes)
        state.session.commit()
        state.session.refresh(receipt)
        if receipt.state == "held":
            return Outcome(False, f"Коды добавлены, но чек {receipt.external_id} еще ждет: {receipt.last_error}",
                           receipt)
        return Outcome(True, f"Коды маркировки добавлены, чек {receipt.external_id} отправлен: "
                             f"{receipt.state_label}", receipt)

    try:
        return operation()
    except (KomtetError, ValueError) as exc:
        state.session.rollback()
        return Outcome(False, f"Чек {receipt.external_id}: {exc}", receipt)
    except Exception as exc:  # noqa: BLE001 - a manager sees a message, never a 500
        state.session.rollback()
        logging.getLogger("flask_komtet.admin").exception("adding marks to receipt %s failed", receipt.id)
        return Outcome(False, f"Чек {receipt.external_id}: не получилось ({type(exc).__name__})", receipt)
