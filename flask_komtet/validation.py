"""KOMTET's checks of a v2 task, as pure functions: the emulator's 422s and the builder's last look.

``validate_task(payload)`` returns ``(field, message)`` pairs (empty when the
task is valid). Field paths look like ``positions[0].vat``. Numbers may be
``int``, ``float`` or ``Decimal``; money is compared exactly.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .enums import (
    CorrectionType,
    Intent,
    Measure,
    PaymentMethod,
    PaymentObject,
    PaymentType,
    TaxSystem,
    VatRate,
)

__all__ = ["validate_task"]

Problems = list[tuple[str, str]]
CENT = Decimal("0.01")
_MICRO = Decimal("0.000001")
# fullmatch and ASCII digits: "$" lets a trailing newline through, and \d matches any script's digits
_DATE = re.compile(r"[0-9]{2}\.[0-9]{2}\.[0-9]{4}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[0-9]{10,15}")
_INN = re.compile(r"[0-9]{10}|[0-9]{12}")

_ENUMS: dict[type, frozenset[Any]] = {
    cls: frozenset(m.value for m in cls)
    for cls in (Intent, VatRate, PaymentMethod, PaymentObject, PaymentType, Measure, TaxSystem, CorrectionType)
}


def _number(value: Any) -> Decimal | None:
    if type(value) is Decimal:
        return value if value.is_finite() else None
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    return None


_NULL = "None is not of type number/string: необязательные поля с null не передаются"


def _nulls(value: Any, path: str, out: Problems) -> None:
    """Report every key present with ``null`` (KOMTET's JSON schema refuses them)."""
    if type(value) is list:
        pairs: Any = enumerate(value)
        where: Callable[[Any], str] = lambda index: f"{path}[{index}]"  # noqa: E731
    elif type(value) is dict or isinstance(value, Mapping):
        pairs = value.items()
        where = lambda key: f"{path}.{key}" if path else str(key)  # noqa: E731
    else:
        return
    for key, item in pairs:  # paths are spelled out only where they are needed
        if item is None:
            out.append((where(key), _NULL))
        elif type(item) is dict or type(item) is list:
            _nulls(item, where(key), out)


def _enum(cls: type, value: Any, field: str, out: Problems) -> None:
    if value not in _ENUMS[cls]:
        try:
            cls.parse(value)  # type: ignore[attr-defined]  # obsolete values explain themselves
        except ValueError as exc:
            out.append((field, str(exc)))
        else:
            out.append((field, f"недопустимое значение {value!r}"))


def _text(value: Any, field: str, out: Problems, *, limit: int | None = None, required: bool = True) -> None:
    if value is None:
        if required:
            out.append((field, "обязательное поле"))
        return
    if not isinstance(value, str) or (required and not value.strip()):
        out.append((field, "должно быть непустой строкой"))
    elif limit and len(value) > limit:
        out.append((field, f"длина больше {limit} символов ({len(value)})"))


def _money(value: Any, field: str, out: Problems, *, positive: bool = False) -> Decimal | None:
    number = _number(value)
    if number is None:
        out.append((field, f"{value!r} is not of type number"))
        return None
    if number < 0 or (positive and number == 0):
        out.append((field, "должно быть больше нуля" if positive else "не может быть отрицательным"))
    if number != number.quantize(CENT):
        out.append((field, "не больше двух знаков после запятой"))
    return number


def _client(client: Any, out: Problems, *, electronic: bool) -> None:
    """The buyer; ``electronic``: the receipt must reach the buyer (not printed, or an Internet payment)."""
    if not isinstance(client, Mapping):
        out.append(("client", "обязательный объект (пустой {} для чека, напечатанного без контактов покупателя)"))
        return
    email, phone = client.get("email"), client.get("phone")
    if not email and not phone and electronic:
        out.append(("client", "нужен email или phone покупателя (чек не печатается или расчет через Интернет)"))
    if email is not None and (not isinstance(email, str) or not _EMAIL.fullmatch(email)):
        out.append(("client.email", f"некорректный email {email!r}"))
    if phone is not None and (not isinstance(phone, str) or not _PHONE.fullmatch(phone)):
        out.append(("client.phone", f"некорректный телефон {phone!r}"))
    if "inn" in client and (not isinstance(client["inn"], str) or not _INN.fullmatch(client["inn"])):
        out.append(("client.inn", "ИНН: 10 или 12 цифр"))
    if "name" in client:
        _text(client["name"], "client.name", out, limit=256)
    elif "inn" in client:
        out.append(("client.name", "ИНН покупателя передается только вместе с наименованием (54-ФЗ ст. 4.7 п. 1)"))


def _company(company: Any, out: Problems) -> None:
    if not isinstance(company, Mapping):
        out.append(("company", "обязательный объект с sno и payment_address"))
        return
    if "sno" not in company:
        out.append(("company.sno", "обязательное поле"))
    else:
        _enum(TaxSystem, company["sno"], "company.sno", out)
    _text(company.get("payment_address"), "company.payment_address", out, limit=256)
    if "inn" in company and (not isinstance(company["inn"], str) or not _INN.fullmatch(company["inn"])):
        out.append(("company.inn", "ИНН: 10 или 12 цифр"))


_REQUIRED = frozenset(("price", "quantity", "total", "vat", "measure", "payment_method", "payment_object"))
_POSITION_ENUMS = (("vat", VatRate), ("measure", Measure), ("payment_method", PaymentMethod),
                   ("payment_object", PaymentObject))
_MISSING = object()


def _amounts(item: Mapping[str, Any], field: str, out: Problems) -> Decimal | None:
    """Check price, quantity and total; return the total (``None`` if it is unusable)."""
    price, quantity, total = item.get("price"), item.get("quantity"), item.get("total")
    if (type(price) is Decimal and type(quantity) is Decimal and type(total) is Decimal and price >= 0
            and total >= 0 and quantity > 0 and price == price.quantize(CENT) and total == total.quantize(CENT)
            and quantity == quantity.quantize(_MICRO)):
        pass  # the common case: our own builder's output
    else:
        price = _money(price, f"{field}.price", out) if "price" in item else None
        total = _money(total, f"{field}.total", out) if "total" in item else None
        if "quantity" in item:
            quantity = _number(quantity)
            if quantity is None:
                out.append((f"{field}.quantity", f"{item['quantity']!r} is not of type number"))
            elif quantity <= 0:
                out.append((f"{field}.quantity", "должно быть больше нуля"))
                quantity = None
            elif quantity != quantity.quantize(_MICRO):
                out.append((f"{field}.quantity", "слишком много знаков после запятой"))
        if price is None or quantity is None or total is None:
            return total
    limit = (price * quantity).quantize(CENT, ROUND_HALF_UP)
    if total > limit:
        out.append((f"{field}.total", f"сумма позиции {total} больше цены × количество ({limit})"))
    return total


def _position(item: Any, field: str, out: Problems) -> Decimal | None:
    if type(item) is not dict and not isinstance(item, Mapping):
        out.append((field, "позиция должна быть объектом"))
        return None
    name = item.get("name")
    if type(name) is not str or len(name) > 128 or not name.strip():
        _text(name, f"{field}.name", out, limit=128)
    if not _REQUIRED <= item.keys():
        out.extend((f"{field}.{key}", "обязательное поле") for key in sorted(_REQUIRED - item.keys()))
    total = _amounts(item, field, out)
    for key, cls in _POSITION_ENUMS:
        value = item.get(key, _MISSING)
        if value is not _MISSING and value not in _ENUMS[cls]:
            _enum(cls, value, f"{field}.{key}", out)
    if "user_data" in item:
        _text(item["user_data"], f"{field}.user_data", out, limit=64)
    if item.get("excise") is not None:
        _money(item["excise"], f"{field}.excise", out)
    if "planned_status" in item and item["planned_status"] not in (1, 2, 3, 4, 5, 6, 255):
        out.append((f"{field}.planned_status", "допустимо 1–6 или 255"))
    return total


_USN_RATES = frozenset(("5", "7", "105", "107"))
_USN = frozenset((int(TaxSystem.SIMPLIFIED_IN), int(TaxSystem.SIMPLIFIED_IN_OUT)))


def _usn_rates(company: Any, positions: list[Any], out: Problems) -> None:
    """VAT 5 %/7 % (5/105, 7/107) only with УСН (НК РФ ст. 164 п. 8)."""
    sno = company.get("sno") if isinstance(company, Mapping) else None
    if sno in _USN or isinstance(sno, bool) or not isinstance(sno, int):
        return
    for index, item in enumerate(positions):
        if isinstance(item, Mapping) and item.get("vat") in _USN_RATES:
            out.append((f"positions[{index}].vat",
                        f"ставка НДС {item['vat']} применяется только при УСН (НК РФ ст. 164 п. 8), а sno = {sno}"))


def _payments(payments: Any, out: Problems) -> Decimal | None:
    if not isinstance(payments, list) or not payments:
        out.append(("payments", "нужна хотя бы одна оплата"))
        return None
    paid = Decimal(0)
    for index, payment in enumerate(payments):
        field = f"payments[{index}]"
        if not isinstance(payment, Mapping):
            out.append((field, "оплата должна быть объектом"))
            continue
        amount = _money(payment.get("sum"), f"{field}.sum", out) if "sum" in payment else None
        if "sum" not in payment:
            out.append((f"{field}.sum", "обязательное поле"))
        if "type" not in payment:
            out.append((f"{field}.type", "обязательное поле"))
        else:
            _enum(PaymentType, payment["type"], f"{field}.type", out)
        paid += amount or 0
    return paid


def _correction(info: Any, out: Problems) -> None:
    if not isinstance(info, Mapping):
        out.append(("correction_info", "для чека коррекции обязателен correction_info"))
        return
    _enum(CorrectionType, info.get("type"), "correction_info.type", out)
    if not isinstance(info.get("base_date"), str) or not _DATE.fullmatch(info["base_date"]):
        out.append(("correction_info.base_date", "дата основания в формате дд.мм.гггг"))
    if "base_number" in info:
        _text(info["base_number"], "correction_info.base_number", out, limit=32)


def validate_task(payload: Any, *, version: int = 2) -> Problems:
    """Every problem KOMTET would answer 422 for, as ``(field, message)``; ``[]`` when valid (any JSON value)."""
    out: Problems = []
    if not isinstance(payload, Mapping):
        return [("task", "тело запроса должно быть JSON-объектом")]
    _nulls(payload, "", out)
    external_id = payload.get("external_id")
    if isinstance(external_id, bool) or not isinstance(external_id, (str, int)) or str(external_id).strip() == "":
        out.append(("external_id", "обязательное поле (строка или число)"))
    if "intent" not in payload:
        out.append(("intent", "обязательное поле"))
    else:
        _enum(Intent, payload["intent"], "intent", out)
    if "print" in payload and not isinstance(payload["print"], bool):
        out.append(("print", "должно быть true или false"))
    if version == 1:
        return out
    _client(payload.get("client"), out, electronic=payload.get("print") is not True or payload.get("internet") is True)
    _company(payload.get("company"), out)
    positions = payload.get("positions")
    if not isinstance(positions, list) or not positions:
        out.append(("positions", "нужна хотя бы одна позиция"))
        positions = []
    totals = [_position(item, f"positions[{i}]", out) for i, item in enumerate(positions)]
    _usn_rates(payload.get("company"), positions, out)
    paid = _payments(payload.get("payments"), out)
    known = [t for t in totals if t is not None]
    if paid is not None and len(known) == len(totals):
        total = sum(known, Decimal(0))
        if paid != total:
            out.append(("payments", f"сумма оплат {paid} не равна сумме позиций {total}"))
    cashier = payload.get("cashier")
    if cashier is not None:
        if not isinstance(cashier, Mapping):
            out.append(("cashier", "должен быть объектом {name, inn}"))
        else:
            _text(cashier.get("name"), "cashier.name", out, limit=64)
            inn = cashier.get("inn", "")
            if "inn" in cashier and (not isinstance(inn, str) or not re.fullmatch(r"[0-9]{12}", inn)):
                out.append(("cashier.inn", "ИНН кассира: 12 цифр"))
    for flag in ("internet",):
        if flag in payload and not isinstance(payload[flag], bool):
            out.append((flag, "должно быть true или false"))
    if "callback_url" in payload:
        _text(payload["callback_url"], "callback_url", out, limit=1024)
    intent = payload.get("intent")
    if isinstance(intent, str) and intent.endswith("Correction"):
        _correction(payload.get("correction_info"), out)
    return out
