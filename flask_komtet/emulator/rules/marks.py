"""Marked goods on a position: ``mark_code``, ``mark_quantity``, ``planned_status``, ``sectoral_item_props``.

Sources: api §4.3 (the v2 position fields), SDK ``Position.set_mark_code``,
``set_mark_quantity``, ``set_planned_status``, ``add_sectoral_item_props``;
fiscal_2026.md «Marked goods»; KOMTET's register agent
(``komtet_kassa_linux/libs/helpers.py::get_mark_code``), which takes every mark
code either as text or base64 of that text.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from .catalog import (
    MARK_TYPES,
    MARKING_MARK_TYPES,
    PLANNED_STATUSES,
    RETURN_PLANNED_STATUSES,
    SALE_PLANNED_STATUSES,
    WITH_MARK_OBJECTS,
    WITHOUT_MARK_OBJECTS,
)
from .fields import Problems, check_choice, check_date, check_digits, check_mapping, check_text

__all__ = ["check_marking", "check_sectoral_props", "mark_text"]

GS = "\x1d"  # the GS1 group separator (FNC1 inside the symbol)
# GS1 General Specifications, AI 21: up to 20 characters of the «AI encodable set 82».
_SERIAL_CHARS = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
_GS1_HEAD = re.compile(r"01[0-9]{14}21")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
# Codes with a fixed symbology: EAN-8, EAN-13 and ITF-14 are that many digits (FFD tags 1301-1303).
_DIGITS = {"ean8": 8, "ean13": 13, "itf14": 14}
# Where neither api nor SDK gives a limit: FFD 1.2 tag 1300 (unrecognised code, 32), 1304 (GS1.0, 38),
# 1306 (short code, 38), 1307 (fur КиЗ, 20); ЕГАИС stamps as scanned: PDF417 of 68, DataMatrix of 150.
_LIMITS = {"unknown": 32, "gs10": 38, "short": 38, "fur": 20, "egais20": 68, "egais30": 150, "gs1m": 255}


def _readable(code: str) -> bool:
    return all(ch.isprintable() or ch == GS for ch in code)


def _decoded(code: str) -> str | None:
    """The text behind a base64 code, as the register agent decodes it (``None`` if it is not base64 of text)."""
    if len(code) % 4 or not _BASE64.fullmatch(code):
        return None
    try:
        text = base64.b64decode(code, validate=True).decode("utf-8")
    except ValueError:  # binascii.Error and UnicodeDecodeError both are
        return None
    return text if text and _readable(text) else None


def _gs1m_problem(code: str) -> str | None:
    """Why ``code`` is not a GS1 DataMatrix marking code: 01 + GTIN, 21 + serial, GS, crypto tail (91/92 or 93)."""
    if code.startswith(("]d2", "]C1", "\xe8", GS)):
        return "префикс сканера (]d2, FNC1) в начале кода: передайте код без него"
    if code.startswith("{"):
        return "JSON приложения сканирования: передайте значение его поля code"
    if not _GS1_HEAD.match(code):
        return "код GS1 DataMatrix начинается с 01 + GTIN (14 цифр) + 21 + серийный номер"
    serial, separator, tail = code[18:].partition(GS)
    if not 1 <= len(serial) <= 20:
        return (f"серийный номер (21) длиной {len(serial)}: от 1 до 20 символов"
                + (" — потерян разделитель GS (0x1D) перед крипто-хвостом?" if len(serial) > 20 else ""))
    if not _SERIAL_CHARS.issuperset(serial):
        bad = next(ch for ch in serial if ch not in _SERIAL_CHARS)
        return f"недопустимый символ {bad!r} в серийном номере (21): разделитель GS передается символом 0x1D"
    if not separator:
        return "нет разделителя GS (0x1D) и крипто-хвоста (91/92 или 93) после серийного номера"
    elements = tail.split(GS)
    if not all(len(e) > 2 and e[:2].isascii() and e[:2].isdigit() and e.isprintable() for e in elements):
        return "после разделителя GS ожидаются элементы GS1: идентификатор из цифр и значение"
    if not any(e[:2] in ("91", "92", "93") for e in elements):
        return "нет крипто-хвоста: элемента 91/92 или 93 после разделителя GS"
    return None


def _shape_problem(kind: str, code: str) -> str | None:
    if len(code) > _LIMITS.get(kind, 255):
        return f"длина кода {len(code)} больше {_LIMITS.get(kind, 255)} символов"
    if kind in _DIGITS:
        count = _DIGITS[kind]
        return None if len(code) == count and code.isascii() and code.isdigit() else f"{count} цифр"
    if kind == "gs1m":
        return _gs1m_problem(code)
    return None if code.strip() and code.isprintable() else "непустая строка из печатных символов"


def mark_text(code: str, kind: str = "gs1m") -> str:
    """The code as the register reads it: the base64-decoded text when the code is base64 of a valid one."""
    if _shape_problem(kind, code) is None:
        return code
    return _decoded(code) or code


def _check_mark_code(value: Any, field: str, out: Problems) -> str | None:
    """Check ``{type: code}``; return the type when the code is well formed."""
    if not check_mapping(value, field, out, '{"<тип>": "<код>"}'):
        return None
    if len(value) != 1:
        out.append((field, f'ровно один тип кода, например {{"gs1m": "…"}}; получено {len(value)}'))
        return None
    (kind, code), = value.items()
    if kind not in MARK_TYPES:
        out.append((field, f"недопустимый тип кода {kind!r} (допустимо: {', '.join(sorted(MARK_TYPES))})"))
        return None
    if type(code) is not str or not code:
        out.append((f"{field}.{kind}", "код: непустая строка"))
        return None
    problem = _shape_problem(kind, code)
    if problem is not None:
        decoded = _decoded(code)
        if decoded is None or _shape_problem(kind, decoded) is not None:
            out.append((f"{field}.{kind}", problem))
            return None
    return str(kind)


def _check_mark_quantity(value: Any, field: str, out: Problems) -> None:
    """Tag 1291: a fraction of one unit, numerator < denominator (SDK ``set_mark_quantity``)."""
    if not check_mapping(value, field, out, "{numerator, denominator}"):
        return
    numerator, denominator = value.get("numerator"), value.get("denominator")
    if type(numerator) is not int or numerator < 1:
        out.append((f"{field}.numerator", f"целое число больше нуля, получено {numerator!r}"))
    elif type(denominator) is not int or denominator < 2:
        out.append((f"{field}.denominator", f"целое число больше 1, получено {denominator!r}"))
    elif numerator >= denominator:
        out.append((field, f"дробная часть единицы: числитель ({numerator}) должен быть меньше "
                           f"знаменателя ({denominator})"))


def _check_planned_status(value: Any, intent: Any, field: str, out: Problems) -> None:
    """Tag 2003: 1/2/5/6 are sale statuses, 3/4 return statuses, 255 «не изменился» (SDK ``PlannedStatus``)."""
    if not check_choice(value, PLANNED_STATUSES, field, out):
        return
    if intent in ("sell", "sellCorrection") and value in RETURN_PLANNED_STATUSES:
        out.append((field, f"статус {value} («возвращен») не подходит для чека {intent}"))
    elif intent in ("sellReturn", "sellReturnCorrection") and value in SALE_PLANNED_STATUSES:
        out.append((field, f"статус {value} («реализован») не подходит для чека {intent}: возврату — 3 или 4"))


def check_sectoral_props(value: Any, field: str, out: Problems, today: date) -> None:
    """Tags 1260/1261: ``[{federal_id, date, number, value}]`` (SDK ``add_sectoral_*_props``).

    federal_id (1262) is a 3-digit ФОИВ id such as «030»; date (1263) dd.mm.yyyy; number (1264) up to 32
    characters and value (1265) up to 256: FFD lengths, as neither api nor SDK gives one.
    """
    if type(value) is not list or not value:
        out.append((field, "непустой список {federal_id, date, number, value}"))
        return
    for index, prop in enumerate(value):
        where = f"{field}[{index}]"
        if not check_mapping(prop, where, out, "{federal_id, date, number, value}"):
            continue
        check_digits(prop.get("federal_id"), f"{where}.federal_id", out, 3, "идентификатор ФОИВ")
        check_date(prop.get("date"), f"{where}.date", out, not_after=today)
        check_text(prop.get("number"), f"{where}.number", out, 32)
        check_text(prop.get("value"), f"{where}.value", out, 256)


def check_marking(item: Mapping[str, Any], field: str, intent: Any, today: date, out: Problems) -> None:
    """Every marking rule of one position."""
    has_code = "mark_code" in item
    kind = _check_mark_code(item["mark_code"], f"{field}.mark_code", out) if has_code else None
    payment_object = item.get("payment_object")
    if payment_object in WITH_MARK_OBJECTS and not has_code:
        out.append((f"{field}.mark_code", f"обязателен для payment_object {payment_object} (товар с кодом маркировки)"))
    elif payment_object in WITHOUT_MARK_OBJECTS and has_code:
        out.append((f"{field}.payment_object", f"{payment_object} — товар без кода маркировки, а mark_code передан: "
                                               f"используйте {'atm' if payment_object == 'atnm' else 'tm'}"))
    elif kind in MARKING_MARK_TYPES and type(payment_object) is str and payment_object not in WITH_MARK_OBJECTS:
        out.append((f"{field}.payment_object", f"товар с кодом маркировки ({kind}): tm, или atm для подакцизного, "
                                               f"а не {payment_object}"))
    if "mark_quantity" in item:
        _check_mark_quantity(item["mark_quantity"], f"{field}.mark_quantity", out)
        if not has_code:
            out.append((f"{field}.mark_quantity", "передается только с mark_code"))
    elif kind in MARKING_MARK_TYPES and item.get("measure") == 0:
        quantity = item.get("quantity")
        if type(quantity) in (int, Decimal) and quantity != 1:
            out.append((f"{field}.quantity", f"маркированный штучный товар: каждая единица — своя позиция с "
                                             f"количеством 1 (или mark_quantity для части), получено {quantity}"))
    if "planned_status" in item:
        _check_planned_status(item["planned_status"], intent, f"{field}.planned_status", out)
        if not has_code:
            out.append((f"{field}.planned_status", "передается только с mark_code"))
    if "sectoral_item_props" in item:
        check_sectoral_props(item["sectoral_item_props"], f"{field}.sectoral_item_props", out, today)
