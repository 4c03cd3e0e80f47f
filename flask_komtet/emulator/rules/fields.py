"""Checks of single values: numbers, money, text, dates, INNs, phones. Each appends ``(field, message)``."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

__all__ = [
    "CENT", "Problems", "check_choice", "check_date", "check_digits", "check_flag", "check_inn", "check_int",
    "check_mapping", "check_money", "check_phones", "check_text", "is_phone", "null_paths", "to_number",
]

Problems = list[tuple[str, str]]
CENT = Decimal("0.01")
# FFD writes sums as VLN of at most 6 bytes, in kopecks (the same ceiling the builder documents).
MONEY_LIMIT = Decimal(2 ** 48 - 1) / 100
# fullmatch with ASCII classes: "$" would let a trailing newline through and \d takes any script's digits.
_DAY = re.compile(r"[0-9]{2}\.[0-9]{2}\.[0-9]{4}")
# api §8 «Phone format»: plugins send +7…; FFD phone tags (1008, 1073–1075, 1171) hold up to 19 characters.
_PHONE = re.compile(r"\+?[0-9]{10,15}")
_INN_WEIGHTS = {10: ((2, 4, 10, 3, 5, 9, 4, 6, 8),),
                12: ((7, 2, 4, 10, 3, 5, 9, 4, 6, 8), (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8))}
NULL_MESSAGE = "None is not of type number/string: необязательные поля с null не передаются"


def to_number(value: Any) -> Decimal | None:
    """A JSON number as ``Decimal`` (``None`` for bools, strings, NaN and infinities)."""
    kind = type(value)
    if kind is Decimal:
        return value if value.is_finite() else None
    if kind is int:
        return Decimal(value)
    if kind is float:
        return Decimal(repr(value)) if value == value and abs(value) != float("inf") else None
    return None


def null_paths(value: Any, path: str, out: Problems) -> None:
    """Report every key present with ``null``: KOMTET's JSON schema refuses them (api §1.4, PHP issue #44)."""
    if type(value) is dict:
        for key, item in value.items():
            if item is None:
                out.append((f"{path}.{key}" if path else str(key), NULL_MESSAGE))
            elif type(item) is dict or type(item) is list:
                null_paths(item, f"{path}.{key}" if path else str(key), out)
    elif type(value) is list:
        for index, item in enumerate(value):
            if item is None:
                out.append((f"{path}[{index}]", NULL_MESSAGE))
            elif type(item) is dict or type(item) is list:
                null_paths(item, f"{path}[{index}]", out)


def check_mapping(value: Any, field: str, out: Problems, shape: str) -> bool:
    if isinstance(value, Mapping):
        return True
    out.append((field, f"должно быть объектом {shape}"))
    return False


def check_money(value: Any, field: str, out: Problems, *, positive: bool = False) -> Decimal | None:
    """Rubles as a JSON number, at most 2 decimals (api §4.5), not negative, within FFD's VLN."""
    amount = to_number(value)
    if amount is None:
        out.append((field, f"{value!r} is not of type number"))
        return None
    if amount < 0 or (positive and amount == 0):
        out.append((field, "должно быть больше нуля" if positive else "не может быть отрицательным"))
    elif amount > MONEY_LIMIT:
        out.append((field, f"больше предельной суммы {MONEY_LIMIT}"))
    if amount != amount.quantize(CENT):
        out.append((field, f"{amount}: не больше двух знаков после запятой (рубли с копейками)"))
    return amount


def check_text(value: Any, field: str, out: Problems, limit: int, *, required: bool = True) -> bool:
    """A non-blank string of at most ``limit`` characters; ``None`` passes unless ``required``."""
    if value is None:
        if required:
            out.append((field, "обязательное поле"))
        return False
    if type(value) is not str or not value.strip():
        out.append((field, "должно быть непустой строкой"))
        return False
    if len(value) > limit:
        out.append((field, f"длина больше {limit} символов ({len(value)})"))
        return False
    return True


def check_flag(payload: Mapping[str, Any], key: str, field: str, out: Problems) -> None:
    if key in payload and type(payload[key]) is not bool:
        out.append((field, "должно быть true или false"))


def check_int(value: Any, field: str, out: Problems, low: int, high: int) -> int | None:
    if type(value) is not int or not low <= value <= high:
        out.append((field, f"целое число от {low} до {high}, получено {value!r}"))
        return None
    return value


def check_choice(value: Any, allowed: Collection[Any], field: str, out: Problems,
                 obsolete: Mapping[Any, str] | None = None) -> bool:
    """``value`` is one of ``allowed`` (same type: ``"0"`` is not ``0``, ``true`` is not ``1``)."""
    if type(value) in (str, int) and value in allowed:
        return True
    if obsolete and type(value) in (str, int) and value in obsolete:
        out.append((field, obsolete[value]))
    else:
        shown = ", ".join(sorted(map(str, allowed), key=lambda v: (len(v), v)))
        out.append((field, f"недопустимое значение {value!r} (допустимо: {shown})"))
    return False


def check_date(value: Any, field: str, out: Problems, *, not_after: date | None = None) -> date | None:
    """A real calendar day written ``dd.mm.yyyy`` (api §4.3), not later than ``not_after`` if given."""
    if type(value) is not str or not _DAY.fullmatch(value):
        out.append((field, f"дата в формате дд.мм.гггг, получено {value!r}"))
        return None
    try:
        day = datetime.strptime(value, "%d.%m.%Y").date()
    except ValueError:
        out.append((field, f"нет такой даты: {value}"))
        return None
    if not_after is not None and day > not_after:
        out.append((field, f"дата {value} еще не наступила"))
        return None
    return day


def check_digits(value: Any, field: str, out: Problems, count: int, what: str) -> None:
    if type(value) is not str or len(value) != count or not (value.isascii() and value.isdigit()):
        out.append((field, f"{what}: {count} цифры строкой, получено {value!r}"))


def check_inn(value: Any, field: str, out: Problems, lengths: tuple[int, ...] = (10, 12)) -> None:
    """An INN of ``lengths`` digits whose check digits are right (ФНС algorithm: weights, mod 11, mod 10)."""
    if type(value) is not str or len(value) not in lengths or not (value.isascii() and value.isdigit()):
        expected = " или ".join(map(str, lengths))
        out.append((field, f"ИНН: {expected} цифр строкой, получено {value!r}"))
        return
    digits = [int(ch) for ch in value]
    for weights in _INN_WEIGHTS[len(value)]:
        position = len(weights)
        if sum(d * w for d, w in zip(digits, weights, strict=False)) % 11 % 10 != digits[position]:
            out.append((field, f"ИНН {value}: неверная контрольная сумма"))
            return


def is_phone(value: Any) -> bool:
    return type(value) is str and _PHONE.fullmatch(value) is not None


def check_phones(value: Any, field: str, out: Problems, *, required: bool = False) -> None:
    """A list of phones like ``+79991234567`` (SDK agent.py: ``phones`` is a list)."""
    if type(value) is not list or (required and not value):
        out.append((field, "должно быть списком телефонов" + (" (хотя бы один)" if required else "")))
        return
    for index, phone in enumerate(value):
        if not is_phone(phone):
            out.append((f"{field}[{index}]", f"некорректный телефон {phone!r} (формат +79991234567)"))
