"""Follow-up receipts from what was sold: the positions of refunds and settlements (pure).

A follow-up copies each position of the receipt it follows as it was sent (name,
VAT, payment method and object, measure, SKU and any other key, such as mark codes
or agents) and changes only what the follow-up changes:

* a refund returns some quantity of a position at that position's own unit total,
  never more than is left after earlier refunds; it keeps the rate, method and
  object of the receipt it returns (ФНС letter of 15.12.2025 № АБ-4-20/11248@:
  a 2025 sale at 20 % is refunded at 20 % in 2026), so the refund of a prepayment
  receipt stays a prepayment refund (``advance``, 22/122, ``payment``);
* a settlement («Полный расчет») of a prepayment makes each position that is left
  ``full_payment`` with its real payment object and the plain rate in force on the
  shipment date (:func:`settled_vat`).

Positions are keyed by the order line they came from: its index in
``order.lines``, or ``"delivery"``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from ..enums import PaymentMethod, VatRate
from ..errors import InvalidOrder
from ..orders import OrderLine
from ..values import show, to_decimal
from .money import rubles
from .positions import checked_quantity
from .settings import RefundLine

__all__ = ["Index", "Refunded", "Sold", "indexed", "refund_items", "refund_request", "refunded",
           "sale_indices", "settled_items", "settled_vat"]

Index = int | str
#: A receipt's positions by the order line they came from (in the receipt's order).
Sold = dict[Index, dict[str, Any]]
#: What earlier refunds returned of each position: ``(quantity, total)``.
Refunded = dict[Index, tuple[Decimal, Decimal]]

#: Rates that ended on a date (НК РФ art. 164 p. 3 as amended by 425-ФЗ of 28.11.2025: 22 % from 2026-01-01).
_ENDED = ((date(2026, 1, 1), VatRate.RATE_20, VatRate.RATE_22),)


def sale_indices(order_data: Mapping[str, Any], count: int) -> list[Index] | None:
    """The order line of each of a receipt's ``count`` positions, read from the order stored with it.

    The builder leaves gifts (price 0) out and puts delivery last; ``None`` when
    the stored order does not explain the positions.
    """
    lines = order_data.get("lines") or []
    goods: list[Index] = [n for n, line in enumerate(lines) if _priced(line)]
    delivery = order_data.get("delivery")
    for candidate in (goods + (["delivery"] if _priced(delivery) else []), goods):
        if len(candidate) == count:
            return candidate
    return None


def _priced(line: Any) -> bool:
    try:
        return isinstance(line, Mapping) and rubles(Decimal(str(line.get("price") or 0))) != 0
    except ArithmeticError:
        return False


def indexed(positions: Sequence[Mapping[str, Any]], indices: Sequence[Index] | None) -> Sold:
    """A receipt's positions keyed by order line (``#n`` by place when the lines are unknown)."""
    keys: Sequence[Index] = indices if indices is not None else [f"#{n}" for n in range(len(positions))]
    return {key: dict(item) for key, item in zip(keys, positions, strict=True)}


def refunded(refunds: Iterable[Sold]) -> Refunded:
    """What the given refunds returned, position by position."""
    done: Refunded = {}
    for refund in refunds:
        for index, item in refund.items():
            quantity, total = done.get(index, (Decimal(0), Decimal(0)))
            done[index] = (quantity + Decimal(str(item["quantity"])), total + Decimal(str(item["total"])))
    return done


def refund_request(lines: Any, order_lines: Sequence[Any] = (), delivery: Any = None) -> list[RefundLine] | None:
    """The shop's refund lines as :class:`RefundLine` (``None``: the whole order).

    Accepted: an index into ``order.lines`` (or ``"delivery"``), ``{"index": …,
    "quantity": …}``, a ``RefundLine``, or one of the order's own ``OrderLine``
    objects. Anything else is :class:`InvalidOrder` naming the line.
    """
    if lines is None:
        return None
    if isinstance(lines, (str, bytes, Mapping)) or not isinstance(lines, Iterable):
        raise InvalidOrder(f"ожидается список строк возврата, получено {show(lines)}", field="refund_lines")
    try:
        items = list(lines)
    except Exception as exc:  # a shop iterable that breaks
        raise InvalidOrder(f"список строк возврата не прочитать: {type(exc).__name__}", field="refund_lines") from None
    return [_refund_line(raw, n, order_lines, delivery) for n, raw in enumerate(items)]


def _refund_line(raw: Any, n: int, order_lines: Sequence[Any], delivery: Any) -> RefundLine:
    line = _refund_line_of(raw, n, order_lines, delivery)
    codes = raw.marks if isinstance(raw, RefundLine) else raw.get("marks") if isinstance(raw, Mapping) else None
    if codes:  # marked goods: the units going back, by code
        if isinstance(codes, (str, bytes, Mapping)) or not isinstance(codes, Iterable):
            raise InvalidOrder("ожидается список кодов маркировки", field=f"refund_lines[{n}].marks")
        line = RefundLine(line.index, line.quantity, tuple(str(code) for code in codes))
    return line


