"""Receipt-level FFD 1.2 details: the buyer's details, the order's props, cashless payments, the time zone.

* :func:`buyer_details`: ``client.birthdate`` (tag 1243, «дд.мм.гггг»),
  ``citizenship`` (1244, 3-digit OKSM), ``document_code`` (1245, 2 digits),
  ``document_data`` (1246, ≤ 64), ``address`` (1254, ≤ 256), as the SDK's
  ``Check.set_client`` sends them. Errors name the field but never echo the
  value: it is personal data, and failures are logged.
* :func:`receipt_props`: ``additional_check_props`` (1192, ≤ 16),
  ``additional_user_props`` (1084: 1085 name ≤ 64, 1086 value ≤ 234),
  ``sectoral_check_props`` (1261), ``operating_check_props`` (1270), from the
  order; ``timezone`` (1011) from the register; ``cashless_payments`` (1235)
  from the order's card payments, on the receipts that take the payments as
  the buyer made them (sale, correction).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from ..enums import PaymentType
from ..errors import InvalidOrder
from ..orders import Customer, Order, Payment
from .agents import checked_text
from .money import rubles
from .settings import ReceiptSettings

__all__ = ["buyer_details", "cashless_payments", "receipt_props"]

CHECK_PROPS_LIMIT = 16  # tag 1192 (api §6)
USER_PROP_NAME_LIMIT, USER_PROP_VALUE_LIMIT = 64, 234  # tags 1085, 1086
OPERATING_LIMIT = 64  # tags 1271 (as text), 1272
SECTORAL_NUMBER_LIMIT, SECTORAL_VALUE_LIMIT = 32, 256  # tags 1264, 1265
CASHLESS_LIMIT = 256  # tags 1237, 1238
DOCUMENT_LIMIT, ADDRESS_LIMIT = 64, 256  # tags 1246, 1254
_OLDEST = date(1900, 1, 1)


def _digits(value: str | None, count: int, field: str, what: str) -> str | None:
    if value is None:
        return None
    text = value.strip()
    if not (len(text) == count and text.isascii() and text.isdigit()):
        raise InvalidOrder(f"{what}: {count} цифры", field=field)
    return text


def buyer_details(customer: Customer, today: date | None = None) -> dict[str, Any]:
    """The buyer's FFD 1.2 details (the contacts, name and INN are :mod:`.document`'s)."""
    client: dict[str, Any] = {}
    if customer.birthdate is not None:
        if not _OLDEST <= customer.birthdate <= (today or date.today()):
            raise InvalidOrder("дата рождения покупателя не может быть в будущем или раньше 1900 года",
                               field="customer.birthdate")
        client["birthdate"] = customer.birthdate.strftime("%d.%m.%Y")
    citizenship = _digits(customer.citizenship, 3, "customer.citizenship", "гражданство — цифровой код страны ОКСМ")
    if citizenship:
        if citizenship == "000":
            raise InvalidOrder("гражданство — цифровой код страны ОКСМ, например 643", field="customer.citizenship")
        client["citizenship"] = citizenship
    document_code = _digits(customer.document_code, 2, "customer.document_code",
                            "код вида документа, удостоверяющего личность (например 21 — паспорт РФ)")
    if document_code:
        client["document_code"] = document_code
    document_data = checked_text(customer.document_data, DOCUMENT_LIMIT, "customer.document_data")
    if document_data:
        if not document_code:
            raise InvalidOrder("данные документа передаются вместе с кодом вида документа",
                               field="customer.document_code")
        client["document_data"] = document_data
    address = checked_text(customer.address, ADDRESS_LIMIT, "customer.address")
    if address:
        client["address"] = address
    return client


def cashless_payments(payments: Sequence[Payment]) -> list[dict[str, Any]]:
    """Tag 1235 for each card payment that carries its details (SDK ``add_cashless_payment``)."""
    result = []
    for index, payment in enumerate(payments):
        field = f"payments[{index}]"
        given = (payment.cashless_method, payment.cashless_id, payment.cashless_info)
        if given == (None, None, None):
            continue
        if payment.type is not PaymentType.CARD:
            raise InvalidOrder("сведения о безналичной оплате — только у оплаты картой (type card)",
                               field=f"{field}.cashless_method")
        method = payment.cashless_method
        if method is None or not 0 <= method <= 255:
            raise InvalidOrder("признак способа безналичной оплаты (тег 1236): целое число от 0 до 255",
                               field=f"{field}.cashless_method")
        payment_id = checked_text(payment.cashless_id, CASHLESS_LIMIT, f"{field}.cashless_id")
        if not payment_id:
            raise InvalidOrder("укажите идентификатор безналичной оплаты (тег 1237)", field=f"{field}.cashless_id")
        amount = rubles(payment.amount)
        if amount <= 0:
            continue  # a zero payment is left off the receipt, and so are its details
        item: dict[str, Any] = {"sum": amount, "method": method, "id": payment_id}
        info = checked_text(payment.cashless_info, CASHLESS_LIMIT, f"{field}.cashless_info")
        if info:
            item["additional_info"] = info
        result.append(item)
    return result


def _order_props(order: Order, today: date) -> dict[str, Any]:
    props: dict[str, Any] = {}
    check_props = checked_text(order.additional_check_props, CHECK_PROPS_LIMIT, "additional_check_props")
    if check_props:
        props["additional_check_props"] = check_props
    user = order.additional_user_props
    if user is not None:
        name = checked_text(user.name, USER_PROP_NAME_LIMIT, "additional_user_props.name")
        value = checked_text(user.value, USER_PROP_VALUE_LIMIT, "additional_user_props.value")
        if not name or not value:
            raise InvalidOrder("нужны наименование и значение", field="additional_user_props")
        props["additional_user_props"] = {"name": name, "value": value}
    sectoral = []
    for index, prop in enumerate(order.sectoral_check_props):
        field = f"sectoral_check_props[{index}]"
        federal_id = _digits(prop.federal_id, 3, f"{field}.federal_id", "идентификатор ФОИВ (например 030)")
        if prop.date > today:
            raise InvalidOrder("дата нормативного акта еще не наступила", field=f"{field}.date")
        number = checked_text(prop.number, SECTORAL_NUMBER_LIMIT, f"{field}.number")
        value = checked_text(prop.value, SECTORAL_VALUE_LIMIT, f"{field}.value")
        if not number or not value:
            raise InvalidOrder("нужны номер нормативного акта и значение", field=field)
        sectoral.append({"federal_id": federal_id, "date": prop.date.strftime("%d.%m.%Y"), "number": number,
                         "value": value})
    if sectoral:
        props["sectoral_check_props"] = sectoral
    operating = order.operating_check_props
    if operating is not None:
        operation: Any = operating.name
        if isinstance(operation, int):
            if not 0 <= operation <= 255:
                raise InvalidOrder("идентификатор операции: от 0 до 255", field="operating_check_props.name")
        else:
            operation = checked_text(operation, OPERATING_LIMIT, "operating_check_props.name")
        data = checked_text(operating.value, OPERATING_LIMIT, "operating_check_props.value")
        if operation is None or not data:
            raise InvalidOrder("нужны идентификатор и данные операции", field="operating_check_props")
        stamp: Any = operating.timestamp  # a datetime once the order is made
        props["operating_check_props"] = {"name": operation, "value": data,
                                          "timestamp": stamp.strftime("%d.%m.%Y %H:%M:%S")}
    return props


def receipt_props(order: Order | None, settings: ReceiptSettings, *, cashless: bool = False) -> dict[str, Any]:
    """The receipt-level keys for a receipt of ``order`` (``None``: a top-up) on a register with ``settings``.

    ``cashless``: the receipt's payments are the order's own (a sale, a correction), so their details go too.
    """
    props = _order_props(order, date.today()) if order is not None else {}
    if order is not None and cashless:
        details = cashless_payments(order.payments)
        if details:
            props["cashless_payments"] = details
    if settings.timezone is not None:
        props["timezone"] = int(settings.timezone)
    return props
