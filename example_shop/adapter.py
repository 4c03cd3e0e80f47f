"""The shop's order as flask_komtet sees it: the one function that wires the shop to KOMTET Kassa."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import flask_komtet as komtet

from .extensions import db
from .models import Order, Product

__all__ = ["load_order_by_ref", "order_to_komtet", "paid_orders_since"]

#: How the shop's payment types are shown on the receipt (a balance is an advance paid earlier).
PAYMENT_TYPES = {"card": "card", "cash": "cash", "balance": "prepayment"}


def order_to_komtet(order: Order) -> komtet.Order:
    """``order_adapter`` for ``KomtetKassa``: lines, delivery, coupon, customer, payment."""
    customer = order.customer
    return komtet.Order(
        ref=order.number,
        region=order.region,
        customer=komtet.Customer(email=customer.email, phone=customer.phone, name=customer.name, inn=customer.inn),
        lines=[
            komtet.OrderLine(item.name, item.price, item.quantity, vat=item.product.vat,
                             payment_object=item.product.payment_object, measure=item.product.measure,
                             sku=str(item.product_id), **_partner(item.product))
            for item in order.items
        ],
        delivery=komtet.OrderLine(order.delivery_option.receipt_name, order.delivery_price)
        if order.delivery_price else None,
        discount=order.discount,
        payments=[komtet.Payment(PAYMENT_TYPES[order.payment_type or "card"], order.total)],
        paid_at=order.paid_at,
    )


def _partner(product: Product) -> dict[str, Any]:
    """A partner's product is sold as commissionaire: the agent's role and the partner (supplier) per line."""
    if not product.supplier_inn:
        return {}
    phones = [product.supplier_phone] if product.supplier_phone else []
    return {"agent": komtet.Agent(type="commissionaire"),
            "supplier": komtet.Supplier(name=product.supplier_name, inn=product.supplier_inn, phones=phones)}


def load_order_by_ref(ref: str) -> Order | None:
    """``order_loader``: the admin's «Фискализировать» finds an order by its number."""
    return db.session.scalar(db.select(Order).filter_by(number=ref))


def paid_orders_since(since: datetime) -> Iterable[Order]:
    """``paid_orders_loader``: for ``flask komtet reconcile``."""
    return db.session.scalars(db.select(Order).where(Order.paid_at >= since).order_by(Order.paid_at))
