"""A person's actions on receipts (the admin): release a held one, re-send a failed one, preview."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..enums import Intent, ReceiptKind
from ..errors import InvalidOrder
from ..models import utcnow
from ..orders import Customer, Order
from ..receipts import Cashier, build_top_up
from ..receipts.followups import refund_request
from ..routing import Route, register_settings
from .codes import guarded
from .create import ByRegion, add_receipt, cashier_for, refund_plan, route_for
from .pending import mark_for_dispatch
from .plans import (
    Plan,
    as_person,
    check_correction,
    correction_plan,
    day,
    make_external_id,
    sale_plan,
)
from .records import NO_ANSWER, S, add_event, latest, log
from .settlement import settlement_builder
from .sources import order_data, refund_source, stored_order

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["preview", "preview_correction", "release_held", "resend"]


def release_held(state: KassaState, receipt: Any) -> Any:
    """Send a ``held`` receipt (a register that does not auto-fiscalize): it joins the queue."""
    if receipt.state != S.HELD.value:
        raise ValueError(f"Чек {receipt.external_id} не ожидает ручной отправки (состояние: {receipt.state_label})")
    if not receipt.payload_json:  # held for marking codes: it has nothing to send yet
        raise ValueError(f"Чек {receipt.external_id} ждет коды маркировки: {receipt.last_error or ''}".rstrip(": "))
    receipt.state, receipt.next_attempt_at, receipt.last_error = S.QUEUED.value, utcnow(), None
    add_event(state, receipt, "released", S.HELD.value, S.QUEUED.value, "отправлен вручную")
    mark_for_dispatch(state.session, state.dispatcher, receipt)
    return receipt


def resend(state: KassaState, receipt: Any) -> Any:
    """Try again after ``error`` or ``failed``.

    A receipt KOMTET never accepted because it did not answer is queued again
    under the same external id (KOMTET may have it already). Otherwise a new
    receipt with the next external id is built, routed again (a register may
    have appeared), and the old one stays on record. It is built from the
    current order when the shop's ``order_loader`` finds it (the order may have
    been fixed since), else from the order stored with the receipt.
    """
    if receipt.state not in (S.ERROR.value, S.FAILED.value):
        raise ValueError(f"Повторить можно только чек с ошибкой (состояние: {receipt.state_label})")
    if receipt.state == S.FAILED.value and receipt.payload_json and receipt.task_id is None and _transport_only(receipt):
        old = receipt.state
        receipt.state, receipt.attempts, receipt.next_attempt_at = S.QUEUED.value, 0, utcnow()
        add_event(state, receipt, "requeued", old, S.QUEUED.value, "повторная отправка с тем же внешним id")
        mark_for_dispatch(state.session, state.dispatcher, receipt)
        return receipt
    plan, when = _replan(state, receipt)
    route = _reroute(state, receipt)
    new = add_receipt(state, plan, route, when=when, sequence=_next_sequence(state, receipt), resend_of=receipt)
    if new.state == S.HELD.value and new.payload_json:  # a person asked for it: send now (not one waiting for codes)
        new.state = S.QUEUED.value
        mark_for_dispatch(state.session, state.dispatcher, new)
    return new


def _reroute(state: KassaState, receipt: Any) -> Route | ByRegion:
    if receipt.register is not None and receipt.register.is_active:
        return Route(receipt.register, False, receipt.routing or f"Касса «{receipt.register.name}»")
    return route_for(state, receipt.region, online=_was_online(receipt))


def _was_online(receipt: Any) -> bool:
    data = order_data(receipt)
    if "amount" in data:
        return bool(data.get("online", True))
    try:
        return stored_order(receipt).is_online if "ref" in data else True
    except (InvalidOrder, TypeError):
        return True


def _transport_only(receipt: Any) -> bool:
    return bool(receipt.last_error and receipt.last_error.startswith(NO_ANSWER))


def _next_sequence(state: KassaState, receipt: Any) -> int:
    newest = latest(state.session, state, ReceiptKind.parse(receipt.kind), receipt.order_ref, receipt.event_key)
    return int(newest.sequence if newest is not None else receipt.sequence) + 1


def current_order(state: KassaState, order_ref: str) -> Order | None:
    """The order as the shop has it now (``order_loader``), or ``None`` when it cannot say."""
    if state.order_loader is None:
        return None
    try:
        found = state.order_loader(order_ref)
        return state.adapt(found) if found is not None else None
    except Exception:  # the shop's loader or adapter: fall back to the stored order
        log.warning("order_loader could not load order %s; re-sending from the stored order", order_ref,
                    exc_info=True)
        return None


def _replan(state: KassaState, receipt: Any) -> tuple[Plan, date]:
    """The plan of a new attempt at ``receipt`` and the day whose settings it is built with."""
    data = order_data(receipt)
    kind = ReceiptKind.parse(receipt.kind)
    if "unreadable" in data and state.order_loader is None:
        raise ValueError("Заказ этого чека не удалось прочитать; отправьте его заново из магазина")
    if kind is ReceiptKind.TOP_UP:
        customer, amount, online = Customer(**data["customer"]), Decimal(data["amount"]), data.get("online", True)
        build = lambda settings, external_id, callback, cashier: build_top_up(  # noqa: E731
            customer, amount, settings, external_id=external_id, callback_url=callback, cashier=cashier,
            online=online)
        return Plan(kind, Intent.SELL, receipt.order_ref, receipt.event_key, receipt.region, data, build), date.today()
    refund_lines, correction = data.get("refund_lines"), data.get("correction")
    order = current_order(state, receipt.order_ref)
    if order is None:
        if "unreadable" in data:
            raise ValueError(f"Заказ {receipt.order_ref} не найден магазином; отправьте его заново из магазина")
        order = stored_order(receipt)
    if kind is ReceiptKind.REFUND:
        source = refund_source(state, order.ref)
        request = refund_request(refund_lines, order.lines, order.delivery)
        when = source.day if source is not None else day(order.paid_at)
        return refund_plan(state, order, request, receipt.event_key, source), when
    if kind is ReceiptKind.CORRECTION and correction is not None:
        person = correction.get("authorised_person")
        return correction_plan(order, Intent.parse(correction["intent"]), correction["type"],
                               date.fromisoformat(correction["base_date"]), correction["base_number"],
                               Cashier(**person) if person else None), date.fromisoformat(correction["base_date"])
    if kind is ReceiptKind.SETTLEMENT:
        fresh = order.to_dict()
        return Plan(kind, Intent.SELL, order.ref, receipt.event_key, order.region, fresh,
                    settlement_builder(state, order, on=date.today(), noted=fresh)), date.today()
    plan = guarded(state, sale_plan(order), order)
    return Plan(kind, Intent.parse(receipt.intent), receipt.order_ref, receipt.event_key, receipt.region,
                plan.order_data, plan.build), day(order.paid_at)


def preview(state: KassaState, shop_order: Any, register: Any) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """What the sale receipt of ``shop_order`` on ``register`` would be: ``(payload, errors)``; nothing is stored."""
    try:
        order = state.adapt(shop_order)
    except InvalidOrder as exc:
        return None, exc.errors
    return _preview(state, sale_plan(order), register, day(order.paid_at))


def preview_correction(state: KassaState, shop_order: Any, register: Any, *, intent: Any, correction_type: Any,
                       base_date: date, base_number: str | None = None, authorised_person: Any = None
                       ) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """What :func:`create_correction` would send: ``(payload, errors)``; nothing is stored."""
    try:
        check_correction(correction_type, base_date, base_number)
        person = as_person(authorised_person)
        order = state.adapt(shop_order)
    except InvalidOrder as exc:
        return None, exc.errors
    plan = correction_plan(order, Intent.parse(intent), correction_type, base_date, base_number, person)
    return _preview(state, plan, register, base_date)


def _preview(state: KassaState, plan: Plan, register: Any, when: date) -> tuple[dict[str, Any] | None, dict[str, str]]:
    external_id = make_external_id(state.external_id_prefix(create=False), plan.kind.value, plan.order_ref,
                                   plan.event_key, 1)
    try:
        payload = plan.build(register_settings(register, when), external_id, state.webhook_url(register.id),
                             cashier_for(state))
    except InvalidOrder as exc:
        return None, exc.errors
    except ValueError as exc:
        return None, {"register": str(exc)}
    return payload, {}
