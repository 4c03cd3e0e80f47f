"""The default order adapter: reads a shop's order by the obvious attribute or key names.

``ref`` (or ``number``, ``id``), ``region``, ``customer`` (``client``, ``buyer``),
``lines`` (``items``, ``positions``) with ``name``/``price``/``quantity``, and the
optional fields of :class:`~flask_komtet.orders.Order` by their own names.
Shops whose orders look different pass their own ``order_adapter``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from datetime import date, time
from decimal import Decimal
from typing import Any

from .details import BUYER_DETAILS, LINE_DETAILS, ORDER_DETAILS, PAYMENT_DETAILS
from .enums import PaymentObject
from .errors import InvalidOrder
from .orders import Customer, Order, OrderLine, Payment, as_items, prefixed
from .values import show, to_decimal

__all__ = ["default_order_adapter"]


_NAMES = {
    "ref": ("ref", "number", "id"),
    "region": ("region", "region_code"),
    "customer": ("customer", "client", "buyer"),
    "lines": ("lines", "items", "positions"),
    "line.name": ("name", "title"),
    "line.price": ("price", "unit_price"),
    "line.quantity": ("quantity", "qty", "count"),
}


_SCALARS = (str, bytes, bytearray, memoryview, int, float, complex, Decimal, date, time, list, tuple, Set, type)


def _get(obj: Any, names: Sequence[str], default: Any = ..., where: str = "order") -> Any:
    """``obj[name]`` or ``obj.name`` for the first of ``names`` present (methods are called); else ``default``."""
    if obj is None or isinstance(obj, _SCALARS):
        return default
    for name in names:
        try:
            value = obj.get(name, ...) if isinstance(obj, Mapping) else getattr(obj, name, ...)
            if value is not ... and callable(value) and not isinstance(value, type):
                value = value()
        except InvalidOrder:
            raise
        except Exception as exc:  # the shop's property or method failed
            raise InvalidOrder(f"не удалось прочитать {name}: {type(exc).__name__}: {exc}", field=where) from None
        if value is not ...:
            return value
    return default


def _require(obj: Any, key: str, where: str) -> Any:
    value = _get(obj, _NAMES[key], ..., where)
    if value is ...:
        tried = ", ".join(repr(n) for n in _NAMES[key])
        kind = "ключа" if isinstance(obj, Mapping) else "атрибута"
        raise InvalidOrder(
            f"у объекта {type(obj).__name__} нет {kind} {tried.split(', ')[0]} (искали: {tried}); "
            "передайте свой order_adapter= в KomtetKassa",
            field=where,
        )
    return value


def _record(value: Any, where: str) -> Any:
    """``value`` if it can be read by attribute or key (a dict or the shop's object), else a clear error."""
    if value is None or isinstance(value, _SCALARS):
        raise InvalidOrder(f"expected an object or a dict, got {type(value).__name__} {show(value)}", field=where)
    return value


def _code(value: Any, where: str) -> Any:
    if value is None or isinstance(value, _SCALARS):
        return value
    return _get(value, ("code", "id", "name"), value, where)


def _line(item: Any, where: str) -> OrderLine:
    _record(item, where)
    name = _require(item, "line.name", f"{where}.name")
    price = _require(item, "line.price", f"{where}.price")
    quantity = _require(item, "line.quantity", f"{where}.quantity")
    optional = {k: _get(item, (k,), None, f"{where}.{k}")
                for k in ("vat", "payment_object", "measure", "sku", "discount") + LINE_DETAILS}
    optional |= {k: _get(item, (k,), None, f"{where}.{k}") for k in ("marks", "marked")}  # marked goods
    try:
        return OrderLine(name=name, price=price, quantity=quantity,
                         **{k: v for k, v in optional.items() if v is not None})
    except InvalidOrder as exc:
        raise prefixed(exc, where) from None


def _present(obj: Any, keys: Sequence[str], where: str) -> dict[str, Any]:
    """The FFD 1.2 details ``obj`` has (by their own names), for the dataclass's keyword arguments."""
    values = {key: _get(obj, (key,), None, f"{where}.{key}") for key in keys}
    return {key: value for key, value in values.items() if value is not None}


def _payment(item: Any, where: str) -> Payment:
    if isinstance(item, Payment):
        return item
    _record(item, where)
    try:
        return Payment(_get(item, ("type",), None, f"{where}.type"),
                       _get(item, ("amount", "sum"), None, f"{where}.amount"),
                       **_present(item, PAYMENT_DETAILS, where))
    except InvalidOrder as exc:
        raise prefixed(exc, where) from None


def default_order_adapter(shop_order: Any) -> Order:
    """Read a shop's order by obvious attribute (or key) names.

    ``ref``/``number``/``id``; ``region`` (a code or an object with ``code``);
    ``customer`` with ``email``/``phone``/``name``/``inn`` (or those on the order);
    ``lines``/``items``/``positions`` with ``name``, ``price``, ``quantity`` and
    optional ``vat``, ``payment_object``, ``measure``, ``sku``, ``discount``;
    ``delivery`` (a line) or ``delivery_price``/``shipping_price``; ``discount``;
    ``payments``; ``fields``; ``paid_at``.

    Anything it cannot read raises :class:`~flask_komtet.errors.InvalidOrder`
    naming the field (``order.lines[2].price``), never another exception.
    """
    if isinstance(shop_order, Order):
        return shop_order
    _record(shop_order, "order")
    customer_obj = _get(shop_order, _NAMES["customer"], None, "order.customer")
    where = "order.customer"
    if customer_obj is None:
        customer_obj, where = shop_order, "order"
    _record(customer_obj, where)
    try:
        customer = Customer(**{k: _get(customer_obj, (k,), None, f"{where}.{k}")
                               for k in ("email", "phone", "name", "inn") + BUYER_DETAILS})
    except InvalidOrder as exc:
        raise prefixed(exc, where) from None
    items = as_items(_require(shop_order, "lines", "order.lines"), "order.lines")
    lines = [item if isinstance(item, OrderLine) else _line(item, f"order.lines[{i}]") for i, item in enumerate(items)]
    delivery = _get(shop_order, ("delivery",), None, "order.delivery")
    if delivery is not None and not isinstance(delivery, OrderLine):
        delivery = _line(delivery, "order.delivery")
    price = _get(shop_order, ("delivery_price", "shipping_price"), None, "order.delivery_price")
    if delivery is None and price is not None and price != "":
        if to_decimal(price, "order.delivery_price"):
            delivery = OrderLine("Доставка", to_decimal(price, "order.delivery_price"), payment_object=PaymentObject.SERVICE)
    payments = as_items(_get(shop_order, ("payments",), None, "order.payments"), "order.payments")
    payments = [_payment(p, f"order.payments[{i}]") for i, p in enumerate(payments)]
    region = _get(shop_order, _NAMES["region"], None, "order.region")
    if region is None:
        region = _get(customer_obj, ("region",), None, "order.region")
    try:
        return Order(
            ref=_require(shop_order, "ref", "order.ref"),
            region=_code(region, "order.region"),
            customer=customer,
            lines=lines,
            delivery=delivery,
            discount=_get(shop_order, ("discount", "coupon_discount"), None, "order.discount") or Decimal(0),
            payments=payments,
            fields=_get(shop_order, ("fields",), None, "order.fields"),
            paid_at=_get(shop_order, ("paid_at",), None, "order.paid_at"),
            **_present(shop_order, ORDER_DETAILS, "order"),
        )
    except InvalidOrder as exc:
        raise prefixed(exc, "order") from None
