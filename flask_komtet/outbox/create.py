"""Creating receipts in the shop's own transaction: routed, built and inserted exactly once.

The paid order and its queued receipt commit together or not at all; an order
that cannot be read or built is kept as a ``failed`` receipt naming why.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from .. import signals, statements
from ..client import dumps
from ..enums import Intent, ReceiptKind
from ..errors import InvalidOrder, MarksHeld
from ..models import insert_persistent, utcnow
from ..orders import Customer, Order, to_decimal
from ..receipts import Cashier, ReceiptSettings, RefundLine, build_refund, build_top_up, receipt_total
from ..receipts.followups import refund_request
from ..routing import Route, choose_register, register_settings
from .codes import guarded
from .pending import added_in_this_transaction, mark_for_dispatch, remember_added
from .plans import (
    Plan,
    as_person,
    check_correction,
    correction_plan,
    day,
    event_key,
    make_external_id,
    plain_lines,
    sale_method,
    sale_plan,
)
from .records import S, latest, log, replaceable, storable, warn
from .sources import Source, hold_order, refund_source, refunded_before

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["ByRegion", "add_receipt", "cashier_for", "create_correction", "create_refund", "create_sale",
           "create_top_up", "route_for", "unbuildable"]


def create_sale(state: KassaState, shop_order: Any, *, register: Any = None, manual: bool = False) -> Any:
    """Add the sale receipt of a paid order (or return the one already added).

    When the order's sale receipt ``failed`` without reaching KOMTET (no buyer
    contact, no register for the region…), a new one (the next sequence) is
    built from the order given, so a fixed order is fiscalized.

    ``manual`` (a person asked for it, e.g. cash at the counter from the admin)
    sends it even on a register that does not auto-fiscalize.
    """
    try:
        order = state.adapt(shop_order)
    except InvalidOrder as exc:
        return unbuildable(state, ReceiptKind.SALE, Intent.SELL, shop_order, exc)
    route = route_for(state, order.region, online=order.is_online, register=register, automatic=not manual)
    return add_or_replace(state, guarded(state, sale_plan(order), order), route, when=day(order.paid_at))


def add_or_replace(state: KassaState, plan: Plan, route: Route | ByRegion, *, when: date) -> Any:
    """Add ``plan``'s receipt, or return the one already added for its event.

    If that one failed without reaching KOMTET, the next attempt (a new
    sequence) is built from ``plan`` in its place, unless it would fail just the
    same (then the failed one is returned and nothing is added).
    """
    previous = add_receipt(state, plan, route, when=when)  # the common case: the first, inserted at once
    if added_in_this_transaction(state.session, previous) or not replaceable(previous):
        return previous
    if _fails_again(state, plan, route, when, previous):
        return previous
    return add_receipt(state, plan, route, when=when, sequence=previous.sequence + 1, resend_of=previous)


def create_refund(state: KassaState, shop_order: Any, *, lines: Sequence[Any] | None = None,
                  ref: str | None = None) -> Any:
    """Add a refund receipt (``sellReturn``) for what is left of the order, or some lines.

    Its positions are those of the receipt it returns (the settlement if the
    goods were handed over after a prepayment, else the sale), as they were
    sent; earlier refunds, whatever their ``ref``, are taken off what is left.
    Lines it cannot read, or a refund past what was sold, are kept as a
    ``failed`` receipt naming why; nothing is sent. Called again for the same
    refund after that, it tries anew (:func:`add_or_replace`).
    """
    try:
        order = state.adapt(shop_order)
    except InvalidOrder as exc:
        return unbuildable(state, ReceiptKind.REFUND, Intent.SELL_RETURN, shop_order, exc)
    try:
        request: list[RefundLine] | None = refund_request(lines, order.lines, order.delivery)
        problem = None
    except InvalidOrder as exc:
        request, problem = None, exc
    key = event_key(request if problem is None else [_safe_repr(lines)], ref)
    hold_order(state, order.ref)  # concurrent refunds of this order count one after the other
    source = refund_source(state, order.ref)
    plan = refund_plan(state, order, request, key, source, problem)
    sale = source.receipt if source is not None else latest(state.session, state, ReceiptKind.SALE, order.ref, "")
    register = sale.register if sale is not None and sale.register is not None else None
    route = route_for(state, order.region, online=order.is_online, register=register,
                      why="касса, пробившая чек продажи" if register is not None else None)
    return add_or_replace(state, plan, route, when=source.day if source is not None else day(order.paid_at))


def refund_plan(state: KassaState, order: Order, request: list[RefundLine] | None, key: str,
                source: Source | None, problem: InvalidOrder | None = None) -> Plan:
    """The refund of ``request`` (``None``: all that is left) of ``source`` (``None``: priced from the order).

    Built at the register's settings on the day of the sale (its rates and tax system).
    """
    done = refunded_before(state, order.ref, source, event_key=key)
    data = order.to_dict() | {"refund_lines": plain_lines(request) if problem is None else problem.errors}
    if source is not None:
        data["refund_of"] = source.receipt.external_id

    def build(settings: ReceiptSettings, external_id: str, callback: str | None, cashier: Cashier | None
              ) -> dict[str, Any]:
        if problem is not None:
            raise problem
        return build_refund(order, settings, external_id=external_id, lines=request, callback_url=callback,
                            cashier=cashier, payment_method=sale_method(settings, order),
                            sold=source.sold if source else None, done=done,
                            paid=source.paid if source else None, noted=data,
                            rates_as_of=settings.receipt_date)

    return Plan(ReceiptKind.REFUND, Intent.SELL_RETURN, order.ref, key, order.region, data, build)


def create_top_up(state: KassaState, customer: Any, amount: Any, *, region: str | None, ref: str | None,
                  online: bool = True) -> Any:
    """Add a balance top-up receipt (a customer or amount it cannot read is kept as a ``failed`` receipt)."""
    order_ref = str(ref) if ref else uuid.uuid4().hex[:16]
    try:
        if not isinstance(customer, Customer):
            customer = Customer(**{k: _attribute(customer, k) for k in ("email", "phone", "name", "inn")})
        total = to_decimal(amount, "amount")
        data = {"customer": Order(ref=order_ref, customer=customer).to_dict()["customer"], "amount": str(total),
                "region": region, "online": online}
    except InvalidOrder as exc:
        return unbuildable(state, ReceiptKind.TOP_UP, Intent.SELL,
                            {"ref": order_ref, "customer": customer, "amount": amount}, exc)
    plan = Plan(
        ReceiptKind.TOP_UP, Intent.SELL, order_ref, "", region, data,
        lambda settings, external_id, callback, cashier: build_top_up(
            customer, total, settings, external_id=external_id, callback_url=callback, cashier=cashier,
            online=online,
        ),
    )
    return add_receipt(state, plan, route_for(state, region, online=online), when=date.today())


def _attribute(obj: Any, name: str) -> Any:
    try:
        return getattr(obj, name, None)
    except Exception as exc:  # a shop property that raises
        raise InvalidOrder(f"не удалось прочитать: {type(exc).__name__}", field=f"customer.{name}") from None


def create_correction(state: KassaState, shop_order: Any, *, intent: Intent | str, correction_type: Any,
                      base_date: date, base_number: str | None = None, register: Any = None,
                      authorised_person: Any = None) -> Any:
    """Add a correction receipt (FFD 1.2) for ``shop_order``'s positions (sent at once: a person asked for it).

    ``base_date`` is the date of the settlement being corrected (tag 1178): the
    VAT is the register's on that date. ``base_number`` is the tax authority's
    instruction number (tag 1179), for ``instruction`` only. ``authorised_person``
    is ``Cashier(name, inn)`` (or ``(name, inn)``). Raises :class:`InvalidOrder`
    naming the field for a correction KOMTET would refuse: by instruction without
    the instruction's number, or a settlement dated in the future.
    """
    check_correction(correction_type, base_date, base_number)
    person = as_person(authorised_person)
    try:
        order = state.adapt(shop_order)
    except InvalidOrder as exc:
        return unbuildable(state, ReceiptKind.CORRECTION, Intent.parse(intent), shop_order, exc)
    plan = correction_plan(order, Intent.parse(intent), correction_type, base_date, base_number, person)
    route = route_for(state, order.region, online=order.is_online, register=register, automatic=False)
    return add_receipt(state, plan, route, when=base_date)


@dataclass(frozen=True)
class ByRegion:
    """A receipt to route by its region when it is added (from the cached registers, checked by the insert)."""

    region: str | None
    online: bool
    automatic: bool = True


def route_for(state: KassaState, region: str | None, *, online: bool, register: Any = None,
           why: str | None = None, automatic: bool = True) -> Route | ByRegion:
    if register is not None:
        return Route(register, False, f"Касса «{register.name}» (№{register.id}): {why or 'выбрана вручную'}")
    return ByRegion(region, online, automatic)


def choose(state: KassaState, where: ByRegion) -> Route:
    CashRegister = state.models.CashRegister
    registers = state.registers.records(state.session, CashRegister.__table__, CashRegister)
    return choose_register(registers, where.region, online=where.online, automatic=where.automatic,
                           labels=dict(state.config.region_choices()))


def cashier_for(state: KassaState) -> Cashier | None:
    """Who takes the payment: the shop's ``cashier_loader`` (a broken one is logged), else ``None``."""
    if state.cashier_loader is None:
        return None
    try:
        found = state.cashier_loader()
    except Exception:  # a broken loader must not block the receipt
        log.exception("cashier_loader failed; using the register's cashier")
        return None
    if found is None or isinstance(found, Cashier):
        return found
    if isinstance(found, (tuple, list)):
        return Cashier(*found)
    return Cashier(found.name, getattr(found, "inn", None))