def _refund_line_of(raw: Any, n: int, order_lines: Sequence[Any], delivery: Any) -> RefundLine:
    field = f"refund_lines[{n}]"
    if isinstance(raw, RefundLine):
        index, quantity = raw.index, raw.quantity
    elif isinstance(raw, int) and not isinstance(raw, bool):
        index, quantity = raw, None
    elif isinstance(raw, OrderLine):
        index, quantity = _line_index(raw, order_lines, delivery, field), None
    elif isinstance(raw, Mapping):
        if "index" not in raw:
            raise InvalidOrder("обязательное поле (номер строки заказа или \"delivery\")", field=f"{field}.index")
        index, quantity = raw["index"], raw.get("quantity")
    else:
        raise InvalidOrder(f"непонятная строка возврата {show(raw)}: ожидается номер строки, "
                           "{\"index\": …, \"quantity\": …}, RefundLine или строка заказа", field=field)
    if isinstance(index, str) and index.strip().isdigit() and index.strip().isascii():
        index = int(index)
    if not (index == "delivery" or (isinstance(index, int) and not isinstance(index, bool))):
        raise InvalidOrder(f"номер строки заказа или \"delivery\", получено {show(index)}", field=f"{field}.index")
    if quantity in (None, ""):
        return RefundLine(index)
    quantity = checked_quantity(to_decimal(quantity, f"{field}.quantity"), f"{field}.quantity")
    return RefundLine(index, quantity)


def _line_index(line: OrderLine, order_lines: Sequence[Any], delivery: Any, field: str) -> Index:
    for same in (lambda a, b: a is b, lambda a, b: a == b):
        for n, candidate in enumerate(order_lines):
            if same(candidate, line):
                return n
        if delivery is not None and same(delivery, line):
            return "delivery"
    raise InvalidOrder(f"строки «{show(line.name)}» нет в заказе", field=field)


def refund_items(sold: Sold, lines: Sequence[RefundLine] | None, done: Refunded) -> list[tuple[Index, dict[str, Any]]]:
    """The refund's positions: ``lines`` of ``sold`` (``None``: all that is left), within what is left.

    Each position keeps every key it was sold with; only ``quantity`` and
    ``total`` change. A part of a position is refunded at its own unit total.
    Over the cap, or nothing left, is :class:`InvalidOrder`.
    """
    wanted: dict[Index, tuple[Decimal | None, str]] = {}
    if lines is None:
        wanted = {index: (None, "refund_lines") for index in sold}
    else:
        for n, line in enumerate(lines):
            field = f"refund_lines[{n}]"
            if line.index not in sold:
                raise InvalidOrder("такой позиции нет в чеке продажи", field=f"{field}.index")
            before = wanted.get(line.index, (Decimal(0), field))[0]
            add = line.quantity if line.quantity is not None else _left(sold[line.index], done.get(line.index))[0]
            wanted[line.index] = (None if before is None else before + add, f"{field}.quantity")
    items = []
    for index, (quantity, field) in wanted.items():
        item = sold[index]
        left, left_total = _left(item, done.get(index))
        if quantity is None:
            if left <= 0:
                continue
            quantity = left
        if quantity > left or quantity <= 0:
            already = done.get(index, (Decimal(0), Decimal(0)))[0]
            raise InvalidOrder(f"нельзя вернуть больше, чем продано: продано {_num(item['quantity'])}, "
                               f"уже возвращено {_num(already)}, запрошено {_num(quantity)}", field=field)
        items.append((index, item | {"quantity": quantity, "total": _part(item, quantity, left, left_total, field)}))
    if not items:
        raise InvalidOrder("все позиции заказа уже возвращены: возвращать нечего", field="refund_lines")
    return items


def _left(item: Mapping[str, Any], done: tuple[Decimal, Decimal] | None) -> tuple[Decimal, Decimal]:
    quantity, total = Decimal(str(item["quantity"])), Decimal(str(item["total"]))
    if done is None:
        return quantity, total
    return quantity - done[0], total - done[1]


def _part(item: Mapping[str, Any], quantity: Decimal, left: Decimal, left_total: Decimal, field: str) -> Decimal:
    """The total of ``quantity`` of what is left of a position: proportional, and both parts fit their price."""
    if quantity == left:
        return left_total
    price, sold, total = (Decimal(str(item[key])) for key in ("price", "quantity", "total"))
    low = max(left_total - rubles(price * (left - quantity)), Decimal(0))
    high = min(left_total, rubles(price * quantity))
    if low > high:
        raise InvalidOrder("эту часть позиции нельзя вернуть отдельно: сумма меньше копейки", field=field)
    return min(max(rubles(total * quantity / sold), low), high)


def _num(value: Any) -> str:
    return format(Decimal(str(value)).normalize(), "f")


def settled_vat(sold_vat: Any, *, on: date, default_then: VatRate | None = None,
                default_now: VatRate | None = None) -> VatRate:
    """The plain rate of a prepaid position on the settlement day ``on``.

    A position sold at the register's default rate takes the default in force on
    ``on``; a rate that ended before ``on`` becomes the one that replaced it.
    """
    rate = VatRate.parse(sold_vat).plain
    if default_then is not None and default_now is not None and rate is default_then.plain:
        rate = default_now.plain
    for start, ended, replaced in _ENDED:
        if on >= start and rate is ended:
            rate = replaced
    return rate


def settled_items(sold: Sold, done: Refunded, *, objects: Mapping[Index, str], default_object: str,
                  vat: Callable[[Any], VatRate]) -> list[tuple[Index, dict[str, Any]]]:
    """A settlement's positions: what is left of each prepaid position, as ``full_payment``.

    ``objects`` gives each position's real payment object (the prepayment said
    ``payment``); ``vat`` turns the prepayment's calculated rate into the plain
    rate in force (:func:`settled_vat`).
    """
    items = []
    for index, item in sold.items():
        quantity, total = _left(item, done.get(index))
        if quantity <= 0:
            continue
        items.append((index, item | {
            "quantity": quantity, "total": total, "payment_method": PaymentMethod.FULL_PAYMENT.value,
            "payment_object": objects.get(index, "service" if index == "delivery" else default_object),
            "vat": vat(item["vat"]).value,
        }))
    return items
