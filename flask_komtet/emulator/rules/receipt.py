"""A whole task: its top-level fields, the buyer, the company, payments, corrections and receipt props.

Sources: api §4.1 (common fields), §4.3 (v2 receipt and correction), §4.5
(totals), §6 (limits); fiscal_2026.md «Buyer and counter», «Corrections»;
SDK ``Check`` / ``CorrectionCheck``. Lengths the sources leave open are
FFD 1.2's and named by tag where they are used.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from .catalog import (
    CORRECTION_INTENTS,
    CORRECTION_TYPES,
    INTENTS,
    OBSOLETE_TAX_SYSTEMS,
    PAYMENT_TYPES,
    TAX_SYSTEMS,
    TIMEZONES,
)
from .fields import (
    Problems,
    check_choice,
    check_date,
    check_digits,
    check_flag,
    check_inn,
    check_int,
    check_mapping,
    check_money,
    check_text,
    is_phone,
    null_paths,
)
from .marks import check_sectoral_props
from .positions import ReceiptContext, check_positions

__all__ = ["check_task"]

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_TIMESTAMP = re.compile(r"[0-9]{2}\.[0-9]{2}\.[0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}")
_NO_CONTACT = ("Отсутствует email(телефон) клиента для режима Интернет: чеку интернет-расчета (internet: true) "
               "или ненапечатанному (print не true) нужен client.email или client.phone")
_CORRECTION_TYPE_RENAMED = {"forced": "в API v2 коррекция по предписанию — instruction (forced — из v1)"}


def _needs_contact(payload: Mapping[str, Any]) -> bool:
    """A contact is needed unless the receipt is printed or explicitly not an Internet sale (fiscal_2026.md)."""
    internet = payload.get("internet")
    return internet is True or (payload.get("print") is not True and internet is not False)


def _client(payload: Mapping[str, Any], today: date, out: Problems) -> None:
    """The buyer (api §4.3 ``client``; FFD 1008 contact 64, 1227 name 256, 1243–1246, 1254 address 256)."""
    client = payload.get("client", {})
    if not check_mapping(client, "client", out, "{email, phone, name, inn, …}"):
        return
    email, phone = client.get("email"), client.get("phone")
    if email is not None and (type(email) is not str or len(email) > 64 or not _EMAIL.fullmatch(email)):
        out.append(("client.email", f"некорректный email {email!r}"))
    if phone is not None and not is_phone(phone):
        out.append(("client.phone", f"некорректный телефон {phone!r} (формат +79991234567)"))
    if not email and not phone and _needs_contact(payload):
        out.append(("client", _NO_CONTACT))
    if "name" in client:
        check_text(client["name"], "client.name", out, 256)
    if "inn" in client:
        check_inn(client["inn"], "client.inn", out)
        if "name" not in client:
            out.append(("client.name", "обязателен при client.inn: ИНН покупателя передают вместе с его "
                                       "наименованием (54-ФЗ ст. 4.7 п. 1)"))
    if "birthdate" in client:
        check_date(client["birthdate"], "client.birthdate", out, not_after=today)
    if "citizenship" in client:
        check_digits(client["citizenship"], "client.citizenship", out, 3, "цифровой код страны ОКСМ")
    if "document_code" in client:
        check_digits(client["document_code"], "client.document_code", out, 2, "код вида документа")
    if "document_data" in client:
        check_text(client["document_data"], "client.document_data", out, 64)
    if "address" in client:
        check_text(client["address"], "client.address", out, 256)


def _company(company: Any, correction: bool, out: Problems) -> int | None:
    """``{sno, payment_address, inn?, place_address?}``; returns the valid ``sno``.

    The register agent reads ``payment_address`` only outside corrections (receipt_v2_factory), so a
    correction may leave it out. Lengths: FFD 1187 and 1009, 256.
    """
    if not check_mapping(company, "company", out, "{sno, payment_address}"):
        return None
    sno = None
    if "sno" not in company:
        out.append(("company.sno", "обязательное поле"))
    elif check_choice(company["sno"], TAX_SYSTEMS, "company.sno", out, OBSOLETE_TAX_SYSTEMS):
        sno = company["sno"]
    check_text(company.get("payment_address"), "company.payment_address", out, 256, required=not correction)
    if "place_address" in company:
        check_text(company["place_address"], "company.place_address", out, 256)
    if "inn" in company:
        check_inn(company["inn"], "company.inn", out)
    return sno


def _payments(payments: Any, out: Problems) -> tuple[Decimal | None, Decimal]:
    """``[{sum, type}]``; returns the total paid (``None`` if unusable) and the part paid by card."""
    if type(payments) is not list or not payments:
        out.append(("payments", "нужна хотя бы одна оплата"))
        return None, Decimal(0)
    paid: Decimal | None = Decimal(0)
    by_card = Decimal(0)
    for index, payment in enumerate(payments):
        field = f"payments[{index}]"
        if not check_mapping(payment, field, out, "{sum, type}"):
            paid = None
            continue
        amount = check_money(payment["sum"], f"{field}.sum", out) if "sum" in payment else None
        if "sum" not in payment:
            out.append((f"{field}.sum", "обязательное поле"))
        if "type" not in payment:
            out.append((f"{field}.type", "обязательное поле"))
        elif check_choice(payment["type"], PAYMENT_TYPES, f"{field}.type", out) and payment["type"] == "card":
            by_card += amount or 0
        paid = None if amount is None or paid is None else paid + amount
    return paid, by_card


def _cashless(value: Any, by_card: Decimal, out: Problems) -> None:
    """Tag 1235 ``[{sum, method, id, additional_info?}]`` (SDK ``add_cashless_payment``): within the card payments.

    method (1236) is a byte; id (1237) and additional_info (1238) taken as up to 256 characters.
    """
    if type(value) is not list or not value:
        out.append(("cashless_payments", "непустой список {sum, method, id}"))
        return
    described = Decimal(0)
    for index, payment in enumerate(value):
        field = f"cashless_payments[{index}]"
        if not check_mapping(payment, field, out, "{sum, method, id}"):
            continue
        described += check_money(payment.get("sum"), f"{field}.sum", out, positive=True) or 0
        check_int(payment.get("method"), f"{field}.method", out, 0, 255)
        check_text(payment.get("id"), f"{field}.id", out, 256)
        if "additional_info" in payment:
            check_text(payment["additional_info"], f"{field}.additional_info", out, 256)
    if described > by_card:
        out.append(("cashless_payments", f"сведения о безналичных оплатах на {described} больше оплат "
                                         f"картой ({by_card})"))


def _person(value: Any, field: str, out: Problems) -> None:
    """A cashier or authorised person: ``{name, inn?}``, name up to 64 (tag 1021), a person's 12-digit INN (1203)."""
    if check_mapping(value, field, out, "{name, inn}"):
        check_text(value.get("name"), f"{field}.name", out, 64)
        if "inn" in value:
            check_inn(value["inn"], f"{field}.inn", out, (12,))


