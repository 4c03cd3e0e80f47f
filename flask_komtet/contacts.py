"""Buyer and cashier details: phone normalization and INN checksums."""

from __future__ import annotations

import re

__all__ = ["check_inn", "normalize_email", "normalize_phone"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_INN10 = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def normalize_email(value: str) -> str:
    email = value.strip()
    if not _EMAIL.match(email) or len(email) > 64:
        raise ValueError(f"некорректный адрес электронной почты: {value!r}")
    return email


def normalize_phone(value: str) -> str:
    """``8 (999) 123-45-67`` → ``+79991234567``; foreign numbers keep their ``+`` and digits."""
    digits = re.sub(r"\D", "", value)
    if len(digits) == 11 and digits[0] in "78":
        return "+7" + digits[1:]
    if len(digits) == 10 and digits[0] == "9":
        return "+7" + digits
    if value.strip().startswith("+") and 11 <= len(digits) <= 15:
        return "+" + digits
    raise ValueError(f"некорректный номер телефона: {value!r} (нужен формат +7XXXXXXXXXX)")


def _digit(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights)) % 11 % 10


def check_inn(value: str, *, person: bool | None = None) -> str:
    """Return the INN if it has 10 (company) or 12 (person) digits and valid check digits."""
    inn = (value or "").strip()
    lengths = {True: (12,), False: (10,), None: (10, 12)}[person]
    if not inn.isdigit() or len(inn) not in lengths:
        expected = " или ".join(str(n) for n in lengths)
        raise ValueError(f"ИНН {value!r} должен состоять из {expected} цифр")
    if len(inn) == 10:
        valid = _digit(inn, _INN10) == int(inn[9])
    else:
        valid = _digit(inn, _INN11) == int(inn[10]) and _digit(inn, _INN12) == int(inn[11])
    if not valid:
        raise ValueError(f"ИНН {value!r}: неверная контрольная сумма")
    return inn