def add_receipt(state: KassaState, plan: Plan, route: Route | ByRegion, *, when: date, sequence: int = 1,
                resend_of: Any = None) -> Any:
    """Insert the receipt and its first event in the shop's transaction, or return the one already there."""
    session = state.session
    where = route if isinstance(route, ByRegion) else None
    chosen = choose(state, route) if isinstance(route, ByRegion) else route
    if where is None and chosen.register is not None and chosen.register.id is None:
        session.flush()  # a register added in this same transaction
    external_id = make_external_id(state.external_id_prefix(), plan.kind.value, plan.order_ref,
                                   plan.event_key, sequence)
    now = utcnow()
    routed = _routed(state, plan, chosen, when, external_id)  # first: building may note in order_data
    values: dict[str, Any] = dict(
        external_id=external_id, order_ref=plan.order_ref, kind=plan.kind.value, event_key=plan.event_key,
        sequence=sequence, intent=plan.intent.value, region=plan.region,
        order_data=json.dumps(plan.order_data, ensure_ascii=False, separators=(",", ":")),
        attempts=0, next_attempt_at=now, created_at=now, updated_at=now, resend_of_id=getattr(resend_of, "id", None),
    ) | routed
    Receipt = state.models.Receipt
    receipt, version = insert_persistent(session, Receipt, values,
                                         state.models.CashRegister.__table__ if where else None)
    if receipt is None:  # the same receipt was added before: exactly once
        return latest(session, state, plan.kind, plan.order_ref, plan.event_key)
    if where is not None and not state.registers.is_current(version):
        state.registers.forget()  # a register changed since they were read: route again with what is in force
        chosen = choose(state, where)
        changed = _routed(state, plan, chosen, when, external_id)
        session.connection().execute(sa.update(Receipt.__table__).where(Receipt.id == receipt.id).values(changed))
        for key, value in changed.items():
            set_committed_value(receipt, key, value)
    if isinstance(chosen.register, state.models.CashRegister):
        set_committed_value(receipt, "register", chosen.register)
    remember_added(session, receipt)
    session.connection().execute(statements.insert_events(state.models.ReceiptEvent.__table__), dict(
        receipt_id=receipt.id, created_at=now, action="created", from_state=None, to_state=receipt.state,
        message=receipt.last_error or chosen.reason))
    if receipt.state == S.QUEUED.value:
        mark_for_dispatch(session, state.dispatcher, receipt)
        log.debug("receipt %s of order %s (%s) queued", external_id, plan.order_ref, plan.kind.value)
    else:
        warn(receipt, receipt.last_error or chosen.reason, register=chosen.register)
    _signal_created(state, receipt)
    return receipt


