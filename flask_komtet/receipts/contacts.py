"""Buyer and cashier details: phone normalization and INN checksums."""

from __future__ import annotations

import re
import unicodedata

__all__ = ["check_inn", "normalize_email", "normalize_phone"]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_EMAIL_LIMIT = 64
_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
# Where an extension (or a second number) starts: «доб. 12», «добавочный 12», «ext 12», «x12», «#12», «, 12».
_EXTENSION = re.compile(r"(?i)\s*(?:доб|ext|x|#|,|;)")


def _show(value: str) -> str:
    return repr(value) if len(value) <= 60 else repr(value[:57]) + "…"


def normalize_email(value: str) -> str:
    """The address without surrounding spaces; Unicode is fine (``почта@пример.рф``), invisible characters are not."""
    email = value.strip()
    if len(email) > _EMAIL_LIMIT:
        raise ValueError(f"адрес электронной почты длиннее {_EMAIL_LIMIT} символов: {_show(value)}")
    if not _EMAIL.fullmatch(email) or not email.isprintable():
        raise ValueError(f"некорректный адрес электронной почты: {_show(value)}")
    return email


def _digits(value: str) -> str:
    """The ASCII digits of ``value``; other scripts' decimal digits (``٨``, ``８``) count as theirs."""
    return "".join(ch if "0" <= ch <= "9" else str(unicodedata.decimal(ch)) for ch in value if ch.isdecimal())


def normalize_phone(value: str) -> str:
    """``8 (999) 123-45-67`` → ``+79991234567``; foreign numbers keep their ``+`` and digits.

    An extension is dropped, not glued to the number: ``+7 999 123 45 67 доб. 12`` → ``+79991234567``
    (likewise ``доб``, ``ext``, ``ext.``, ``x``, ``#`` and a comma; after a comma may come a second number).
    """
    number = _EXTENSION.split(value, 1)[0] if len(value) <= 64 else ""
    digits = _digits(number)
    if len(digits) == 11 and digits[0] in "78":
        return "+7" + digits[1:]
    if len(digits) == 10 and digits[0] == "9":
        return "+7" + digits
    if number.strip().startswith("+") and 11 <= len(digits) <= 15:
        return "+" + digits
    raise ValueError(f"некорректный номер телефона: {_show(value)} (нужен формат +7XXXXXXXXXX)")


def _digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


def check_inn(value: str, *, person: bool | None = None) -> str:
    """Return the INN if it has 10 (company) or 12 (person) digits and valid check digits."""
    inn = (value or "").strip()
    lengths = {True: (12,), False: (10,), None: (10, 12)}[person]
    if not (inn.isascii() and inn.isdigit()) or len(inn) not in lengths:
        expected = " или ".join(str(n) for n in lengths)
        raise ValueError(f"ИНН {_show(value or '')} должен состоять из {expected} цифр")
    if len(inn) == 10:
        valid = _digit(inn, _INN10) == int(inn[9])
    else:
        valid = _digit(inn, _INN11) == int(inn[10]) and _digit(inn, _INN12) == int(inn[11])
    if not valid:
        raise ValueError(f"ИНН {_show(value)}: неверная контрольная сумма")
    return inn
