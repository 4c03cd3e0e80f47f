"""Plans: what a receipt is (kind, intent, order, event) and how to build its payload once routed.

A plan is pure: it holds the order's data and a builder; the outbox routes it to
a register and builds the payload with that register's settings.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from ..enums import CorrectionType, Intent, PaymentMethod, ReceiptKind, SettlementScheme
from ..errors import InvalidOrder
from ..orders import Order
from ..receipts import (
    Cashier,
    ReceiptSettings,
    RefundLine,
    build_correction,
    build_sale,
)

__all__ = ["Plan", "as_person", "check_correction", "correction_key", "correction_plan", "day", "event_key",
           "make_external_id", "plain_lines", "sale_method", "sale_plan"]


def make_external_id(prefix: str, kind: str, order_ref: str, event_key: str, sequence: int) -> str:
    """``{prefix}{kind}-{order}[-{event}]-{n}``: stable across retries, unique per receipt."""
    parts = [kind, order_ref] + ([event_key] if event_key else []) + [str(sequence)]
    external_id = prefix + "-".join(parts)
    if len(external_id) > 128:
        digest = hashlib.sha1(external_id.encode()).hexdigest()[:16]
        external_id = f"{prefix}{kind}-{digest}-{sequence}"
    return external_id


def event_key(lines: Sequence[Any] | None, ref: str | None) -> str:
    if ref:
        return str(ref)
    if lines is None:
        return "all"
    return hashlib.sha1(repr(list(lines)).encode()).hexdigest()[:10]


@dataclass(frozen=True)
class Plan:
    kind: ReceiptKind
    intent: Intent
    order_ref: str
    event_key: str
    region: str | None
    order_data: dict[str, Any]
    build: Callable[[ReceiptSettings, str, str | None, Cashier | None], dict[str, Any]]


def sale_plan(order: Order) -> Plan:
    """The sale receipt of ``order``; its stored order notes the order line of each position."""
    data = order.to_dict()
    return Plan(
        ReceiptKind.SALE, Intent.SELL, order.ref, "", order.region, data,
        lambda settings, external_id, callback, cashier: build_sale(
            order, settings, external_id=external_id, callback_url=callback, cashier=cashier,
            payment_method=sale_method(settings, order), noted=data,
        ),
    )


def sale_method(settings: ReceiptSettings, order: Order) -> PaymentMethod | None:
    """Cash at the counter hands the goods over at once, and so does the one-receipt scheme."""
    if not order.is_online or settings.settlement_scheme is SettlementScheme.SINGLE:
        return PaymentMethod.FULL_PAYMENT
    return None


def correction_key(intent: Any, base_date: date, base_number: str | None) -> str:
    """A correction's event key (part of its external id): its base document and kind."""
    return f"{base_date:%Y%m%d}-{base_number or 'self'}-{Intent.parse(intent).value}"


def check_correction(correction_type: Any, base_date: date, base_number: str | None) -> None:
    """Refuse (naming the field) a correction KOMTET would refuse: by instruction without its number, or a future date."""
    errors = {}
    if CorrectionType.parse(correction_type) is CorrectionType.INSTRUCTION and not base_number:
        errors["base_number"] = "Для коррекции по предписанию нужен номер предписания налогового органа"
    if base_date > date.today():
        errors["base_date"] = "Дата расчета, который исправляется, не может быть в будущем"
    if errors:
        raise InvalidOrder(errors)


def correction_plan(order: Order, intent: Intent, correction_type: Any, base_date: date,
                     base_number: str | None, authorised_person: Cashier | None = None) -> Plan:
    """A correction (FFD 1.2) of the settlement of ``base_date``, priced at the settings in force that day.

    ``base_number`` (the tax authority's instruction) is kept only for a correction by instruction.
    """
    if CorrectionType.parse(correction_type) is not CorrectionType.INSTRUCTION:
        base_number = None
    correction: dict[str, Any] = {"intent": intent.value, "type": str(correction_type),
                                  "base_date": base_date.isoformat(), "base_number": base_number}
    if authorised_person is not None:
        correction["authorised_person"] = {"name": authorised_person.name, "inn": authorised_person.inn}
    data = order.to_dict() | {"correction": correction}
    return Plan(ReceiptKind.CORRECTION, intent, order.ref, correction_key(intent, base_date, base_number),
                 order.region, data,
                 lambda settings, external_id, callback, cashier: build_correction(
                     order, settings, external_id=external_id, intent=intent, correction_type=correction_type,
                     base_date=base_date, base_number=base_number, callback_url=callback, cashier=cashier,
                     authorised_person=authorised_person))


def as_person(person: Any) -> Cashier | None:
    """``authorised_person`` as given: a ``Cashier``, ``(name, inn)``, ``{"name", "inn"}`` or ``None``."""
    if person is None or isinstance(person, Cashier):
        return person
    if isinstance(person, Mapping):
        return Cashier(person.get("name") or "", person.get("inn"))
    if isinstance(person, (tuple, list)) and 1 <= len(person) <= 2:
        return Cashier(*person)
    raise InvalidOrder("ожидается (ФИО, ИНН) или {\"name\": …, \"inn\": …}", field="authorised_person")


def plain_lines(lines: Sequence[RefundLine] | None) -> Any:
    """Refund lines as JSON (``{"index", "quantity"}``), so a re-send or a settlement can read them back."""
    if lines is None:
        return None
    return [{"index": line.index, "quantity": None if line.quantity is None else str(line.quantity)}
            | ({"marks": list(line.marks)} if line.marks else {}) for line in lines]


def day(moment: datetime | None) -> date:
    return moment.date() if moment else date.today()