def _routed(state: KassaState, plan: Plan, route: Route, when: date, external_id: str) -> dict[str, Any]:
    """The columns that follow from the route: register, reason, state, and the payload built for it."""
    values: dict[str, Any] = dict(register_id=getattr(route.register, "id", None), routing=route.reason,
                                  state=S.FAILED.value, last_error=route.reason, payload_json=None, total=None)
    if route.register is not None:
        try:
            settings = register_settings(route.register, when)
            callback = state.webhook_url(route.register.id) if route.register.id else None
            payload = plan.build(settings, external_id, callback, cashier_for(state))
            values.update(payload_json=dumps(payload).decode("utf-8"), total=receipt_total(payload),
                          state=(S.HELD if route.held else S.QUEUED).value, last_error=None)
        except MarksHeld as exc:  # waits for a person to scan the codes in: never sent without them
            values.update(state=S.HELD.value, last_error=storable(exc.reason))
        except (InvalidOrder, ValueError) as exc:
            values.update(last_error=storable(str(exc)))
    return values


def _fails_again(state: KassaState, plan: Plan, route: Route | ByRegion, when: date, previous: Any) -> bool:
    """Whether ``plan`` would fail just as ``previous`` did (then a second failed receipt adds nothing)."""
    chosen = choose(state, route) if isinstance(route, ByRegion) else route
    outcome = _routed(state, plan, chosen, when, previous.external_id)
    return bool(outcome["state"] == S.FAILED.value and outcome["last_error"] == previous.last_error)


