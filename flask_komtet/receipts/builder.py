"""The receipts: sale, refund, settlement, correction and top-up payloads (pure, exact to the kopeck)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from ..enums import (
    CorrectionType,
    Intent,
    Measure,
    PaymentMethod,
    PaymentType,
    VatRate,
)
from ..errors import InvalidOrder
from ..orders import Customer, Order, OrderLine, Payment
from ..values import to_decimal
from .contacts import check_inn
from .document import default_type, payments_of, receipt
from .followups import Refunded, Sold, refund_items, refund_request, refunded, settled_items, settled_vat
from .marks import line_of, returned, settled_units, unit_positions, unit_request
from .money import rubles
from .names import clean_text
from .positions import position_dict, priced_positions, vat_for
from .props import receipt_props
from .settings import CASHIER_LIMIT, NAME_LIMIT, Cashier, ReceiptSettings, RefundLine
from .taxes import check_rate

__all__ = ["build_correction", "build_refund", "build_sale", "build_settlement", "build_top_up", "done_as_sold",
           "receipt_total", "sold_positions"]


def build_sale(order: Order, settings: ReceiptSettings, *, external_id: str, callback_url: str | None = None,
               cashier: Cashier | None = None, payment_method: PaymentMethod | None = None,
               noted: dict[str, Any] | None = None, rates_as_of: date | None = None) -> dict[str, Any]:
    """The sale receipt (``sell``) of a paid order; VAT rates as of ``rates_as_of`` or ``settings.receipt_date``.

    ``noted["indices"]``, if given, is set to the order line of each position (so refunds can find them).
    """
    settings = _as_of(settings, rates_as_of)
    method = payment_method or settings.payment_method
    positions = unit_positions(priced_positions(order, settings, method), settings, method)
    if noted is not None:
        noted["indices"] = [p.index for p in positions]
    total = sum((p.total for p in positions), Decimal(0))
    payments = payments_of(order.payments, total, default_type(order))
    return receipt(external_id, Intent.SELL, settings, order.customer,
                    [position_dict(p, method, settings.agent_type) for p in positions], payments, cashier,
                    callback_url, receipt_props(order, settings, cashless=True), online=order.is_online)


def sold_positions(order: Order, settings: ReceiptSettings, method: PaymentMethod) -> Sold:
    """The positions ``order`` is sold with at ``method``, keyed by order line (see :mod:`.followups`)."""
    positions = unit_positions(priced_positions(order, settings, method), settings, method)
    return {p.index: position_dict(p, method, settings.agent_type) for p in positions}


def build_refund(order: Order, settings: ReceiptSettings, *, external_id: str,
                 lines: Sequence[RefundLine | int | Mapping[str, Any] | OrderLine] | None = None,
                 callback_url: str | None = None, cashier: Cashier | None = None,
                 payment_method: PaymentMethod | None = None, sold: Sold | None = None,
                 done: Refunded | None = None, paid: Sequence[Payment] | None = None,
                 noted: dict[str, Any] | None = None, rates_as_of: date | None = None) -> dict[str, Any]:
    """The refund receipt (``sellReturn``): what is left of the order, or some lines and quantities.

    ``sold`` is the positions of the receipt the refund returns (read from its
    stored payload, :mod:`.followups`): they are copied with their rate, method and
    object. Without it they are priced from ``order`` at ``payment_method``
    (default: the register's). ``done`` is what earlier refunds returned: the
    refund never goes past what was sold. ``paid`` is how the buyer paid
    (default: ``order.payments``). A part of a line is refunded at that line's
    own discounted unit total. ``noted["indices"]``, if given, is set to the
    order line of each position (so later refunds can count what this one took).
    Rates are the sale's: checked as of ``rates_as_of``, else the day the order was
    paid (unknown: no date check).
    """
    paid_on = order.paid_at.date() if order.paid_at is not None else None
    settings = replace(settings, receipt_date=rates_as_of or paid_on, follow_up=True)
    if sold is None:
        sold = sold_positions(order, settings, payment_method or settings.payment_method)
    request = unit_request(sold, refund_request(lines, order.lines, order.delivery), done or {})
    chosen = returned(refund_items(sold, request, done or {}))
    if noted is not None:
        noted["indices"] = [index for index, _ in chosen]
    items = [item for _, item in chosen]
    total = sum((item["total"] for item in items), Decimal(0))
    payments = _returned(order.payments if paid is None else paid, total, default_type(order))
    return receipt(external_id, Intent.SELL_RETURN, settings, order.customer, items, payments, cashier,
                    callback_url, receipt_props(order, settings), online=order.is_online)


def _returned(paid: Sequence[Payment], total: Decimal, default: PaymentType) -> list[dict[str, Any]]:
    """The refund's payments: as paid when it returns all of it, else in the way the buyer paid the money."""
    if paid and sum((p.amount for p in paid), Decimal(0)) == total:
        return payments_of(paid, total, default)
    money = [p for p in paid if p.type is not PaymentType.PREPAYMENT and p.amount]
    return payments_of([], total, money[0].type if money else default)


def build_settlement(order: Order, settings: ReceiptSettings, *, external_id: str, prepaid: Decimal,
                     refunds: Sequence[Sequence[RefundLine | int | Mapping[str, Any]] | None] = (),
                     callback_url: str | None = None, cashier: Cashier | None = None,
                     sold: Sold | None = None, done: Refunded | None = None, on: date | None = None,
                     sold_vat: VatRate | None = None, new_lines_from: int | None = None,
                     noted: dict[str, Any] | None = None, rates_as_of: date | None = None) -> dict[str, Any]:
    """The settlement receipt («Полный расчет») after a prepayment receipt.

    ``sold`` is the prepayment's positions (from its stored payload): each one
    that is left after the refunds in ``done`` becomes ``full_payment`` with its
    real payment object (from ``order``) and the plain rate in force on ``on``
    (a position at the register's old default ``sold_vat`` takes the default in
    force). Lines of ``order`` from ``new_lines_from`` on (added at hand-over) are
    priced from the order. Without ``sold``, positions are priced from ``order``
    and ``refunds`` (each refund's lines, ``None`` for a whole refund) are left
    out. ``prepaid`` is offset with payment type ``prepayment`` and any
    remainder is paid by card (online) or cash. ``noted["indices"]``, if given,
    is set to the order line of each position.
    """
    settings = _as_of(settings, rates_as_of)
    current = sold_positions(order, settings, PaymentMethod.FULL_PAYMENT)
    added: list[tuple[Any, dict[str, Any]]] = []
    if sold is None:
        sold, done = current, {}
        for refund in refunds:
            part = refund_items(sold, refund_request(refund, order.lines, order.delivery), done)
            done = refunded([done_as_sold(done), dict(part)])
    elif new_lines_from is not None:
        added = [(i, item) for i, item in current.items() if i not in sold and line_of(i) not in sold
                 and (i == "delivery" or (isinstance(line_of(i), int) and int(line_of(i)) >= new_lines_from))]
    day = on or date.today()
    objects = {index: item["payment_object"] for index, item in current.items()}
    chosen = settled_items(sold, done or {}, objects=objects, default_object=settings.payment_object.value,
                           vat=lambda rate: settled_vat(rate, on=day, default_then=sold_vat,
                                                        default_now=settings.vat))
    chosen = settled_units(chosen, current) + added
    if noted is not None:
        noted["indices"] = [index for index, _ in chosen]
    items = [item for _, item in chosen]
    total = sum((item["total"] for item in items), Decimal(0))
    if not items or total == 0:
        raise InvalidOrder("заказ полностью возвращен: закрывать нечего", field="order")
    prepaid = rubles(Decimal(prepaid))
    if prepaid > total:
        raise InvalidOrder(f"предоплата {prepaid} больше суммы позиций {total}", field="prepaid")
    payments = [Payment(PaymentType.PREPAYMENT, prepaid)] + (
        [Payment(default_type(order), total - prepaid)] if total > prepaid else [])
    return receipt(external_id, Intent.SELL, settings, order.customer, items,
                    payments_of(payments, total, PaymentType.PREPAYMENT), cashier, callback_url,
                    receipt_props(order, settings), online=order.is_online)


def done_as_sold(done: Refunded) -> Sold:
    """What earlier refunds returned, in the shape :func:`~.followups.refunded` adds up."""
    return {index: {"quantity": quantity, "total": total} for index, (quantity, total) in done.items()}


def build_correction(order: Order, settings: ReceiptSettings, *, external_id: str, intent: Intent,
                     correction_type: CorrectionType, base_date: date, base_number: str | None = None,
                     callback_url: str | None = None, cashier: Cashier | None = None,
                     payment_method: PaymentMethod = PaymentMethod.FULL_PAYMENT,
                     authorised_person: Cashier | None = None, online: bool | None = None,
                     rates_as_of: date | None = None) -> dict[str, Any]:
    """A correction receipt (``sellCorrection`` / ``sellReturnCorrection``), FFD 1.2.

    ``correction_type`` is ``self`` (the shop found the mistake) or ``instruction``
    (by the tax authority's instruction). ``base_date`` is the date of the
    settlement being corrected (tag 1178); ``base_number`` is the instruction's
    number (tag 1179), sent only for ``instruction``. ``settings`` should be the
    register's as in force on ``base_date`` (its VAT). ``authorised_person``
    (name, INN) is who signs the correction, as in the SDK's
    ``CorrectionCheck.set_authorised_person``. ``online`` (default: the order's) as for
    a sale: a correction at the counter is printed and paid in cash.
    """
    settings = _as_of(settings, rates_as_of)
    online = order.is_online if online is None else online
    intent = Intent.parse(intent)
    if not intent.is_correction:
        raise InvalidOrder(f"{intent.value} не является чеком коррекции", field="intent")
    kind = CorrectionType.parse(correction_type)
    positions = unit_positions(priced_positions(order, settings, payment_method), settings, payment_method)
    total = sum((p.total for p in positions), Decimal(0))
    payments = payments_of(order.payments, total, PaymentType.CARD if online else PaymentType.CASH)
    info: dict[str, Any] = {"type": kind.value, "base_date": base_date.strftime("%d.%m.%Y")}
    if kind is CorrectionType.INSTRUCTION and base_number:
        info["base_number"] = str(base_number)[:32]
    extra: dict[str, Any] = {"correction_info": info} | receipt_props(order, settings, cashless=True)
    if authorised_person is not None:
        extra["authorised_person"] = _person(authorised_person, "authorised_person")
    return receipt(external_id, intent, settings, order.customer,
                    [position_dict(p, payment_method, settings.agent_type) for p in positions], payments, cashier,
                    callback_url, extra=extra, online=online)


def _person(person: Cashier, field: str) -> dict[str, Any]:
    name = clean_text(str(person.name or ""), CASHIER_LIMIT)
    if not name:
        raise InvalidOrder("укажите ФИО", field=f"{field}.name")
    result: dict[str, Any] = {"name": name}
    if person.inn:
        try:
            result["inn"] = check_inn(str(person.inn), person=True)
        except ValueError as exc:
            raise InvalidOrder(str(exc), field=f"{field}.inn") from None
    return result


def build_top_up(customer: Customer, amount: Decimal | int | str, settings: ReceiptSettings, *, external_id: str,
                 payment_type: PaymentType | None = None, callback_url: str | None = None,
                 cashier: Cashier | None = None, online: bool | None = None,
                 rates_as_of: date | None = None) -> dict[str, Any]:
    """A balance top-up: one position named by the register («Пополнение баланса»).

    ``online=False`` (cash at the counter): paid in cash, printed, not «расчет в Интернете»;
    by default online unless ``payment_type`` is cash.
    """
    if online is None:
        online = payment_type is not PaymentType.CASH
    settings = _as_of(settings, rates_as_of)
    payment_type = payment_type or (PaymentType.CARD if online else PaymentType.CASH)
    total = to_decimal(amount, "amount")
    if rubles(total) != total or total <= 0:
        raise InvalidOrder("сумма пополнения должна быть больше нуля, не больше двух знаков после запятой",
                           field="amount")
    method = settings.top_up_payment_method
    check_rate(settings.vat, settings, "settings.vat")
    vat = vat_for(settings.vat, method.is_prepayment)
    name = clean_text(settings.top_up_name or "", NAME_LIMIT) or "Пополнение баланса"
    position = {"name": name, "price": total, "quantity": Decimal(1), "total": total,
                "vat": vat.value, "measure": int(Measure.PIECE), "payment_method": method.value,
                "payment_object": settings.top_up_payment_object.value}
    return receipt(external_id, Intent.SELL, settings, customer, [position],
                    payments_of([Payment(payment_type, total)], total, payment_type), cashier, callback_url,
                    receipt_props(None, settings), online=online)


def _as_of(settings: ReceiptSettings, day: date | None) -> ReceiptSettings:
    """``settings`` whose VAT rates are checked as of ``day`` (a follow-up's original date), if given."""
    return settings if day is None else replace(settings, receipt_date=day, follow_up=True)


def receipt_total(payload: Mapping[str, Any]) -> Decimal:
    """What the buyer paid: the sum of the payload's payments."""
    return sum((Decimal(str(p["sum"])) for p in payload.get("payments", ())), Decimal(0))
