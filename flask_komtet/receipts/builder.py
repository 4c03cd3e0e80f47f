"""The receipts: sale, refund, settlement, correction and top-up payloads (pure, exact to the kopeck)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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
)
from ..errors import InvalidOrder
from ..orders import Customer, Order, Payment
from ..values import show, to_decimal
from .document import default_type, payments_of, receipt
from .money import rubles
from .names import clean_text
from .positions import (
    Position,
    checked_quantity,
    position_dict,
    priced_positions,
    vat_for,
)
from .settings import NAME_LIMIT, Cashier, ReceiptSettings, RefundLine
from .taxes import check_rate

__all__ = ["build_correction", "build_refund", "build_sale", "build_settlement", "build_top_up", "receipt_total"]


def build_sale(order: Order, settings: ReceiptSettings, *, external_id: str, callback_url: str | None = None,
               cashier: Cashier | None = None, payment_method: PaymentMethod | None = None,
               rates_as_of: date | None = None) -> dict[str, Any]:
    """The sale receipt (``sell``) of a paid order; VAT rates as of ``rates_as_of`` or ``settings.receipt_date``."""
    settings = _as_of(settings, rates_as_of)
    method = payment_method or settings.payment_method
    positions = priced_positions(order, settings, method)
    total = sum((p.total for p in positions), Decimal(0))
    payments = payments_of(order.payments, total, default_type(order))
    return receipt(external_id, Intent.SELL, settings, order.customer,
                    [position_dict(p, method) for p in positions], payments, cashier, callback_url,
                    online=order.is_online)


def build_refund(order: Order, settings: ReceiptSettings, *, external_id: str,
                 lines: Sequence[RefundLine | int | Mapping[str, Any]] | None = None,
                 callback_url: str | None = None, cashier: Cashier | None = None,
                 payment_method: PaymentMethod | None = None, rates_as_of: date | None = None) -> dict[str, Any]:
    """The refund receipt (``sellReturn``): the whole order as sold, or some lines and quantities.

    A part of a line is refunded at that line's own discounted unit total, so a
    line refunded in parts never returns more than was paid for it. VAT rates are
    those of the sale: checked as of ``rates_as_of``, else the day the order was paid
    (unknown: no date check).
    """
    paid_on = order.paid_at.date() if order.paid_at is not None else None
    settings = replace(settings, receipt_date=rates_as_of or paid_on, follow_up=True)
    method = payment_method or settings.payment_method
    sold = priced_positions(order, settings, method)
    if lines is None:
        chosen = [position_dict(p, method) for p in sold]
        total = sum((p.total for p in sold), Decimal(0))
        payments = payments_of(order.payments, total, default_type(order))
    else:
        by_index = {p.index: p for p in sold}
        chosen = [position_dict(position, method) | {"quantity": quantity, "total": total}
                  for position, quantity, total in _refund_parts(by_index, lines)]
        total = sum((item["total"] for item in chosen), Decimal(0))
        kind = next((p.type for p in order.payments if p.type is not PaymentType.PREPAYMENT), default_type(order))
        payments = payments_of([], total, kind)
    return receipt(external_id, Intent.SELL_RETURN, settings, order.customer, chosen, payments, cashier,
                    callback_url, online=order.is_online)


def _refund_parts(by_index: Mapping[int | str, Position], lines: Any) -> list[tuple[Position, Decimal, Decimal]]:
    """``(position, quantity, total)`` per line refunded; lines naming the same position count together."""
    if isinstance(lines, (str, bytes, Mapping)) or not isinstance(lines, Iterable):
        raise InvalidOrder(f"ожидается список строк возврата, получено {show(lines)}", field="refund_lines")
    merged: dict[int | str, list[Any]] = {}
    for n, raw in enumerate(lines):
        line = _refund_line(raw, n)
        index = line.index
        if isinstance(index, str) and index.strip().isdigit() and index.strip().isascii():
            index = int(index)
        valid = index == "delivery" or (isinstance(index, int) and not isinstance(index, bool))
        position = by_index.get(index) if valid else None
        if position is None:
            raise InvalidOrder("такой позиции нет в чеке продажи", field=f"refund_lines[{n}].index")
        field = f"refund_lines[{n}].quantity"
        quantity = position.quantity if line.quantity is None else checked_quantity(to_decimal(line.quantity, field), field)
        entry = merged.setdefault(position.index, [position, Decimal(0), n])
        entry[1] += quantity
        if entry[1] > position.quantity:
            raise InvalidOrder(f"нельзя вернуть больше, чем продано ({position.quantity})", field=field)
    return [_refund_part(position, quantity, n) for position, quantity, n in merged.values()]


def _refund_part(position: Position, quantity: Decimal, n: int) -> tuple[Position, Decimal, Decimal]:
    """``(position, quantity, total)``: part of a line at its own unit total."""
    if quantity == position.quantity:
        return position, quantity, position.total
    # Proportional, but both the returned part and what stays must fit price × quantity.
    low = position.total - rubles(position.price * (position.quantity - quantity))
    high = min(position.total, rubles(position.price * quantity))
    if low > high:
        raise InvalidOrder("эту часть позиции нельзя вернуть отдельно: сумма меньше копейки",
                           field=f"refund_lines[{n}].quantity")
    total = min(max(rubles(position.total * quantity / position.quantity), low), high)
    return position, quantity, total


def _refund_line(raw: RefundLine | int | Mapping[str, Any], n: int) -> RefundLine:
    if isinstance(raw, RefundLine):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        return RefundLine(raw)
    if isinstance(raw, Mapping):
        if "index" not in raw:
            raise InvalidOrder("обязательное поле (номер строки заказа или \"delivery\")",
                               field=f"refund_lines[{n}].index")
        quantity = raw.get("quantity")
        field = f"refund_lines[{n}].quantity"
        return RefundLine(raw["index"], to_decimal(quantity, field) if quantity not in (None, "") else None)
    raise InvalidOrder(f"непонятная строка возврата {show(raw)}", field=f"refund_lines[{n}]")


def build_settlement(order: Order, settings: ReceiptSettings, *, external_id: str, prepaid: Decimal,
                     refunds: Sequence[Sequence[RefundLine | int | Mapping[str, Any]] | None] = (),
                     callback_url: str | None = None, cashier: Cashier | None = None,
                     rates_as_of: date | None = None) -> dict[str, Any]:
    """The settlement receipt («Полный расчет») after a prepayment receipt.

    Positions carry the real payment object and the plain VAT rate; what was
    refunded before (``refunds``: each refund's lines, ``None`` for a whole
    refund) is left out; ``prepaid`` is offset with payment type ``prepayment``
    and any remainder is paid by card (online) or cash.
    """
    settings = _as_of(settings, rates_as_of)
    method = PaymentMethod.FULL_PAYMENT
    remaining = {p.index: [p, p.quantity, p.total] for p in priced_positions(order, settings, method)}
    positions = {p[0].index: p[0] for p in remaining.values()}
    for refund in refunds:
        if refund is None:
            remaining = {}
            break
        for position, quantity, total in _refund_parts(positions, refund):
            entry = remaining.get(position.index)
            if entry is not None:
                entry[1] -= quantity
                entry[2] -= total
    items = [position_dict(p, method) | {"quantity": q, "total": t} for p, q, t in remaining.values() if q > 0]
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
                    online=order.is_online)


def build_correction(order: Order, settings: ReceiptSettings, *, external_id: str, intent: Intent,
                     correction_type: CorrectionType, base_date: date, base_number: str | None = None,
                     callback_url: str | None = None, cashier: Cashier | None = None,
                     payment_method: PaymentMethod = PaymentMethod.FULL_PAYMENT, online: bool | None = None,
                     rates_as_of: date | None = None) -> dict[str, Any]:
    """A correction receipt (``sellCorrection`` / ``sellReturnCorrection``) with KOMTET v2 ``correction_info``.

    ``correction_type`` is ``self`` (the shop found the mistake) or ``instruction``
    (the tax office ordered it); ``base_date`` and ``base_number`` name the
    document it rests on. ``online`` (default: the order's) as for a sale: a
    correction at the counter is printed, paid in cash unless the order says otherwise.
    """
    settings = _as_of(settings, rates_as_of)
    online = order.is_online if online is None else online
    intent = Intent.parse(intent)
    if not intent.is_correction:
        raise InvalidOrder(f"{intent.value} не является чеком коррекции", field="intent")
    positions = priced_positions(order, settings, payment_method)
    total = sum((p.total for p in positions), Decimal(0))
    payments = payments_of(order.payments, total, PaymentType.CARD if online else PaymentType.CASH)
    info: dict[str, Any] = {"type": CorrectionType.parse(correction_type).value,
                            "base_date": base_date.strftime("%d.%m.%Y")}
    if base_number:
        info["base_number"] = str(base_number)[:32]
    payload = receipt(external_id, intent, settings, order.customer,
                       [position_dict(p, payment_method) for p in positions], payments, cashier, callback_url,
                       extra={"correction_info": info}, online=online)
    return payload


def build_top_up(customer: Customer, amount: Decimal | int | str, settings: ReceiptSettings, *, external_id: str,
                 payment_type: PaymentType | None = None, callback_url: str | None = None,
                 cashier: Cashier | None = None, online: bool | None = None,
                 rates_as_of: date | None = None) -> dict[str, Any]:
    """A balance top-up: one position named by the register («Пополнение баланса»).

    ``online=False`` (cash at the counter): paid in cash, printed, not «расчет в Интернете»;
    by default online unless ``payment_type`` is cash, paid by card online.
    """
    if online is None:
        online = payment_type is not PaymentType.CASH
    payment_type = payment_type or (PaymentType.CARD if online else PaymentType.CASH)
    settings = _as_of(settings, rates_as_of)
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
                    online=online)


def _as_of(settings: ReceiptSettings, day: date | None) -> ReceiptSettings:
    """``settings`` whose VAT rates are checked as of ``day`` (a follow-up's original date), if given."""
    return settings if day is None else replace(settings, receipt_date=day, follow_up=True)


def receipt_total(payload: Mapping[str, Any]) -> Decimal:
    """What the buyer paid: the sum of the payload's payments."""
    return sum((Decimal(str(p["sum"])) for p in payload.get("payments", ())), Decimal(0))