def unbuildable(state: KassaState, kind: ReceiptKind, intent: Intent, shop_order: Any, exc: Exception) -> Any:
    """Keep a ``failed`` receipt for an order the adapter could not read, so nothing is lost."""
    described = storable(_safe_repr(shop_order))
    plan = Plan(kind, intent, _unreadable_ref(shop_order, described), "", None, {"unreadable": described[:2000]},
                 lambda *args: {})
    route = Route(None, False, storable(f"Заказ не удалось прочитать: {exc}"))
    return add_receipt(state, plan, route, when=date.today())


def _unreadable_ref(shop_order: Any, described: str) -> str:
    """The order's own ref (or id, or number) when it is printable, else a digest of the whole order.

    The same unreadable order sent twice keeps one receipt; two different ones never share one.
    """
    for key in ("ref", "id", "number"):
        try:
            value = shop_order.get(key) if isinstance(shop_order, Mapping) else getattr(shop_order, key, None)
        except Exception:  # a hostile property: fall back to the digest
            value = None
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).isprintable() \
                and 0 < len(str(value)) <= 100:
            return str(value)
    return "unreadable-" + hashlib.sha1(described.encode("utf-8", "replace")).hexdigest()[:16]


def _safe_repr(value: Any) -> str:
    try:
        return repr(value)
    except Exception:
        return f"<{type(value).__name__}: repr failed>"


def _signal_created(state: KassaState, receipt: Any) -> None:
    if receipt.state == S.FAILED.value:
        signals.receipt_failed.send(state.app, receipt=receipt, error=receipt.last_error)
    else:
        signals.receipt_queued.send(state.app, receipt=receipt)
