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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from .details import (
    Agent,
    OperatingProp,
    SectoralProp,
    Supplier,
    UserProp,
    coerce,
    coerce_all,
    init_line_details,
    plain_details,
    to_day,
)
from .enums import Measure, PaymentObject, PaymentType, VatRate
from .errors import InvalidOrder
from .marks import Mark, mark_data, parse_marks
from .values import show, to_decimal, to_enum, to_fields, to_moment, to_text

__all__ = ["Customer", "Order", "OrderAdapter", "OrderLine", "Payment", "as_items", "prefixed", "to_decimal"]

REF_LIMIT = 128  # komtet_receipt.order_ref
REGION_LIMIT = 64  # komtet_receipt.region


@dataclass(frozen=True, slots=True)
class Customer:
    """The buyer: the receipt goes to ``email``, else to ``phone`` (an extension is dropped).

    An Internet payment needs one of them; a receipt printed at the counter may have none.
    ``inn`` goes on the receipt only together with ``name`` (54-ФЗ art. 4.7): a B2B receipt.
    The rest are FFD 1.2's buyer details, as the SDK's ``Check.set_client`` sends them:
    ``birthdate`` (tag 1243; a date or «дд.мм.гггг»), ``citizenship`` (1244, 3-digit OKSM code),
    ``document_code`` (1245, 2-digit kind of ID document), ``document_data`` (1246), ``address`` (1254).
    """

    email: str | None = None
    phone: str | None = None
    name: str | None = None
    inn: str | None = None
    birthdate: date | None = None
    citizenship: str | None = None
    document_code: str | None = None
    document_data: str | None = None
    address: str | None = None

    def __post_init__(self) -> None:
        for f in ("email", "phone", "name", "inn", "citizenship", "document_code", "document_data", "address"):
            object.__setattr__(self, f, to_text(getattr(self, f), f))
        object.__setattr__(self, "birthdate", to_day(self.birthdate, "birthdate"))


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One line of the order. ``price`` is per unit; ``discount`` is an amount off the whole line.

    FFD 1.2 details, named as the SDK's ``Position`` names them: ``agent`` (the shop's role when it
    sells for someone else, :class:`~flask_komtet.details.Agent`) and ``supplier`` (whom it sells
    for, :class:`~flask_komtet.details.Supplier`), ``excise`` (tag 1229, rubles),
    ``country_code`` (1230, 3-digit OKSM), ``declaration_number`` (1231), ``user_data`` (1191),
    ``wholesale`` (SDK ``set_wholesale``).
    ``marks``: marked goods' codes, one per unit (a scanned ``str`` or a :class:`~flask_komtet.marks.Mark`);
    ``marked=True`` says the goods are marked even before the codes are known (the receipt waits for them).
    """

    name: str
    price: Decimal
    quantity: Decimal = Decimal(1)
    vat: VatRate | None = None
    payment_object: PaymentObject | None = None
    measure: Measure = Measure.PIECE
    sku: str | None = None
    discount: Decimal = Decimal(0)
    agent: Agent | None = None
    supplier: Supplier | None = None
    excise: Decimal | None = None
    country_code: str | None = None
    declaration_number: str | None = None
    user_data: str | None = None
    wholesale: bool = False
    marks: tuple[Mark, ...] = ()
    marked: bool = False

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "marks", parse_marks(self.marks, "marks"))
        if not isinstance(self.marked, bool):
            raise InvalidOrder(f"expected true or false, got {show(self.marked)}", field="marked")
        set_(self, "name", to_text(self.name, "name", required=True))
        set_(self, "price", to_decimal(self.price, "price"))
        set_(self, "quantity", to_decimal(self.quantity, "quantity"))
        set_(self, "discount", to_decimal(self.discount or 0, "discount"))
        set_(self, "vat", to_enum(VatRate, self.vat, "vat"))
        set_(self, "payment_object", to_enum(PaymentObject, self.payment_object, "payment_object"))
        measure = to_enum(Measure, self.measure, "measure")
        set_(self, "measure", Measure.PIECE if measure is None else measure)
        set_(self, "sku", to_text(self.sku, "sku"))
        init_line_details(self)


@dataclass(frozen=True, slots=True)
class Payment:
    """Money received: ``card`` online, ``cash`` at the counter, ``prepayment`` offset, …

    A card payment may carry its cashless details (tag 1235, SDK ``Check.add_cashless_payment``):
    ``cashless_method`` (1236, an integer), ``cashless_id`` (1237, the payment's id) and
    ``cashless_info`` (1238, additional information).
    """

    type: PaymentType
    amount: Decimal
    cashless_method: int | None = None
    cashless_id: str | None = None
    cashless_info: str | None = None

    def __post_init__(self) -> None:
        kind = to_enum(PaymentType, self.type, "type")
        if kind is None:
            raise InvalidOrder("is required (card, cash, prepayment, …)", field="type")
        object.__setattr__(self, "type", kind)
        object.__setattr__(self, "amount", to_decimal(self.amount, "amount"))
        method: Any = self.cashless_method
        if isinstance(method, str) and method.strip().isdigit() and method.strip().isascii():
            method = int(method)
        if method is not None and (isinstance(method, bool) or not isinstance(method, int)):
            raise InvalidOrder(f"ожидается целое число, получено {show(method)}", field="cashless_method")
        object.__setattr__(self, "cashless_method", method)
        object.__setattr__(self, "cashless_id", to_text(self.cashless_id, "cashless_id"))
        object.__setattr__(self, "cashless_info", to_text(self.cashless_info, "cashless_info"))


def as_items(items: Any, name: str) -> list[Any]:
    """A list of the shop's items; refuses text, mappings and non-iterables with the field named."""
    if items is None:
        return []
    if isinstance(items, (str, bytes, bytearray, Mapping)) or not isinstance(items, Iterable):
        raise InvalidOrder(f"expected a list, got {type(items).__name__} {show(items)}", field=name)
    return list(items)


def prefixed(exc: InvalidOrder, prefix: str) -> InvalidOrder:
    return InvalidOrder({f"{prefix}.{k}" if k != "order" else prefix: v for k, v in exc.errors.items()})


def _one(item: Any, cls: type, name: str) -> Any:
    if isinstance(item, cls):
        return item
    if not isinstance(item, Mapping):
        raise InvalidOrder(f"expected {cls.__name__} or a dict, got {type(item).__name__} {show(item)}", field=name)
    try:
        return cls(**item)
    except InvalidOrder as exc:
        raise prefixed(exc, name) from None
    except TypeError as exc:  # unknown, missing or non-string keys
        raise InvalidOrder(str(exc), field=name) from None


def _nested(items: Any, cls: type, name: str) -> tuple[Any, ...]:
    return tuple(_one(item, cls, f"{name}[{index}]") for index, item in enumerate(as_items(items, name)))


@dataclass(frozen=True)
class Order:
    """A paid (or refunded) order, in the extension's own terms.

    ``ref`` is the shop's order id and part of every receipt's external id.
    ``region`` picks the cash register. ``payments`` may be left empty: the
    order is then taken as paid online by card, in full. ``fields`` fills the
    register's position-name template (``{custom_<name>}`` and friends).
    ``online`` says whether the payment was made online (for the register's
    extra regions); ``None`` means "online unless paid in cash".

    FFD 1.2 receipt props, as the SDK's ``Check`` sends them: ``additional_check_props``
    (tag 1192), ``additional_user_props`` (1084, :class:`~flask_komtet.details.UserProp`),
    ``sectoral_check_props`` (1261, :class:`~flask_komtet.details.SectoralProp`),
    ``operating_check_props`` (1270, :class:`~flask_komtet.details.OperatingProp`); dicts of
    the same shape are taken too.
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
    additional_check_props: str | None = None
    additional_user_props: UserProp | None = None
    sectoral_check_props: Sequence[SectoralProp] = ()
    operating_check_props: OperatingProp | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "ref", to_text(self.ref, "ref", required=True, limit=REF_LIMIT, identifier=True))
        set_(self, "region", to_text(self.region, "region", limit=REGION_LIMIT, identifier=True))
        set_(self, "lines", _nested(self.lines, OrderLine, "lines"))
        set_(self, "payments", _nested(self.payments, Payment, "payments"))
        customer: Any = self.customer  # whatever the shop passed: coerced here
        if customer is None:
            set_(self, "customer", Customer())
        elif not isinstance(customer, Customer):
            set_(self, "customer", _one(customer, Customer, "customer"))
        delivery: Any = self.delivery
        if delivery is not None and not isinstance(delivery, OrderLine):
            set_(self, "delivery", _one(delivery, OrderLine, "delivery"))
        set_(self, "discount", to_decimal(self.discount or 0, "discount"))
        set_(self, "fields", to_fields(self.fields))
        set_(self, "paid_at", to_moment(self.paid_at))
        if self.online is not None and not isinstance(self.online, bool):
            raise InvalidOrder(f"expected true, false or None, got {show(self.online)}", field="online")
        set_(self, "additional_check_props", to_text(self.additional_check_props, "additional_check_props"))
        set_(self, "additional_user_props", coerce(self.additional_user_props, UserProp, "additional_user_props"))
        set_(self, "sectoral_check_props", coerce_all(self.sectoral_check_props, SectoralProp, "sectoral_check_props"))
        set_(self, "operating_check_props",
             coerce(self.operating_check_props, OperatingProp, "operating_check_props"))

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
            data["payments"] = [{"type": p.type.value, "amount": str(p.amount)} | _cashless_dict(p)
                                for p in self.payments]
        if self.fields:
            data["fields"] = _plain(dict(self.fields))
        if self.paid_at is not None:
            data["paid_at"] = self.paid_at.isoformat()
        if self.online is not None:
            data["online"] = self.online
        for key in ("additional_check_props", "additional_user_props", "sectoral_check_props",
                    "operating_check_props"):
            if getattr(self, key):
                data[key] = plain_details(getattr(self, key))
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
    for key in ("agent", "supplier", "excise", "country_code", "declaration_number", "user_data", "wholesale"):
        value = getattr(line, key)
        if value is not None and value is not False:
            data[key] = plain_details(value)
    if line.marks:
        data["marks"] = [mark_data(mark) for mark in line.marks]
    if line.marked:
        data["marked"] = True
    return data


def _cashless_dict(payment: Payment) -> dict[str, Any]:
    keys = ("cashless_method", "cashless_id", "cashless_info")
    return {key: getattr(payment, key) for key in keys if getattr(payment, key) is not None}


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


#: Values that are data, not objects: the adapter never looks up attributes on them.


