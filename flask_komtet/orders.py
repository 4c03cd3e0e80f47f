"""The normalized input: what a shop's order becomes before it is a receipt.

``Order``, ``OrderLine``, ``Customer`` and ``Payment`` are plain frozen
dataclasses. Money and quantities are coerced to ``Decimal`` on creation
(from ``Decimal``, ``int`` or ``str``; floats are taken by their shortest
repr), and enum fields accept their wire values, so a shop can write
``OrderLine("Чай", "350.00", 2, vat=20)``. Bad values raise
:class:`~flask_komtet.errors.InvalidOrder` naming the field: NaN, infinities
and numbers of 10¹² or more; lists, dicts, floats or booleans where text is
expected; lone UTF-16 surrogates anywhere; control or invisible characters in
``ref`` and ``region`` (they become the receipt's ids), and a ``ref`` over 128
or a ``region`` over 64 characters. Any other Unicode is kept as given; the
receipt builder cleans what it prints.

An *order adapter* is any callable ``shop_order -> Order``; see
:class:`OrderAdapter`.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Iterable, Set
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping, Protocol, Sequence, runtime_checkable

from .enums import Measure, PaymentObject, PaymentType, VatRate
from .errors import InvalidOrder

__all__ = ["Customer", "Order", "OrderAdapter", "OrderLine", "Payment", "to_decimal"]

#: Money and quantities at or above this (in absolute value) are refused: no receipt holds them
#: (FFD keeps sums in at most six bytes of kopecks, 2.8 × 10¹² ₽), and Decimal arithmetic stays exact below it.
NUMBER_LIMIT = Decimal(10) ** 12
REF_LIMIT = 128  # komtet_receipt.order_ref
REGION_LIMIT = 64  # komtet_receipt.region
_NESTING_LIMIT = 4

_short_repr = reprlib.Repr()
_short_repr.maxstring = _short_repr.maxother = 60
_short_repr.maxlevel, _short_repr.maxlist, _short_repr.maxdict = 2, 4, 4


def _show(value: Any) -> str:
    """A short, printable ``repr`` of the shop's value for an error message."""
    try:
        return _short_repr.repr(value)
    except Exception:  # a shop object whose __repr__ fails
        return f"<{type(value).__name__}>"


def to_decimal(value: Any, name: str) -> Decimal:
    """Coerce a money or quantity value to ``Decimal``, naming ``name`` on failure.

    Accepts ``Decimal``, ``int``, ``float`` (by its shortest repr) and strings
    (``" 12,50 "`` is 12.50); refuses ``None``, booleans, NaN, infinities and
    numbers of :data:`NUMBER_LIMIT` or more.
    """
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool) or value is None:
        raise InvalidOrder(f"expected a number, got {_show(value)}", field=name)
    elif isinstance(value, int):
        result = Decimal(value)  # exact, whatever its size (str() refuses ints over 4300 digits)
    elif isinstance(value, str):
        text = value.strip().replace(",", ".")
        if len(text) > 100:
            raise InvalidOrder(f"expected a number, got {_show(value)}", field=name)
        try:
            result = Decimal(text)
        except (InvalidOperation, ValueError):
            raise InvalidOrder(f"expected a number, got {_show(value)}", field=name) from None
    elif isinstance(value, float):
        result = Decimal(repr(value))
    else:
        raise InvalidOrder(f"expected a number, got {type(value).__name__}", field=name)
    if not result.is_finite():
        raise InvalidOrder(f"expected a finite number, got {_show(value)}", field=name)
    if result.copy_abs() >= NUMBER_LIMIT:
        raise InvalidOrder(f"слишком большое число {_show(value)}: не больше {NUMBER_LIMIT - 1:,}".replace(",", " "),
                           field=name)
    return result


def _enum(cls: Any, value: Any, name: str) -> Any:
    if value is None or isinstance(value, cls):
        return value
    if isinstance(value, str) and not value.strip():
        return None  # an empty column: not given
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Decimal)) or (
            isinstance(value, str) and len(value) > 64):
        allowed = ", ".join(str(m.value) for m in cls)
        raise InvalidOrder(f"unknown value {_show(value)}; expected one of: {allowed}", field=name)
    try:
        return cls.parse(value)
    except (ValueError, TypeError, ArithmeticError) as exc:  # "inf" overflows VatRate's float parsing
        raise InvalidOrder(str(exc), field=name) from None