def _correction(payload: Mapping[str, Any], intent: Any, today: date, out: Problems) -> None:
    """``correction_info`` {type, base_date, base_number}: base_number (1179, 32) only required by instruction."""
    if intent not in CORRECTION_INTENTS:
        if "correction_info" in payload:
            out.append(("correction_info", "только для чека коррекции (intent …Correction)"))
        return
    info = payload.get("correction_info")
    if info is None:
        out.append(("correction_info", "обязателен для чека коррекции"))
        return
    if not check_mapping(info, "correction_info", out, "{type, base_date, base_number}"):
        return
    kind = info.get("type")
    check_choice(kind, CORRECTION_TYPES, "correction_info.type", out, _CORRECTION_TYPE_RENAMED)
    check_date(info.get("base_date"), "correction_info.base_date", out, not_after=today)
    check_text(info.get("base_number"), "correction_info.base_number", out, 32, required=kind == "instruction")


def _receipt_props(payload: Mapping[str, Any], today: date, out: Problems) -> None:
    """Receipt-level props: 1192 (16, api §6), 1084 {1085 name 64, 1086 value 234}, 1270, 1261, 1011."""
    if "additional_check_props" in payload:
        check_text(payload["additional_check_props"], "additional_check_props", out, 16)
    props = payload.get("additional_user_props")
    if props is not None and check_mapping(props, "additional_user_props", out, "{name, value}"):
        check_text(props.get("name"), "additional_user_props.name", out, 64)
        check_text(props.get("value"), "additional_user_props.value", out, 234)
    props = payload.get("operating_check_props")
    if props is not None and check_mapping(props, "operating_check_props", out, "{name, value, timestamp}"):
        if type(props.get("name")) is int:
            check_int(props["name"], "operating_check_props.name", out, 0, 255)
        else:
            check_text(props.get("name"), "operating_check_props.name", out, 64)
        check_text(props.get("value"), "operating_check_props.value", out, 64)
        stamp = props.get("timestamp")
        if type(stamp) is not str or not _TIMESTAMP.fullmatch(stamp):
            out.append(("operating_check_props.timestamp", f"дата и время «дд.мм.гггг ЧЧ:ММ:СС», получено {stamp!r}"))
    if "sectoral_check_props" in payload:
        check_sectoral_props(payload["sectoral_check_props"], "sectoral_check_props", out, today)
    if "timezone" in payload:
        check_choice(payload["timezone"], TIMEZONES, "timezone", out)


def _common(payload: Mapping[str, Any], out: Problems) -> None:
    """What v1 and v2 share: external_id, intent, print."""
    null_paths(payload, "", out)
    external_id = payload.get("external_id")
    if type(external_id) not in (str, int) or str(external_id).strip() == "":
        out.append(("external_id", "обязательное поле (строка или число)"))
    if "intent" not in payload:
        out.append(("intent", "обязательное поле"))
    else:
        check_choice(payload["intent"], INTENTS, "intent", out)
    check_flag(payload, "print", "print", out)


def check_task(payload: Any, *, version: int = 2, today: date | None = None) -> Problems:
    """Every reason KOMTET would answer 422, as ``(field, message)``; ``[]`` when the task is acceptable."""
    if not isinstance(payload, Mapping):
        return [("task", "тело запроса должно быть JSON-объектом")]
    out: Problems = []
    _common(payload, out)
    if version == 1:
        return out
    today = today or date.today()
    intent = payload.get("intent")
    check_flag(payload, "internet", "internet", out)
    _client(payload, today, out)
    sno = _company(payload.get("company"), intent in CORRECTION_INTENTS, out)
    total = check_positions(payload.get("positions"), ReceiptContext(intent, sno, today), out)
    paid, by_card = _payments(payload.get("payments"), out)
    if paid is not None and total is not None and paid != total:
        out.append(("payments", f"сумма оплат {paid} не равна сумме позиций {total}"))
    if "cashless_payments" in payload:
        _cashless(payload["cashless_payments"], by_card, out)
    if "cashier" in payload:
        _person(payload["cashier"], "cashier", out)
    if "authorised_person" in payload:
        _person(payload["authorised_person"], "authorised_person", out)
    _correction(payload, intent, today, out)
    _receipt_props(payload, today, out)
    if "callback_url" in payload:
        url = payload["callback_url"]
        if check_text(url, "callback_url", out, 1024) and not url.startswith(("http://", "https://")):
            out.append(("callback_url", "адрес http:// или https://"))
    return out
