"""Positions: order lines priced to the kopeck, discounts and the coupon spread, VAT checked and object chosen."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from decimal import Decimal
from typing import Any

from ..enums import AgentType, PaymentMethod, PaymentObject, VatRate
from ..errors import InvalidOrder
from ..orders import Order, OrderLine
from .agents import line_details
from .money import allocate, kopecks, rubles, to_cents
from .names import clean_text, render_name
from .settings import (
    NAME_LIMIT,
    ONE,
    QUANTITY_PLACES,
    SKU_LIMIT,
    TOTAL_LIMIT,
    ReceiptSettings,
)
from .taxes import check_rate

__all__ = ["Position", "checked_quantity", "position_dict", "priced_positions", "vat_for"]


@dataclass(slots=True)
class Position:
    line: OrderLine
    name: str
    price: Decimal
    quantity: Decimal
    total: Decimal
    vat: VatRate
    payment_object: PaymentObject
    index: int | str
    #: Keys only a marked unit has (``mark_code``, ``planned_status``, …; :mod:`.marks`).
    marking: dict[str, Any] = dataclass_field(default_factory=dict)


_MILLI = Decimal(1).scaleb(-QUANTITY_PLACES)


def checked_quantity(value: Decimal, field: str) -> Decimal:
    """A positive quantity with at most three decimals, without trailing zeros (``1.500`` → ``1.5``)."""
    if value <= 0:
        raise InvalidOrder("количество должно быть больше нуля", field=field)
    if value != value.quantize(_MILLI):
        raise InvalidOrder(f"не более {QUANTITY_PLACES} знаков после запятой в количестве", field=field)
    whole = value.to_integral_value()
    return whole.quantize(ONE) if value == whole else value.normalize()


def priced_positions(order: Order, settings: ReceiptSettings, method: PaymentMethod) -> list[Position]:
    """The order's positions priced to the kopeck, each VAT rate checked (:mod:`.taxes`).

    The coupon (``order.discount``) is spread over the goods; what exceeds the goods
    comes off delivery, so the receipt always equals what the buyer paid. Rates are
    checked as of the settings' ``receipt_date`` (:func:`.taxes.check_rate`).
    """
    prepay = method.is_prepayment
    goods: list[tuple[int, OrderLine, Decimal, Decimal, int]] = []
    for index, line in enumerate(order.lines):
        field = f"lines[{index}]"
        price = rubles(line.price)
        if price < 0:
            raise InvalidOrder("цена не может быть отрицательной", field=f"{field}.price")
        quantity = checked_quantity(line.quantity, f"{field}.quantity")
        if price == 0:
            continue  # a gift: nothing to fiscalize
        goods.append((index, line, price, quantity, _net(line, price, quantity, field)))
    delivery = order.delivery if order.delivery is not None and order.delivery.price else None
    if not goods and delivery is None:
        raise InvalidOrder("в заказе нет позиций для чека", field="lines")
    nets = [net for *_, net in goods]
    if delivery is not None:
        delivery_price = rubles(delivery.price)
        if delivery_price < 0:
            raise InvalidOrder("цена не может быть отрицательной", field="delivery.price")
        delivery_quantity = checked_quantity(delivery.quantity, "delivery.quantity")
        delivery_net = _net(delivery, delivery_price, delivery_quantity, "delivery")
    coupon, goods_net = to_cents(order.discount), sum(nets)
    most = goods_net + (delivery_net if delivery is not None else 0)
    if coupon < 0 or coupon > most:
        raise InvalidOrder(f"скидка на заказ должна быть от 0 до {kopecks(most)}", field="discount")
    shares = allocate(min(coupon, goods_net), nets)
    positions = []
    template = settings.name_template
    checked: set[VatRate] = set()  # each rate once: the first line that carries a bad one is named
    for (index, line, price, quantity, net), share in zip(goods, shares, strict=True):
        vat = line.vat or settings.vat
        if vat not in checked:
            check_rate(vat, settings, f"lines[{index}].vat" if line.vat else "settings.vat")
            checked.add(vat)
        positions.append(Position(
            line, render_name(template, line, order), price, quantity, kopecks(net - share), _VATS[vat, prepay],
            PaymentObject.PAYMENT if prepay else line.payment_object or settings.payment_object, index,
        ))
    if delivery is not None:
        vat = delivery.vat or settings.delivery_vat or settings.vat
        check_rate(vat, settings, "delivery.vat" if delivery.vat else
                   "settings.delivery_vat" if settings.delivery_vat else "settings.vat")
        positions.append(Position(
            delivery, clean_text(delivery.name, NAME_LIMIT) or "Доставка", delivery_price, delivery_quantity,
            kopecks(delivery_net - max(coupon - goods_net, 0)),
            vat_for(vat, prepay), PaymentObject.PAYMENT if prepay else PaymentObject.SERVICE, "delivery",
        ))
    return positions


def _net(line: OrderLine, price: Decimal, quantity: Decimal, field: str) -> int:
    """Kopecks of ``price × quantity`` less the line's own discount, within ``[0, gross]``."""
    gross = to_cents(price * quantity)
    if gross > TOTAL_LIMIT:
        raise InvalidOrder(f"сумма позиции {kopecks(gross)} больше допустимой {kopecks(TOTAL_LIMIT)}", field=field)
    discount = to_cents(line.discount)
    if discount < 0 or discount > gross:
        raise InvalidOrder(f"скидка должна быть от 0 до {kopecks(gross)}", field=f"{field}.discount")
    return gross - discount


def vat_for(rate: VatRate, prepayment: bool) -> VatRate:
    """The calculated rate (22/122) on prepayment receipts, the plain one (22) otherwise."""
    return _VATS[rate, prepayment]


_VATS = {(rate, prepay): rate.plain.calculated if prepay else rate.plain for rate in VatRate for prepay in (True, False)}


def position_dict(p: Position, method: PaymentMethod, agent_type: AgentType | None = None) -> dict[str, Any]:
    """The position as sent; ``agent_type``: the register's default agent role (:mod:`.agents`)."""
    item: dict[str, Any] = {
        "name": p.name, "price": p.price, "quantity": p.quantity, "total": p.total, "vat": p.vat.value,
        "measure": int(p.line.measure), "payment_method": method.value, "payment_object": p.payment_object.value,
    }
    sku = clean_text(p.line.sku, SKU_LIMIT) if p.line.sku else ""
    if sku:
        item["id"] = sku
    item.update(line_details(p.line, p.index, agent_type))
    item.update(p.marking)
    return item