_NOT_TEXT = (bool, float, bytes, bytearray, memoryview, Mapping, list, tuple, Set)


def _as_text(value: Any, name: str) -> str:
    """``value`` as a plain ``str``: strings, numbers, UUIDs and lazy strings; never containers or floats."""
    if type(value) is str:
        text = value
    elif isinstance(value, str):
        text = str.__str__(value)
    elif isinstance(value, _NOT_TEXT) or (type(value).__str__ is object.__str__ and not isinstance(value, int)):
        raise InvalidOrder(f"expected a string, got {type(value).__name__} {_show(value)}", field=name)
    else:
        try:
            text = str(value)
        except Exception:
            raise InvalidOrder(f"expected a string, got {type(value).__name__}", field=name) from None
        if type(text) is not str:
            text = str.__str__(text)
    if not text.isprintable() and any("\ud800" <= ch <= "\udfff" for ch in text):
        raise InvalidOrder("недопустимые символы: одиночные суррогаты UTF-16 (строка не в Unicode)", field=name)
    return text


def _text(value: Any, name: str, *, required: bool = False, limit: int | None = None,
          identifier: bool = False) -> str | None:
    """Text from the shop; ``identifier`` (order ref, region) also refuses invisible and control characters."""
    if value is None or value == "":
        if required:
            raise InvalidOrder("is required", field=name)
        return None
    text = _as_text(value, name)
    if required and not text.strip():
        raise InvalidOrder("is required (only spaces given)", field=name)
    if limit is not None and len(text) > limit:
        raise InvalidOrder(f"не длиннее {limit} символов (получено {len(text)})", field=name)
    if identifier and not text.isprintable():
        bad = next(ch for ch in text if not ch.isprintable())
        raise InvalidOrder(f"недопустимый символ {ascii(bad)} (управляющий или невидимый)", field=name)
    return text


def _plain_value(value: Any, name: str, depth: int = 0) -> Any:
    """A template field's value as plain JSON data (strings, numbers, booleans, lists, dicts)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) >= 10 ** 30:
            raise InvalidOrder(f"слишком большое число {_show(value)}", field=name)
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidOrder(f"expected a finite number, got {value!r}", field=name)
        return value
    if isinstance(value, Decimal):
        if not value.is_finite() or value.copy_abs() >= NUMBER_LIMIT ** 2:
            raise InvalidOrder(f"expected a finite number, got {_show(value)}", field=name)
        return str(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, (Mapping, list, tuple, Set)):
        if depth >= _NESTING_LIMIT:
            raise InvalidOrder("слишком глубокая вложенность", field=name)
        if isinstance(value, Mapping):
            return {_as_text(k, f"{name}[{_show(k)}]"): _plain_value(v, f"{name}.{k}", depth + 1)
                    for k, v in value.items()}
        return [_plain_value(v, f"{name}[{i}]", depth + 1) for i, v in enumerate(value)]
    return _as_text(value, name)


def _fields(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidOrder(f"ожидается словарь полей, получено {type(value).__name__}", field="fields")
    result = {}
    for key, item in value.items():
        key = _as_text(key, f"fields[{_show(key)}]")
        result[key] = _plain_value(item, f"fields.{key}" if key.isidentifier() else f"fields[{_show(key)}]", 1)
    return result


def _moment(value: Any) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise InvalidOrder(f"ожидается дата и время (datetime или ISO 8601), получено {_show(value)}", field="paid_at")


@dataclass(frozen=True, slots=True)
class Customer:
    """The buyer: the receipt goes to ``email``, else to ``phone``."""

    email: str | None = None
    phone: str | None = None
    name: str | None = None
    inn: str | None = None

    def __post_init__(self) -> None:
        for f in ("email", "phone", "name", "inn"):
            object.__setattr__(self, f, _text(getattr(self, f), f))


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One line of the order. ``price`` is per unit; ``discount`` is an amount off the whole line."""

    name: str
    price: Decimal
    quantity: Decimal = Decimal(1)
    vat: VatRate | None = None
    payment_object: PaymentObject | None = None
    measure: Measure = Measure.PIECE
    sku: str | None = None
    discount: Decimal = Decimal(0)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "name", _text(self.name, "name", required=True))
        set_(self, "price", to_decimal(self.price, "price"))
        set_(self, "quantity", to_decimal(self.quantity, "quantity"))
        set_(self, "discount", to_decimal(self.discount or 0, "discount"))
        set_(self, "vat", _enum(VatRate, self.vat, "vat"))
        set_(self, "payment_object", _enum(PaymentObject, self.payment_object, "payment_object"))
        measure = _enum(Measure, self.measure, "measure")
        set_(self, "measure", Measure.PIECE if measure is None else measure)
        set_(self, "sku", _text(self.sku, "sku"))


