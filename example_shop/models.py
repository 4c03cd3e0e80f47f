"""The shop's own tables: products, customers, coupons, orders, balance top-ups.

Money is ``Decimal`` everywhere and stored exactly (whole kopecks); weights are
stored in grams' worth of thousandths (0,350 кг).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from flask_komtet.enums import Measure, PaymentObject, VatRate

from .extensions import db
from .pricing import DELIVERY, line_total, rubles

__all__ = [
    "PAYMENT_TYPES",
    "REGIONS",
    "BalanceTopUp",
    "Coupon",
    "Customer",
    "Order",
    "OrderItem",
    "OrderStatus",
    "Product",
]

#: The regions the shop sells in: code → name. Orders are fiscalized by the register of their region.
REGIONS: dict[str, str] = {"msk": "Москва", "spb": "Санкт-Петербург", "nsk": "Новосибирск"}

#: How an order was paid: online by card, in cash at the counter, or from the customer's balance.
PAYMENT_TYPES: dict[str, str] = {"card": "Картой онлайн", "cash": "Наличными на кассе", "balance": "С баланса"}


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Fixed(TypeDecorator[Decimal]):
    """An exact decimal with ``places`` digits after the point, stored as a scaled integer."""

    impl = sa.BigInteger
    cache_ok = True

    def __init__(self, places: int) -> None:
        super().__init__()
        self.places = places
        self.quantum = Decimal(1).scaleb(-places)

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        if value is None:
            return None
        scaled = Decimal(value).scaleb(self.places)
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.places} decimal places")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(value).scaleb(-self.places).quantize(self.quantum)


Money = Fixed(2)
Quantity = Fixed(3)


class Product(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    price: Mapped[Decimal] = mapped_column(Money)
    #: A ``VatRate`` value; ``None`` takes the cash register's default rate.
    vat: Mapped[str | None] = mapped_column(sa.String(8))
    #: ``Measure.PIECE`` or ``Measure.KILOGRAM`` (sold by weight, priced per кг).
    measure: Mapped[int] = mapped_column(default=int(Measure.PIECE))
    payment_object: Mapped[str] = mapped_column(sa.String(32), default=PaymentObject.PRODUCT.value)
    color: Mapped[str] = mapped_column(sa.String(16), default="#7a8b5c")
    is_active: Mapped[bool] = mapped_column(default=True)
    #: A partner's product the shop sells as commissionaire: the partner's name, INN and phone go on the receipt.
    supplier_name: Mapped[str | None] = mapped_column(sa.String(256))
    supplier_inn: Mapped[str | None] = mapped_column(sa.String(12))
    supplier_phone: Mapped[str | None] = mapped_column(sa.String(32))

    def __str__(self) -> str:
        return self.name

    @property
    def by_weight(self) -> bool:
        return self.measure == Measure.KILOGRAM

    @property
    def unit(self) -> str:
        return Measure.parse(self.measure).label

    @property
    def is_service(self) -> bool:
        return self.payment_object == PaymentObject.SERVICE.value

    @property
    def vat_label(self) -> str | None:
        return VatRate.parse(self.vat).label if self.vat else None

    @property
    def step(self) -> Decimal:
        """The smallest amount one can order: 50 г by weight, one piece otherwise."""
        return Decimal("0.050") if self.by_weight else Decimal(1)


class Customer(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(128))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    region: Mapped[str] = mapped_column(sa.String(16))
    balance: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    #: A company buying (B2B): its INN goes on the receipt with its name (54-ФЗ art. 4.7).
    inn: Mapped[str | None] = mapped_column(sa.String(12))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    orders: Mapped[list[Order]] = relationship(back_populates="customer", order_by="Order.id.desc()")
    top_ups: Mapped[list[BalanceTopUp]] = relationship(back_populates="customer",
                                                        order_by="BalanceTopUp.id.desc()")

    def __str__(self) -> str:
        return f"{self.name} ({self.email or self.phone})"

    @property
    def region_name(self) -> str:
        return REGIONS.get(self.region, self.region)


class Coupon(db.Model):
    """A discount code: ``percent`` off the goods, or a fixed ``amount`` off."""

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    percent: Mapped[int | None]
    amount: Mapped[Decimal | None] = mapped_column(Money)
    is_active: Mapped[bool] = mapped_column(default=True)

    def __str__(self) -> str:
        return self.code

    def discount(self, subtotal: Decimal) -> Decimal:
        """The amount off ``subtotal`` (never more than it)."""
        off = rubles(subtotal * self.percent / 100) if self.percent else self.amount or Decimal("0.00")
        return min(off, subtotal)


class OrderStatus(str, enum.Enum):
    NEW = "new"
    PAID = "paid"
    REFUNDED = "refunded"

    @property
    def label(self) -> str:
        return {"new": "Ожидает оплаты", "paid": "Оплачен", "refunded": "Возвращен"}[self.value]


class Order(db.Model):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id"))
    region: Mapped[str] = mapped_column(sa.String(16))
    status: Mapped[str] = mapped_column(sa.String(16), default=OrderStatus.NEW.value, index=True)
    delivery: Mapped[str] = mapped_column(sa.String(16), default="pickup")
    address: Mapped[str] = mapped_column(sa.String(256), default="")
    delivery_price: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    coupon_code: Mapped[str | None] = mapped_column(sa.String(32))
    discount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0.00"))
    #: A key of ``PAYMENT_TYPES``; ``None`` until paid.
    payment_type: Mapped[str | None] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(index=True)
    refunded_at: Mapped[datetime | None]

    customer: Mapped[Customer] = relationship(back_populates="orders")
    items: Mapped[list[OrderItem]] = relationship(back_populates="order", order_by="OrderItem.id",
                                                  cascade="all, delete-orphan")

    def __str__(self) -> str:
        return f"Заказ №{self.number}"

    @property
    def subtotal(self) -> Decimal:
        return sum((item.total for item in self.items), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount + self.delivery_price

    @property
    def status_label(self) -> str:
        return OrderStatus(self.status).label

    @property
    def region_name(self) -> str:
        return REGIONS.get(self.region, self.region)

    @property
    def payment_label(self) -> str:
        return PAYMENT_TYPES.get(self.payment_type or "", "—")

    @property
    def delivery_option(self) -> Any:
        return DELIVERY[self.delivery]

    def mark_paid(self, payment_type: str) -> None:
        self.status, self.payment_type, self.paid_at = OrderStatus.PAID.value, payment_type, utcnow()

    def mark_refunded(self) -> None:
        self.status, self.refunded_at = OrderStatus.REFUNDED.value, utcnow()


class OrderItem(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("product.id"))
    name: Mapped[str] = mapped_column(sa.String(128))
    price: Mapped[Decimal] = mapped_column(Money)
    quantity: Mapped[Decimal] = mapped_column(Quantity)

    order: Mapped[Order] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()

    @property
    def total(self) -> Decimal:
        return line_total(self.price, self.quantity)


class BalanceTopUp(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(sa.ForeignKey("customer.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    region: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None]

    customer: Mapped[Customer] = relationship(back_populates="top_ups")

    @property
    def ref(self) -> str:
        """The payment's id, and the top-up receipt's order ref."""
        return f"topup-{self.id}"
