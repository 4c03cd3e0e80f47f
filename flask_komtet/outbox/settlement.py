"""Settlement receipts: «Полный расчет» when goods are handed over after a prepayment.

``kassa.settle(order)`` (or the ``order_shipped`` signal) adds it once per order,
on the register that printed the prepayment. It waits (``held``) until the
prepayment receipt is ``done`` and is released automatically then; refunds
made before it are left out of it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .. import statements
from ..enums import Intent, ReceiptKind, ReceiptState, VatRate
from ..errors import InvalidOrder
from ..models import utcnow
from ..receipts import build_settlement
from ..receipts.followups import refunded, settled_vat
from ..routing import Route, register_settings
from .codes import guarded
from .create import add_receipt, unbuildable
from .pending import unmark_for_dispatch
from .plans import Plan
from .records import latest, warn
from .sources import LIVE, is_prepayment, live, order_data, positions_of, sold_on

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["WAITING", "create_settlement", "release_waiting", "settlement_builder"]

log = logging.getLogger("flask_komtet.outbox")
S = ReceiptState
WAITING = "Ждет выполнения чека предоплаты"


def _prepayment_sale(state: KassaState, order_ref: str) -> Any:
    return latest(state.session, state, ReceiptKind.SALE, order_ref, "")


def settlement_builder(state: KassaState, order: Any, *, on: date | None = None,
                       noted: dict[str, Any] | None = None) -> Callable[..., dict[str, Any]]:
    """The payload builder of ``order``'s settlement on ``on`` (the shipment), from its prepayment and refunds.

    The prepayment receipt's positions are taken as sent (names, marks, agents…);
    each becomes ``full_payment`` at the rate in force on ``on``.
    """
    sale = _prepayment_sale(state, order.ref)
    payload_sale = sale if sale is not None and sale.state in LIVE and sale.payload_json else None
    sold = positions_of(payload_sale) if payload_sale is not None else None
    refunds = live(state, ReceiptKind.REFUND, order.ref)
    done = refunded(r for r in (positions_of(r) for r in refunds) if r is not None)
    prepaid = (sale.total if sale is not None else Decimal(0)) - sum((r.total or Decimal(0) for r in refunds),
                                                                    Decimal(0))
    refund_lines = [json.loads(r.order_data or "{}").get("refund_lines") for r in refunds]
    sold_vat = None
    if payload_sale is not None and payload_sale.register is not None:
        sold_vat = register_settings(payload_sale.register, sold_on(payload_sale)).vat
    new_from = len(order_data(payload_sale).get("lines") or []) if payload_sale is not None else None

    def build(settings: Any, external_id: str, callback: str | None, cashier: Any) -> dict[str, Any]:
        return build_settlement(order, settings, external_id=external_id, prepaid=prepaid,
                                refunds=() if sold is not None else refund_lines, callback_url=callback,
                                cashier=cashier, sold=sold, done=done, on=on, sold_vat=sold_vat,
                                new_lines_from=new_from, noted=noted)

    return build


def create_settlement(state: KassaState, shop_order: Any) -> Any:
    """Add the settlement receipt of an order sold as a prepayment; ``None`` if it needs none.

    It carries the prepayment's positions at the VAT in force today (the
    shipment); when that differs from the prepayment's, its routing says so.
    """
    try:
        order = state.adapt(shop_order)
    except InvalidOrder as exc:
        return unbuildable(state, ReceiptKind.SETTLEMENT, Intent.SELL, shop_order, exc)
    sale = _prepayment_sale(state, order.ref)
    if sale is not None and sale.state in LIVE and not is_prepayment(sale):
        log.info("order %s was sold with a full settlement: no settlement receipt needed", order.ref)
        return None
    data = order.to_dict()
    today = date.today()
    plan = guarded(state, Plan(ReceiptKind.SETTLEMENT, Intent.SELL, order.ref, "", order.region, data,
                               settlement_builder(state, order, on=today, noted=data)), order)
    if sale is None or sale.state not in LIVE or sale.register is None:
        route = Route(None, False, f"Нет чека предоплаты для заказа {order.ref}: закрывать нечего")
    else:
        route = Route(sale.register, False, f"Касса «{sale.register.name}» (№{sale.register.id}): касса чека "
                                            f"предоплаты{_rates_note(sale, today)}")
    receipt = add_receipt(state, plan, route, when=today)
    if receipt.state == S.QUEUED.value and sale is not None and sale.state != S.DONE.value:
        receipt.state, receipt.last_error = S.HELD.value, f"{WAITING} {sale.external_id}"
        unmark_for_dispatch(state.session, state.dispatcher, receipt)
        warn(receipt, receipt.last_error)
    return receipt


def _rates_note(sale: Any, on: date) -> str:
    """``; НДС …`` when the shipment's rates differ from the prepayment's, else nothing."""
    sold = positions_of(sale) or {}
    then = register_settings(sale.register, sold_on(sale)).vat
    now = register_settings(sale.register, on).vat
    pairs = {(VatRate.parse(item["vat"]), settled_vat(item["vat"], on=on, default_then=then, default_now=now))
             for item in sold.values()}
    changed = sorted(((old, new) for old, new in pairs if new is not old.plain), key=lambda pair: pair[0].value)
    if not changed:
        return ""
    rates = ", ".join(f"{new.label} вместо {old.label}" for old, new in changed)
    return f"; НДС на дату отгрузки {on:%d.%m.%Y}: {rates} (в чеке предоплаты)"


def release_waiting(state: KassaState, session: Any, order_ref: str) -> list[int]:
    """Queue the settlements that waited for this order's prepayment receipt; returns their ids."""
    Receipt = state.models.Receipt
    stamp = utcnow()
    released = session.connection().execute(statements.release_waiting(Receipt.__table__, WAITING),
                                            {"b_order_ref": order_ref, "b_stamp": stamp}).rowcount
    if not released:
        return []
    return list(session.scalars(sa.select(Receipt.id).where(
        Receipt.order_ref == order_ref, Receipt.kind == ReceiptKind.SETTLEMENT.value,
        Receipt.state == S.QUEUED.value, Receipt.next_attempt_at == stamp)).all())