@dataclass(frozen=True, slots=True)
class Payment:
    """Money received: ``card`` online, ``cash`` at the counter, ``prepayment`` offset, …"""

    type: PaymentType
    amount: Decimal

    def __post_init__(self) -> None:
        kind = _enum(PaymentType, self.type, "type")
        if kind is None:
            raise InvalidOrder("is required (card, cash, prepayment, …)", field="type")
        object.__setattr__(self, "type", kind)
        object.__setattr__(self, "amount", to_decimal(self.amount, "amount"))


def _items(items: Any, name: str) -> list[Any]:
    """A list of the shop's items; refuses text, mappings and non-iterables with the field named."""
    if items is None:
        return []
    if isinstance(items, (str, bytes, bytearray, Mapping)) or not isinstance(items, Iterable):
        raise InvalidOrder(f"expected a list, got {type(items).__name__} {_show(items)}", field=name)
    return list(items)


def _prefixed(exc: InvalidOrder, prefix: str) -> InvalidOrder:
    return InvalidOrder({f"{prefix}.{k}" if k != "order" else prefix: v for k, v in exc.errors.items()})


def _one(item: Any, cls: type, name: str) -> Any:
    if isinstance(item, cls):
        return item
    if not isinstance(item, Mapping):
        raise InvalidOrder(f"expected {cls.__name__} or a dict, got {type(item).__name__} {_show(item)}", field=name)
    try:
        return cls(**item)
    except InvalidOrder as exc:
        raise _prefixed(exc, name) from None
    except TypeError as exc:  # unknown, missing or non-string keys
        raise InvalidOrder(str(exc), field=name) from None


def _nested(items: Any, cls: type, name: str) -> tuple[Any, ...]:
    return tuple(_one(item, cls, f"{name}[{index}]") for index, item in enumerate(_items(items, name)))


