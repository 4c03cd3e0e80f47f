"""The normalized input: what a shop's order becomes before it is a receipt.

``Order``, ``OrderLine``, ``Customer`` and ``Payment`` are plain frozen
dataclasses. Money and quantities are coerced to ``Decimal`` on creation
(from ``Decimal``, ``int`` or ``str``; floats are taken by their shortest
repr), and enum fields accept their wire values, so a shop can write
``OrderLine("Чай", "350.00", 2, vat=20)``. Bad values raise
:class:`~flask_komtet.errors.InvalidOrder` naming the field.

An *order adapter* is any callable ``shop_order -> Order``; see
:class:`OrderAdapter`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping, Protocol, Sequence, runtime_checkable

from .enums import Measure, PaymentObject, PaymentType, VatRate
from .errors import InvalidOrder

__all__ = ["Customer", "Order", "OrderAdapter", "OrderLine", "Payment", "to_decimal"]


def to_decimal(value: Any, name: str) -> Decimal:
    """Coerce a money or quantity value to ``Decimal``, naming ``name`` on failure."""
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool) or value is None:
        raise InvalidOrder(f"expected a number, got {value!r}", field=name)
    elif isinstance(value, (int, str)):
        try:
            result = Decimal(str(value).strip().replace(",", "."))
        except InvalidOperation:
            raise InvalidOrder(f"expected a number, got {value!r}", field=name) from None
    elif isinstance(value, float):
        result = Decimal(repr(value))
    else:
        raise InvalidOrder(f"expected a number, got {type(value).__name__}", field=name)
    if not result.is_finite():
        raise InvalidOrder(f"expected a finite number, got {value!r}", field=name)
    return result


def _enum(cls: Any, value: Any, name: str) -> Any:
    if value is None:
        return None
    try:
        return cls.parse(value)
    except ValueError as exc:
        raise InvalidOrder(str(exc), field=name) from None


def _text(value: Any, name: str, *, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise InvalidOrder("is required", field=name)
        return None
    if not isinstance(value, str):
        value = str(value)
    return value


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
        set_(self, "measure", _enum(Measure, self.measure if self.measure is not None else 0, "measure"))
        set_(self, "sku", _text(self.sku, "sku"))


@dataclass(frozen=True, slots=True)
class Payment:
    """Money received: ``card`` online, ``cash`` at the counter, ``prepayment`` offset, …"""

    type: PaymentType
    amount: Decimal

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", _enum(PaymentType, self.type, "type"))
        object.__setattr__(self, "amount", to_decimal(self.amount, "amount"))


def _nested(items: Sequence[Any], cls: type, name: str) -> tuple[Any, ...]:
    result = []
    for index, item in enumerate(items or ()):
        try:
            result.append(item if isinstance(item, cls) else cls(**item))
        except InvalidOrder as exc:
            raise InvalidOrder({f"{name}[{index}].{k}": v for k, v in exc.errors.items()}) from None
        except TypeError as exc:
            raise InvalidOrder(str(exc), field=f"{name}[{index}]") from None
    return tuple(result)


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
        ref = _text(self.ref, "ref", required=True)
        set_(self, "ref", ref)
        set_(self, "region", _text(self.region, "region"))
        set_(self, "lines", _nested(self.lines, OrderLine, "lines"))
        set_(self, "payments", _nested(self.payments, Payment, "payments"))
        if isinstance(self.customer, Mapping):
            set_(self, "customer", Customer(**self.customer))
        if isinstance(self.delivery, Mapping):
            set_(self, "delivery", _nested([self.delivery], OrderLine, "delivery")[0])
        set_(self, "discount", to_decimal(self.discount or 0, "discount"))
        set_(self, "fields", dict(self.fields or {}))

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
        data = dict(data)
        if data.get("paid_at"):
            data["paid_at"] = datetime.fromisoformat(data["paid_at"])
        return cls(**data)


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
    if isinstance(value, datetime):
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


def _get(obj: Any, names: Sequence[str], default: Any = ...) -> Any:
    for name in names:
        value = obj.get(name, ...) if isinstance(obj, Mapping) else getattr(obj, name, ...)
        if value is not ...:
            return value() if callable(value) and not isinstance(value, type) else value
    return default


def _require(obj: Any, key: str, where: str) -> Any:
    value = _get(obj, _NAMES[key])
    if value is ...:
        tried = ", ".join(repr(n) for n in _NAMES[key])
        raise InvalidOrder(
            f"у объекта {type(obj).__name__} нет атрибута {tried.split(', ')[0]} (искали: {tried}); "
            "передайте свой order_adapter= в KomtetKassa",
            field=where,
        )
    return value


def _code(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return str(_get(value, ("code", "id", "name"), value))


def _line(item: Any, where: str) -> OrderLine:
    optional = {k: _get(item, (k,), None) for k in ("vat", "payment_object", "measure", "sku", "discount")}
    return OrderLine(
        name=_require(item, "line.name", f"{where}.name"),
        price=_require(item, "line.price", f"{where}.price"),
        quantity=_require(item, "line.quantity", f"{where}.quantity"),
        **{k: v for k, v in optional.items() if v is not None},
    )


def default_order_adapter(shop_order: Any) -> Order:
    """Read a shop's order by obvious attribute (or key) names.

    ``ref``/``number``/``id``; ``region`` (a code or an object with ``code``);
    ``customer`` with ``email``/``phone``/``name``/``inn`` (or those on the order);
    ``lines``/``items``/``positions`` with ``name``, ``price``, ``quantity`` and
    optional ``vat``, ``payment_object``, ``measure``, ``sku``, ``discount``;
    ``delivery`` (a line) or ``delivery_price``/``shipping_price``; ``discount``;
    ``payments``; ``fields``; ``paid_at``.
    """
    if isinstance(shop_order, Order):
        return shop_order
    customer_obj = _get(shop_order, _NAMES["customer"], None) or shop_order
    customer = Customer(**{k: _get(customer_obj, (k,), None) for k in ("email", "phone", "name", "inn")})
    items = _require(shop_order, "lines", "order.lines")
    delivery = _get(shop_order, ("delivery",), None)
    if delivery is not None and not isinstance(delivery, OrderLine):
        delivery = _line(delivery, "delivery")
    price = _get(shop_order, ("delivery_price", "shipping_price"), None)
    if delivery is None and price:
        delivery = OrderLine("Доставка", price, payment_object="service")
    payments = _get(shop_order, ("payments",), None) or ()
    return Order(
        ref=str(_require(shop_order, "ref", "order.ref")),
        region=_code(_get(shop_order, _NAMES["region"], None) or _get(customer_obj, ("region",), None)),
        customer=customer,
        lines=[item if isinstance(item, OrderLine) else _line(item, f"order.lines[{i}]")
               for i, item in enumerate(items)],
        delivery=delivery,
        discount=_get(shop_order, ("discount", "coupon_discount"), None) or 0,
        payments=[p if isinstance(p, Payment) else Payment(_get(p, ("type",)), _get(p, ("amount", "sum")))
                  for p in payments],
        fields=_get(shop_order, ("fields",), None) or {},
        paid_at=_get(shop_order, ("paid_at",), None),
    )
