"""What a cash register says after KOMTET accepted a task: the ``error_description`` of a refused receipt.

These run when a task is processed, not when it is created: the API took the
task (200) and the register then refuses it, as ``error`` (api §1.3 lists the
register's texts, e.g. «Ошибка проверки КМ», «[M-] Проверка КП КМ выполнена …»).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Any

from .catalog import CALCULATED_VAT, CORRECTION_INTENTS, PREPAYMENT_METHODS, RETURN_INTENTS
from .marks import mark_text

__all__ = ["marks_refusal", "taxes_refusal"]

# fiscal_2026.md «Rates and tax systems»: 22 % (22/122) from 2026-01-01; 20/120 no longer for new sales.
RATE_CHANGE = date(2026, 1, 1)
_BEFORE = frozenset(("20", "120"))  # in force until 31.12.2025
_FROM = frozenset(("22", "122"))  # in force from 01.01.2026


def _positions(payload: Mapping[str, Any]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    positions = payload.get("positions")
    for index, item in enumerate(positions if isinstance(positions, list) else ()):
        if isinstance(item, Mapping):
            yield index, item


def _settlement_day(payload: Mapping[str, Any], receipt_day: date) -> date | None:
    """The day whose VAT applies: the receipt's, or for a correction the corrected settlement's (tag 1178).

    ``None`` for refunds and their corrections: a refund keeps the rate of the sale it returns (ФНС letter
    of 15.12.2025 № АБ-4-20/11248@, fiscal_2026.md).
    """
    intent = payload.get("intent")
    if intent in RETURN_INTENTS:
        return None
    if intent in CORRECTION_INTENTS:
        info = payload.get("correction_info")
        try:
            return datetime.strptime(info["base_date"], "%d.%m.%Y").date()  # type: ignore[index]
        except (TypeError, KeyError, ValueError):
            return None
    return receipt_day


def taxes_refusal(payload: Mapping[str, Any], receipt_day: date) -> str | None:
    """The register's refusal when a tax cross-check fails (the ``strict_taxes`` fault), else ``None``.

    * a VAT rate not in force on the settlement's day (20/120 from 2026, 22/122 before);
    * a prepayment position (advance, partial or 100 % prepayment) with a plain rate: such receipts use the
      calculated rates 5/105 … 22/122 (api §4.1, FNS letter ЕД-4-20/12717 of 03.07.2018).
    """
    day = _settlement_day(payload, receipt_day)
    for index, item in _positions(payload):
        vat, number = item.get("vat"), index + 1
        if day is not None and day >= RATE_CHANGE and vat in _BEFORE:
            return (f"Ошибка регистрации позиции {number}: ставка НДС {vat} не действует с 01.01.2026 "
                    f"(расчет от {day:%d.%m.%Y}), применяйте {'22' if vat == '20' else '22/122'}")
        if day is not None and day < RATE_CHANGE and vat in _FROM:
            return (f"Ошибка регистрации позиции {number}: ставка НДС {vat} действует с 01.01.2026, "
                    f"а расчет от {day:%d.%m.%Y}")
        if (item.get("payment_method") in PREPAYMENT_METHODS and type(vat) is str and vat not in CALCULATED_VAT
                and vat not in ("no", "0")):
            return (f"Ошибка регистрации позиции {number}: для предоплаты и аванса нужна расчетная ставка НДС "
                    f"(например, 22/122), а передана {vat}")
    return None


def marks_refusal(payload: Mapping[str, Any], pattern: re.Pattern[str]) -> str | None:
    """The register's refusal of the first mark code matching ``pattern`` (the ``fail_marks`` fault)."""
    for index, item in _positions(payload):
        mark = item.get("mark_code")
        if not isinstance(mark, Mapping) or len(mark) != 1:
            continue
        (kind, code), = mark.items()
        if type(code) is not str:
            continue
        text = mark_text(code, str(kind))
        if pattern.search(text) or pattern.search(code):
            shown = text.replace("\x1d", "<GS>")
            return (f"Ошибка проверки КМ: [M-] Проверка КП КМ выполнена, результат отрицательный: "
                    f"код маркировки {shown} (позиция {index + 1}) не прошел проверку")
    return None