@dataclass(frozen=True)
class Order:
    """A paid (or refunded) order, in the extension's own terms.

    ``ref`` is the shop's order id and part of every receipt's external id.
    ``region`` picks the cash register. ``payments`` may be left empty: the
    order is then taken as paid online by card, in full. ``fields`` fills the
    register's position-name template (``{custom_<name>}`` and friends).
    ``online`` says whether the payment was made online (for the register's
    extra regions); ``None`` means "online unless paid in cash".
    """

    ref: str
    lines: Sequence[OrderLine] = ()
    customer: Customer = field(default_factory=Customer)
    region: str | None = None
    delivery: OrderLine | None = None
    discount: Decimal = Decimal(0)
    payments: Sequence[Payment] = ()
    fields: Mapping[str, Any] = field(default_factory=dict)
    paid_at: datetime | None = None
    online: bool | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "ref", _text(self.ref, "ref", required=True, limit=REF_LIMIT, identifier=True))
        set_(self, "region", _text(self.region, "region", limit=REGION_LIMIT, identifier=True))
        set_(self, "lines", _nested(self.lines, OrderLine, "lines"))
        set_(self, "payments", _nested(self.payments, Payment, "payments"))
        if self.customer is None:
            set_(self, "customer", Customer())
        elif not isinstance(self.customer, Customer):
            set_(self, "customer", _one(self.customer, Customer, "customer"))
        if self.delivery is not None and not isinstance(self.delivery, OrderLine):
            set_(self, "delivery", _one(self.delivery, OrderLine, "delivery"))
        set_(self, "discount", to_decimal(self.discount or 0, "discount"))
        set_(self, "fields", _fields(self.fields))
        set_(self, "paid_at", _moment(self.paid_at))
        if self.online is not None and not isinstance(self.online, bool):
            raise InvalidOrder(f"expected true, false or None, got {_show(self.online)}", field="online")

    @property
    def is_online(self) -> bool:
        if self.online is not None:
            return self.online
        return not any(p.type is PaymentType.CASH for p in self.payments)

    def replace(self, **changes: Any) -> Order:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (Decimals as strings) that :meth:`from_dict` reads back."""
        data: dict[str, Any] = {"ref": self.ref, "lines": [_line_dict(line) for line in self.lines],
                                "customer": _plain(self.customer), "discount": str(self.discount)}
        if self.region is not None:
            data["region"] = self.region
        if self.delivery is not None:
            data["delivery"] = _line_dict(self.delivery)
        if self.payments:
            data["payments"] = [{"type": p.type.value, "amount": str(p.amount)} for p in self.payments]
        if self.fields:
            data["fields"] = _plain(dict(self.fields))
        if self.paid_at is not None:
            data["paid_at"] = self.paid_at.isoformat()
        if self.online is not None:
            data["online"] = self.online
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Order:
        return cls(**dict(data))


def _line_dict(line: OrderLine) -> dict[str, Any]:
    data: dict[str, Any] = {"name": line.name, "price": str(line.price), "quantity": str(line.quantity),
                            "measure": int(line.measure), "discount": str(line.discount)}
    if line.vat is not None:
        data["vat"] = line.vat.value
    if line.payment_object is not None:
        data["payment_object"] = line.payment_object.value
    if line.sku is not None:
        data["sku"] = line.sku
    return data


def _plain(value: Any) -> Any:
    if isinstance(value, (Order, OrderLine, Customer, Payment)):
        return {
            f.name: _plain(getattr(value, f.name))
            for f in fields(value)
            if getattr(value, f.name) is not None
        }
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (date, time)):
        return value.isoformat()
    if hasattr(value, "value") and hasattr(value, "label"):
        return value.value
    return value


@runtime_checkable
class OrderAdapter(Protocol):
    """Turns a shop's own order object into an :class:`Order`.

    Pass one as ``KomtetKassa(order_adapter=...)``; ``fiscalize`` then takes
    the shop's objects directly. It should raise
    :class:`~flask_komtet.errors.InvalidOrder` naming what is missing.
    """

    def __call__(self, shop_order: Any, /) -> Order: ...


_NAMES = {
    "ref": ("ref", "number", "id"),
    "region": ("region", "region_code"),
    "customer": ("customer", "client", "buyer"),
    "lines": ("lines", "items", "positions"),
    "line.name": ("name", "title"),
    "line.price": ("price", "unit_price"),
    "line.quantity": ("quantity", "qty", "count"),
}


#: Values that are data, not objects: the adapter never looks up attributes on them.
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
        raise InvalidOrder(f"expected an object or a dict, got {type(value).__name__} {_show(value)}", field=where)
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
                for k in ("vat", "payment_object", "measure", "sku", "discount")}
    try:
        return OrderLine(name=name, price=price, quantity=quantity,
                         **{k: v for k, v in optional.items() if v is not None})
    except InvalidOrder as exc:
        raise _prefixed(exc, where) from None


def _payment(item: Any, where: str) -> Payment:
    if isinstance(item, Payment):
        return item
    _record(item, where)
    try:
        return Payment(_get(item, ("type",), None, f"{where}.type"),
                       _get(item, ("amount", "sum"), None, f"{where}.amount"))
    except InvalidOrder as exc:
        raise _prefixed(exc, where) from None


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
                               for k in ("email", "phone", "name", "inn")})
    except InvalidOrder as exc:
        raise _prefixed(exc, where) from None
    items = _items(_require(shop_order, "lines", "order.lines"), "order.lines")
    lines = [item if isinstance(item, OrderLine) else _line(item, f"order.lines[{i}]") for i, item in enumerate(items)]
    delivery = _get(shop_order, ("delivery",), None, "order.delivery")
    if delivery is not None and not isinstance(delivery, OrderLine):
        delivery = _line(delivery, "order.delivery")
    price = _get(shop_order, ("delivery_price", "shipping_price"), None, "order.delivery_price")
    if delivery is None and price is not None and price != "":
        if to_decimal(price, "order.delivery_price"):
            delivery = OrderLine("Доставка", to_decimal(price, "order.delivery_price"), payment_object="service")
    payments = _items(_get(shop_order, ("payments",), None, "order.payments"), "order.payments")
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
            discount=_get(shop_order, ("discount", "coupon_discount"), None, "order.discount") or 0,
            payments=payments,
            fields=_get(shop_order, ("fields",), None, "order.fields"),
            paid_at=_get(shop_order, ("paid_at",), None, "order.paid_at"),
        )
    except InvalidOrder as exc:
        raise _prefixed(exc, "order") from None
