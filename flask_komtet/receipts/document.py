"""The receipt document around its positions: buyer, company, cashier, payments, and the final check."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ..enums import Intent, PaymentType, TaxSystem
from ..errors import InvalidOrder
from ..orders import Customer, Order, Payment
from ..validation import validate_task
from .contacts import check_inn, normalize_email, normalize_phone
from .money import rubles
from .names import clean_text
from .props import buyer_details
from .settings import CASHIER_LIMIT, NAME_LIMIT, Cashier, ReceiptSettings

__all__ = ["default_type", "payments_of", "receipt"]


def _client(customer: Customer, online: bool) -> dict[str, Any]:
    """The buyer: a contact is required for an Internet payment (the receipt must reach the buyer);
    a receipt printed at the counter may go without one (``client: {}``, as the SDK's ``Check`` starts)."""
    client: dict[str, Any] = {}
    for key, normalize in (("email", normalize_email), ("phone", normalize_phone)):
        value = getattr(customer, key)
        if value:
            try:
                client[key] = normalize(value)
            except ValueError as exc:
                raise InvalidOrder(str(exc), field=f"customer.{key}") from None
    if not client and online:
        raise InvalidOrder("нужен email или телефон покупателя: при расчете через Интернет на него придет "
                           "электронный чек", field="customer")
    name = clean_text(customer.name, NAME_LIMIT) if customer.name else ""
    if name:
        client["name"] = name
    client.update(buyer_details(customer))
    if customer.inn:
        try:
            client["inn"] = check_inn(customer.inn)
        except ValueError as exc:
            raise InvalidOrder(str(exc), field="customer.inn") from None
        if not name:  # tag 1228 only together with tag 1227
            raise InvalidOrder("ИНН покупателя передается только вместе с наименованием покупателя "
                               "(54-ФЗ ст. 4.7 п. 1): укажите наименование или уберите ИНН", field="customer.name")
    return client


def _company(settings: ReceiptSettings) -> dict[str, Any]:
    if not settings.payment_address:
        raise InvalidOrder("не указано место расчетов (адрес сайта или магазина) в настройках кассы",
                           field="settings.payment_address")
    company: dict[str, Any] = {"sno": int(TaxSystem.parse(settings.tax_system)),
                               "payment_address": settings.payment_address}
    if settings.company_inn:
        company["inn"] = settings.company_inn
    if settings.place_address:
        company["place_address"] = settings.place_address
    return company


def _cashier(cashier: Cashier | None, settings: ReceiptSettings) -> dict[str, Any] | None:
    name = cashier.name if cashier else settings.cashier_name
    inn = cashier.inn if cashier else settings.cashier_inn
    name = clean_text(str(name), CASHIER_LIMIT) if name else ""
    if not name:
        return None
    result: dict[str, Any] = {"name": name}
    if inn:
        try:
            result["inn"] = check_inn(inn, person=True)
        except ValueError as exc:
            raise InvalidOrder(str(exc), field="cashier.inn") from None
    return result


def payments_of(payments: Sequence[Payment], total: Decimal, default: PaymentType) -> list[dict[str, Any]]:
    if total <= 0:
        raise InvalidOrder("сумма чека равна нулю: фискализировать нечего", field="lines")
    if not payments:
        payments = [Payment(default, total)]
    result, paid = [], Decimal(0)
    for index, payment in enumerate(payments):
        amount = rubles(payment.amount)
        if amount != payment.amount.quantize(amount) or amount < 0:
            raise InvalidOrder("сумма оплаты: не больше двух знаков после запятой и не меньше нуля",
                               field=f"payments[{index}].amount")
        paid += amount
        if amount:
            result.append({"sum": amount, "type": payment.type.value})
    if paid != total:
        raise InvalidOrder(f"сумма оплат {paid} не равна сумме позиций {total}", field="payments")
    return result


def receipt(external_id: str, intent: Intent, settings: ReceiptSettings, customer: Customer,
             positions: list[dict[str, Any]], payments: list[dict[str, Any]], cashier: Cashier | None,
             callback_url: str | None, extra: Mapping[str, Any] | None = None, *, online: bool = True
             ) -> dict[str, Any]:
    """The payload; ``online=False`` (paid at the counter) always prints, is never «расчет в Интернете»
    and needs no buyer contact."""
    payload: dict[str, Any] = {
        "external_id": external_id, "intent": intent.value, "print": bool(settings.print_receipt) or not online,
        "client": _client(customer, online), "company": _company(settings), "positions": positions, "payments": payments,
    }
    cashier_dict = _cashier(cashier, settings)
    if cashier_dict:
        payload["cashier"] = cashier_dict
    if settings.internet and online:
        payload["internet"] = True
    if callback_url:
        payload["callback_url"] = callback_url
    if extra:
        payload.update(extra)
    _final_check(payload)
    return payload


def _final_check(payload: dict[str, Any]) -> None:
    """The same rules the emulator (and KOMTET) enforce, before anything leaves."""
    problems = validate_task(payload)
    if problems:
        raise InvalidOrder(dict(problems))


def default_type(order: Order) -> PaymentType:
    return PaymentType.CARD if order.is_online else PaymentType.CASH
