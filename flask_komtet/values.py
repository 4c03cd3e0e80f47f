"""Reading the shop's values: numbers, text, enums, moments and template fields.

Each reader returns a clean value or raises :class:`~flask_komtet.errors.InvalidOrder`
naming the field; error messages show the shop's value through :func:`show`
(short, printable, never raising).
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Mapping, Set
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import InvalidOrder

__all__ = ["NUMBER_LIMIT", "as_text", "plain_value", "show", "to_decimal", "to_enum", "to_fields", "to_moment",
           "to_text"]

#: Money and quantities at or above this (in absolute value) are refused: no receipt holds them
#: (FFD keeps sums in at most six bytes of kopecks, 2.8 × 10¹² ₽), and Decimal arithmetic stays exact below it.
NUMBER_LIMIT = Decimal(10) ** 12
_NESTING_LIMIT = 4

_short_repr = reprlib.Repr()
_short_repr.maxstring = _short_repr.maxother = 60
_short_repr.maxlevel, _short_repr.maxlist, _short_repr.maxdict = 2, 4, 4


def show(value: Any) -> str:
    """A short, printable ``repr`` of the shop's value for an error message."""
    try:
        return _short_repr.repr(value)
    except Exception:  # a shop object whose __repr__ fails
        return f"<{type(value).__name__}>"


def to_decimal(value: Any, name: str) -> Decimal:
    """Coerce a money or quantity value to ``Decimal``, naming ``name`` on failure.

    Accepts ``Decimal``, ``int``, ``float`` (by its shortest repr) and strings
    (``" 12,50 "`` is 12.50); refuses ``None``, booleans, NaN, infinities and
    numbers of :data:`NUMBER_LIMIT` or more.
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool) or value is None:
        raise InvalidOrder(f"expected a number, got {show(value)}", field=name)
    elif isinstance(value, int):
        result = Decimal(value)  # exact, whatever its size (str() refuses ints over 4300 digits)
    elif isinstance(value, str):
        text = value.strip().replace(",", ".")
        if len(text) > 100:
            raise InvalidOrder(f"expected a number, got {show(value)}", field=name)
        try:
            result = Decimal(text)
        except (InvalidOperation, ValueError):
            raise InvalidOrder(f"expected a number, got {show(value)}", field=name) from None
    elif isinstance(value, float):
        result = Decimal(repr(value))
    else:
        raise InvalidOrder(f"expected a number, got {type(value).__name__}", field=name)
    if not result.is_finite():
        raise InvalidOrder(f"expected a finite number, got {show(value)}", field=name)
    if result.copy_abs() >= NUMBER_LIMIT:
        raise InvalidOrder(f"слишком большое число {show(value)}: не больше {NUMBER_LIMIT - 1:,}".replace(",", " "),
                           field=name)
    return result


def to_enum(cls: Any, value: Any, name: str) -> Any:
    if value is None or isinstance(value, cls):
        return value
    if isinstance(value, str) and not value.strip():
        return None  # an empty column: not given
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)) or (
            isinstance(value, str) and len(value) > 64):
        allowed = ", ".join(str(m.value) for m in cls)
        raise InvalidOrder(f"unknown value {show(value)}; expected one of: {allowed}", field=name)
    try:
        return cls.parse(value)
    except (ValueError, TypeError, ArithmeticError) as exc:  # "inf" overflows VatRate's float parsing
        raise InvalidOrder(str(exc), field=name) from None


_NOT_TEXT = (bool, float, bytes, bytearray, memoryview, Mapping, list, tuple, Set)


def as_text(value: Any, name: str) -> str:
    """``value`` as a plain ``str``: strings, numbers, UUIDs and lazy strings; never containers or floats."""
    if type(value) is str:
        text = value
    elif isinstance(value, str):
        text = str.__str__(value)
    elif isinstance(value, _NOT_TEXT) or (getattr(type(value), "__str__", None) is object.__str__
                                                         and not isinstance(value, int)):
        raise InvalidOrder(f"expected a string, got {type(value).__name__} {show(value)}", field=name)
    else:
        try:
            text = str(value)
        except Exception:
            raise InvalidOrder(f"expected a string, got {type(value).__name__}", field=name) from None
        if type(text) is not str:
            text = str.__str__(text)
    if not text.isprintable() and any("\ud800" <= ch <= "\udfff" for ch in text):
        raise InvalidOrder("недопустимые символы: одиночные суррогаты UTF-16 (строка не в Unicode)", field=name)
    return text


def to_text(value: Any, name: str, *, required: bool = False, limit: int | None = None,
          identifier: bool = False) -> str | None:
    """Text from the shop; ``identifier`` (order ref, region) also refuses invisible and control characters."""
    if value is None or value == "":
        if required:
            raise InvalidOrder("is required", field=name)
        return None
    text = as_text(value, name)
    if required and not text.strip():
        raise InvalidOrder("is required (only spaces given)", field=name)
    if limit is not None and len(text) > limit:
        raise InvalidOrder(f"не длиннее {limit} символов (получено {len(text)})", field=name)
    if identifier and not text.isprintable():
        bad = next(ch for ch in text if not ch.isprintable())
        raise InvalidOrder(f"недопустимый символ {ascii(bad)} (управляющий или невидимый)", field=name)
    return text


def plain_value(value: Any, name: str, depth: int = 0) -> Any:
    """A template field's value as plain JSON data (strings, numbers, booleans, lists, dicts)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) >= 10 ** 30:
            raise InvalidOrder(f"слишком большое число {show(value)}", field=name)
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidOrder(f"expected a finite number, got {value!r}", field=name)
        return value
    if isinstance(value, Decimal):
        if not value.is_finite() or value.copy_abs() >= NUMBER_LIMIT ** 2:
            raise InvalidOrder(f"expected a finite number, got {show(value)}", field=name)
        return str(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, (Mapping, list, tuple, Set)):
        if depth >= _NESTING_LIMIT:
            raise InvalidOrder("слишком глубокая вложенность", field=name)
        if isinstance(value, Mapping):
            return {as_text(k, f"{name}[{show(k)}]"): plain_value(v, f"{name}.{k}", depth + 1)
                    for k, v in value.items()}
        return [plain_value(v, f"{name}[{i}]", depth + 1) for i, v in enumerate(value)]
    return as_text(value, name)


def to_fields(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidOrder(f"ожидается словарь полей, получено {type(value).__name__}", field="fields")
    result = {}
    for key, item in value.items():
        key = as_text(key, f"fields[{show(key)}]")
        result[key] = plain_value(item, f"fields.{key}" if key.isidentifier() else f"fields[{show(key)}]", 1)
    return result


def to_moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidOrder(f"ожидается дата и время (datetime или ISO 8601), получено {show(value)}", field="paid_at")
