"""The outbox: the only code that creates receipts and changes their state.

Creating a receipt adds rows to the shop's own session (so the paid order and
its queued receipt commit together); sending, polling and callbacks move the
row through ``queued → sending → sent → done | error`` (or ``failed``) with
compare-and-set updates, so that any number of senders and duplicate
callbacks never send or record a receipt twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
import secrets
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from . import signals, statements
from .client import KomtetClient, dumps
from .dispatch import mark_for_dispatch
from .enums import CorrectionType, Intent, PaymentMethod, ReceiptKind, ReceiptState, SettlementScheme
from .errors import (
    AlreadySubmitted,
    APIError,
    AuthenticationError,
    InvalidOrder,
    KomtetError,
    NotFound,
)
from .models import insert_persistent, utcnow
from .orders import Customer, Order, to_decimal
from .receipts import (
    Cashier,
    ReceiptSettings,
    RefundLine,
    build_correction,
    build_refund,
    build_sale,
    build_top_up,
    receipt_total,
)
from .routing import Route, choose_register, register_settings

if TYPE_CHECKING:
    from .extension import KassaState

__all__ = [
    "added_in_this_transaction",
    "apply_result",
    "cashier_for",
    "client_for",
    "create_correction",
    "create_refund",
    "create_sale",
    "create_settlement",
    "create_top_up",
    "make_external_id",
    "poll_sent",
    "correction_key",
    "preview",
    "preview_correction",
    "refresh",
    "release_held",
    "resend",
    "send_due",
    "send_receipt",
]

log = logging.getLogger("flask_komtet.outbox")

S = ReceiptState
QUEUE_RECHECK = timedelta(seconds=60)


# -- external ids ----------------------------------------------------------------------


def make_external_id(prefix: str, kind: str, order_ref: str, event_key: str, sequence: int) -> str:
    """``{prefix}{kind}-{order}[-{event}]-{n}``: stable across retries, unique per receipt."""
    parts = [kind, order_ref] + ([event_key] if event_key else []) + [str(sequence)]
    external_id = prefix + "-".join(parts)
    if len(external_id) > 128:
        digest = hashlib.sha1(external_id.encode()).hexdigest()[:16]
        external_id = f"{prefix}{kind}-{digest}-{sequence}"
    return external_id


def _event_key(lines: Sequence[Any] | None, ref: str | None) -> str:
    if ref:
        return str(ref)
    if lines is None:
        return "all"
    return hashlib.sha1(repr(list(lines)).encode()).hexdigest()[:10]


# -- creating receipts (in the shop's transaction) -----------------------------------


@dataclass(frozen=True)
class _Plan:
    kind: ReceiptKind
    intent: Intent
    order_ref: str
    event_key: str
    region: str | None
    order_data: dict[str, Any]
    build: Callable[[ReceiptSettings, str, str | None, Cashier | None], dict[str, Any]]


def create_sale(state: KassaState, shop_order: Any, *, register: Any = None, manual: bool = False) -> Any:
    """Add the sale receipt of a paid order (or return the one already added).

    ``manual`` (a person asked for it, e.g. cash at the counter from the admin)
    sends it even on a register that does not auto-fiscalize.
    """
    try:
        order = state.adapt(shop_order)
    except InvalidOrder as exc:
        return _unbuildable(state, ReceiptKind.SALE, Intent.SELL, shop_order, exc)
    route = _route(state, order.region, online=order.is_online, register=register, automatic=not manual)
    return _add(state, _sale_plan(order), route, when=_day(order.paid_at))


def _sale_plan(order: Order) -> _Plan:
    return _Plan(
        ReceiptKind.SALE, Intent.SELL, order.ref, "", order.region, order.to_dict(),
        lambda settings, external_id, callback, cashier: build_sale(
            order, settings, external_id=external_id, callback_url=callback, cashier=cashier,
            payment_method=_sale_method(settings, order),
        ),
    )


def _sale_method(settings: ReceiptSettings, order: Order) -> PaymentMethod | None:
    """Cash at the counter hands the goods over at once, and so does the one-receipt scheme."""
    if not order.is_online or settings.settlement_scheme is SettlementScheme.SINGLE:
        return PaymentMethod.FULL_PAYMENT
    return None


def create_refund(state: KassaState, shop_order: Any, *, lines: Sequence[Any] | None = None,
                  ref: str | None = None) -> Any:
    """Add a refund receipt (``sellReturn``) for the whole order or some lines."""
    try:
        order = state.adapt(shop_order)
    except InvalidOrder as exc:
        return _unbuildable(state, ReceiptKind.REFUND, Intent.SELL_RETURN, shop_order, exc)
    event_key = _event_key(lines, ref)
    data = order.to_dict() | {"refund_lines": _plain_lines(lines)}
    plan = _Plan(
        ReceiptKind.REFUND, Intent.SELL_RETURN, order.ref, event_key, order.region, data,
        lambda settings, external_id, callback, cashier: build_refund(
            order, settings, external_id=external_id, lines=lines, callback_url=callback, cashier=cashier,
            payment_method=_refund_method(state, order),
        ),
    )
    sale = _latest(state.session, state, ReceiptKind.SALE, order.ref, "")
    register = sale.register if sale is not None and sale.register is not None else None
    route = _route(state, order.region, online=order.is_online, register=register,
                   why="касса, пробившая чек продажи" if register is not None else None)
    return _add(state, plan, route, when=date.today())


def _refund_method(state: KassaState, order: Order) -> PaymentMethod | None:
    settled = _latest(state.session, state, ReceiptKind.SETTLEMENT, order.ref, "")
    return PaymentMethod.FULL_PAYMENT if settled is not None else None


def _plain_lines(lines: Sequence[Any] | None) -> Any:
    """Refund lines as JSON (``{"index", "quantity"}``), so a re-send or a settlement can read them back."""
    if lines is None:
        return None
    plain = []
    for line in lines:
        if isinstance(line, int):
            line = RefundLine(line)
        elif isinstance(line, dict):
            line = RefundLine(line["index"], line.get("quantity"))
        plain.append({"index": line.index, "quantity": None if line.quantity is None else str(line.quantity)})
    return plain


def create_top_up(state: KassaState, customer: Any, amount: Any, *, region: str | None, ref: str | None,
                  online: bool = True) -> Any:
    """Add a balance top-up receipt (a customer or amount it cannot read is kept as a ``failed`` receipt)."""
    order_ref = str(ref) if ref else uuid.uuid4().hex[:16]
    try:
        if not isinstance(customer, Customer):
            customer = Customer(**{k: _attribute(customer, k) for k in ("email", "phone", "name", "inn")})
        total = to_decimal(amount, "amount")
        data = {"customer": Order(ref=order_ref, customer=customer).to_dict()["customer"], "amount": str(total),
                "region": region}
    except InvalidOrder as exc:
        return _unbuildable(state, ReceiptKind.TOP_UP, Intent.SELL,
                            {"ref": order_ref, "customer": customer, "amount": amount}, exc)
    plan = _Plan(
        ReceiptKind.TOP_UP, Intent.SELL, order_ref, "", region, data,
        lambda settings, external_id, callback, cashier: build_top_up(
            customer, total, settings, external_id=external_id, callback_url=callback, cashier=cashier,
        ),
    )
    return _add(state, plan, _route(state, region, online=online), when=date.today())


def _attribute(obj: Any, name: str) -> Any:
    try:
        return getattr(obj, name, None)
    except Exception as exc:  # a shop property that raises
        raise InvalidOrder(f"не удалось прочитать: {type(exc).__name__}", field=f"customer.{name}") from None


def create_correction(state: KassaState, shop_order: Any, *, intent: Intent, correction_type: Any,
                      base_date: date, base_number: str | None = None, register: Any = None) -> Any:
    """Add a correction receipt for ``shop_order``'s positions (sent at once: a person asked for it).

    Raises :class:`InvalidOrder` naming the field for a correction KOMTET would refuse: by instruction
    without the instruction's number, or a base document dated in the future.
    """
    _check_correction(correction_type, base_date, base_number)
    try:
        order = state.adapt(shop_order)
    except InvalidOrder as exc:
        return _unbuildable(state, ReceiptKind.CORRECTION, Intent.parse(intent), shop_order, exc)
    plan = _correction_plan(order, Intent.parse(intent), correction_type, base_date, base_number)
    route = _route(state, order.region, online=order.is_online, register=register, automatic=False)
    return _add(state, plan, route, when=base_date)


def correction_key(intent: Any, base_date: date, base_number: str | None) -> str:
    """A correction's event key (part of its external id): its base document and kind."""
    return f"{base_date:%Y%m%d}-{base_number or 'self'}-{Intent.parse(intent).value}"


def _check_correction(correction_type: Any, base_date: date, base_number: str | None) -> None:
    errors = {}
    if CorrectionType.parse(correction_type) is CorrectionType.INSTRUCTION and not base_number:
        errors["base_number"] = "Для коррекции по предписанию нужен номер предписания"
    if base_date > date.today():
        errors["base_date"] = "Дата документа-основания не может быть в будущем"
    if errors:
        raise InvalidOrder(errors)


def _correction_plan(order: Order, intent: Intent, correction_type: Any, base_date: date,
                     base_number: str | None) -> _Plan:
    data = order.to_dict() | {"correction": {"intent": intent.value, "type": str(correction_type),
                                             "base_date": base_date.isoformat(), "base_number": base_number}}
    return _Plan(ReceiptKind.CORRECTION, intent, order.ref, correction_key(intent, base_date, base_number),
                 order.region, data,
                 lambda settings, external_id, callback, cashier: build_correction(
                     order, settings, external_id=external_id, intent=intent, correction_type=correction_type,
                     base_date=base_date, base_number=base_number, callback_url=callback, cashier=cashier))


def create_settlement(state: KassaState, shop_order: Any) -> Any:
    """Add the settlement receipt («Полный расчет») for an order sold as a prepayment."""
    from .settlement import create_settlement as create

    return create(state, shop_order)


@dataclass(frozen=True)
class _ByRegion:
    """A receipt to route by its region when it is added (from the cached registers, checked by the insert)."""

    region: str | None
    online: bool
    automatic: bool = True


def _route(state: KassaState, region: str | None, *, online: bool, register: Any = None,
           why: str | None = None, automatic: bool = True) -> Route | _ByRegion:
    if register is not None:
        return Route(register, False, f"Касса «{register.name}» (№{register.id}): {why or 'выбрана вручную'}")
    return _ByRegion(region, online, automatic)


def _choose(state: KassaState, where: _ByRegion) -> Route:
    CashRegister = state.models.CashRegister
    registers = state.registers.records(state.session, CashRegister.__table__, CashRegister)
    return choose_register(registers, where.region, online=where.online, automatic=where.automatic,
                           labels=dict(state.config.region_choices()))


def _latest(session: Session, state: KassaState, kind: ReceiptKind, order_ref: str, event_key: str) -> Any:
    Receipt = state.models.Receipt
    return session.scalars(
        sa.select(Receipt)
        .where(Receipt.order_ref == order_ref, Receipt.kind == kind.value, Receipt.event_key == event_key)
        .order_by(Receipt.sequence.desc())
        .limit(1)
    ).first()


def _day(moment: datetime | None) -> date:
    return moment.date() if moment else date.today()


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
    return Cashier(getattr(found, "name"), getattr(found, "inn", None))


def _add(state: KassaState, plan: _Plan, route: Route | _ByRegion, *, when: date, sequence: int = 1,
         resend_of: Any = None) -> Any:
    """Insert the receipt and its first event in the shop's transaction, or return the one already there."""
    session = state.session
    where = route if isinstance(route, _ByRegion) else None
    if where is not None:
        route = _choose(state, where)
    elif route.register is not None and route.register.id is None:
        session.flush()  # a register added in this same transaction
    external_id = make_external_id(state.config.external_id_prefix, plan.kind.value, plan.order_ref,
                                   plan.event_key, sequence)
    now = utcnow()
    values: dict[str, Any] = dict(
        external_id=external_id, order_ref=plan.order_ref, kind=plan.kind.value, event_key=plan.event_key,
        sequence=sequence, intent=plan.intent.value, region=plan.region,
        order_data=json.dumps(plan.order_data, ensure_ascii=False, separators=(",", ":")),
        attempts=0, next_attempt_at=now, created_at=now, updated_at=now, resend_of_id=getattr(resend_of, "id", None),
    ) | _routed(state, plan, route, when, external_id)
    Receipt = state.models.Receipt
    receipt, version = insert_persistent(session, Receipt, values,
                                         state.models.CashRegister.__table__ if where else None)
    if receipt is None:  # the same receipt was added before: exactly once
        return _latest(session, state, plan.kind, plan.order_ref, plan.event_key)
    if where is not None and not state.registers.is_current(version):
        state.registers.forget()  # a register changed since they were read: route again with what is in force
        route = _choose(state, where)
        changed = _routed(state, plan, route, when, external_id)
        session.connection().execute(sa.update(Receipt.__table__).where(Receipt.id == receipt.id).values(changed))
        for key, value in changed.items():
            set_committed_value(receipt, key, value)
    if isinstance(route.register, state.models.CashRegister):
        set_committed_value(receipt, "register", route.register)
    _remember_added(session, receipt)
    session.connection().execute(statements.insert_events(state.models.ReceiptEvent.__table__), dict(
        receipt_id=receipt.id, created_at=now, action="created", from_state=None, to_state=receipt.state,
        message=receipt.last_error or route.reason))
    if receipt.state == S.QUEUED.value:
        mark_for_dispatch(session, state.dispatcher, receipt)
    _signal_created(state, receipt)
    return receipt


def _routed(state: KassaState, plan: _Plan, route: Route, when: date, external_id: str) -> dict[str, Any]:
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
        except (InvalidOrder, ValueError) as exc:
            values.update(last_error=_storable(str(exc)))
    return values


_ADDED = "flask_komtet.added"


def _remember_added(session: Session, receipt: Any) -> None:
    session.info.setdefault(_ADDED, set()).add(receipt.id)


def added_in_this_transaction(session: Session, receipt: Any) -> bool:
    """Whether ``receipt`` was created in ``session``'s open transaction (not found already there)."""
    return receipt.id in session.info.get(_ADDED, ())


@sa.event.listens_for(Session, "after_commit")
@sa.event.listens_for(Session, "after_rollback")
def _forget_added(session: Session) -> None:
    session.info.pop(_ADDED, None)


def _unbuildable(state: KassaState, kind: ReceiptKind, intent: Intent, shop_order: Any, exc: Exception) -> Any:
    """Keep a ``failed`` receipt for an order the adapter could not read, so nothing is lost."""
    described = _storable(_safe_repr(shop_order))
    plan = _Plan(kind, intent, _unreadable_ref(shop_order, described), "", None, {"unreadable": described[:2000]},
                 lambda *args: {})
    route = Route(None, False, _storable(f"Заказ не удалось прочитать: {exc}"))
    return _add(state, plan, route, when=date.today())


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


def _storable(text: str) -> str:
    """Text any database keeps (PostgreSQL refuses NUL characters in text)."""
    return text.replace("\x00", "\\x00")


def _signal_created(state: KassaState, receipt: Any) -> None:
    if receipt.state == S.FAILED.value:
        signals.receipt_failed.send(state.app, receipt=receipt, error=receipt.last_error)
    else:
        signals.receipt_queued.send(state.app, receipt=receipt)


def _event(state: KassaState, receipt: Any, action: str, from_state: str | None, to_state: str | None,
           message: str | None = None, *, http_status: int | None = None, request: Any = None,
           response: Any = None, session: Session | None = None) -> None:
    event = _new_event(state, receipt, action, from_state, to_state, message, http_status=http_status,
                       request=request, response=response)
    if receipt.id is None:
        receipt.events.append(event)
    else:
        (session or state.session).add(event)


def _new_event(state: KassaState, receipt: Any, action: str, from_state: str | None, to_state: str | None,
               message: str | None = None, *, http_status: int | None = None, request: Any = None,
               response: Any = None) -> Any:
    return state.models.ReceiptEvent(
        receipt_id=receipt.id, created_at=utcnow(), action=action, from_state=from_state,
        to_state=to_state, message=message, http_status=http_status, request=_text(request),
        response=_text(response),
    )


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


# -- manual actions (admin) ------------------------------------------------------------


def release_held(state: KassaState, receipt: Any) -> Any:
    """Send a ``held`` receipt (a register that does not auto-fiscalize): it joins the queue."""
    if receipt.state != S.HELD.value:
        raise ValueError(f"Чек {receipt.external_id} не ожидает ручной отправки (состояние: {receipt.state_label})")
    receipt.state, receipt.next_attempt_at, receipt.last_error = S.QUEUED.value, utcnow(), None
    _event(state, receipt, "released", S.HELD.value, S.QUEUED.value, "отправлен вручную")
    mark_for_dispatch(state.session, state.dispatcher, receipt)
    return receipt


def resend(state: KassaState, receipt: Any) -> Any:
    """Try again after ``error`` or ``failed``.

    A receipt KOMTET never accepted because it did not answer is queued again
    under the same external id (KOMTET may have it already). Otherwise a new
    receipt with the next external id is built from the stored order, routed
    again (a register may have appeared), and the old one stays on record.
    """
    if receipt.state not in (S.ERROR.value, S.FAILED.value):
        raise ValueError(f"Повторить можно только чек с ошибкой (состояние: {receipt.state_label})")
    if receipt.state == S.FAILED.value and receipt.payload_json and receipt.task_id is None and _transport_only(receipt):
        old = receipt.state
        receipt.state, receipt.attempts, receipt.next_attempt_at = S.QUEUED.value, 0, utcnow()
        _event(state, receipt, "requeued", old, S.QUEUED.value, "повторная отправка с тем же внешним id")
        mark_for_dispatch(state.session, state.dispatcher, receipt)
        return receipt
    plan = _replan(state, receipt)
    route = _reroute(state, receipt)
    new = _add(state, plan, route, when=date.today(), sequence=_next_sequence(state, receipt), resend_of=receipt)
    if new.state == S.HELD.value:  # a person asked for it: send now
        new.state = S.QUEUED.value
        mark_for_dispatch(state.session, state.dispatcher, new)
    return new


def _reroute(state: KassaState, receipt: Any) -> Route | _ByRegion:
    if receipt.register is not None and receipt.register.is_active:
        return Route(receipt.register, False, receipt.routing or f"Касса «{receipt.register.name}»")
    return _route(state, receipt.region, online=_was_online(receipt))


def _was_online(receipt: Any) -> bool:
    data = json.loads(receipt.order_data or "{}")
    try:
        return Order.from_dict(data).is_online if "ref" in data and "amount" not in data else True
    except (InvalidOrder, TypeError):
        return True


def _transport_only(receipt: Any) -> bool:
    return bool(receipt.last_error and receipt.last_error.startswith(_NO_ANSWER))


def _next_sequence(state: KassaState, receipt: Any) -> int:
    latest = _latest(state.session, state, ReceiptKind.parse(receipt.kind), receipt.order_ref, receipt.event_key)
    return (latest.sequence if latest is not None else receipt.sequence) + 1


def _replan(state: KassaState, receipt: Any) -> _Plan:
    data = json.loads(receipt.order_data or "{}")
    kind = ReceiptKind.parse(receipt.kind)
    if "unreadable" in data:
        raise ValueError("Заказ этого чека не удалось прочитать; отправьте его заново из магазина")
    if kind is ReceiptKind.TOP_UP:
        customer, amount = Customer(**data["customer"]), Decimal(data["amount"])
        build = lambda settings, external_id, callback, cashier: build_top_up(  # noqa: E731
            customer, amount, settings, external_id=external_id, callback_url=callback, cashier=cashier)
        return _Plan(kind, Intent.SELL, receipt.order_ref, receipt.event_key, receipt.region, data, build)
    refund_lines = data.pop("refund_lines", None)
    correction = data.pop("correction", None)
    order = Order.from_dict(data)
    if kind is ReceiptKind.REFUND:
        build = lambda settings, external_id, callback, cashier: build_refund(  # noqa: E731
            order, settings, external_id=external_id, lines=refund_lines, callback_url=callback, cashier=cashier)
        data = data | {"refund_lines": refund_lines}
    elif kind is ReceiptKind.CORRECTION and correction is not None:
        build = lambda settings, external_id, callback, cashier: build_correction(  # noqa: E731
            order, settings, external_id=external_id, intent=Intent.parse(correction["intent"]),
            correction_type=correction["type"], base_date=date.fromisoformat(correction["base_date"]),
            base_number=correction["base_number"], callback_url=callback, cashier=cashier)
        data = data | {"correction": correction}
    elif kind is ReceiptKind.SETTLEMENT:
        from .settlement import settlement_builder

        build = settlement_builder(state, order)
    else:
        build = lambda settings, external_id, callback, cashier: build_sale(  # noqa: E731
            order, settings, external_id=external_id, callback_url=callback, cashier=cashier,
            payment_method=_sale_method(settings, order))
    return _Plan(kind, Intent.parse(receipt.intent), receipt.order_ref, receipt.event_key, receipt.region,
                 data, build)


def preview(state: KassaState, shop_order: Any, register: Any) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """What the sale receipt of ``shop_order`` on ``register`` would be: ``(payload, errors)``; nothing is stored."""
    try:
        order = state.adapt(shop_order)
    except InvalidOrder as exc:
        return None, exc.errors
    return _preview(state, _sale_plan(order), register, _day(order.paid_at))


def preview_correction(state: KassaState, shop_order: Any, register: Any, *, intent: Any, correction_type: Any,
                       base_date: date, base_number: str | None = None) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """What :func:`create_correction` would send: ``(payload, errors)``; nothing is stored."""
    try:
        _check_correction(correction_type, base_date, base_number)
        order = state.adapt(shop_order)
    except InvalidOrder as exc:
        return None, exc.errors
    return _preview(state, _correction_plan(order, Intent.parse(intent), correction_type, base_date, base_number),
                    register, base_date)


def _preview(state: KassaState, plan: _Plan, register: Any, when: date) -> tuple[dict[str, Any] | None, dict[str, str]]:
    external_id = make_external_id(state.config.external_id_prefix, plan.kind.value, plan.order_ref, plan.event_key, 1)
    try:
        payload = plan.build(register_settings(register, when), external_id, state.webhook_url(register.id),
                             cashier_for(state))
    except InvalidOrder as exc:
        return None, exc.errors
    except ValueError as exc:
        return None, {"register": str(exc)}
    return payload, {}


# -- sending ---------------------------------------------------------------------------


@contextmanager
def _own_session(state: KassaState, session: Session | None) -> Iterator[Session]:
    if session is not None:
        yield session
        return
    own = Session(bind=state.db.engine, expire_on_commit=False)
    try:
        yield own
    finally:
        own.close()


@dataclass
class _Outcome:
    receipt: Any
    token: str
    response: dict[str, Any] | None = None
    error: KomtetError | None = None
    passive: bool = False


_NO_ANSWER = "KOMTET не ответил"


def _claim(state: KassaState, session: Session, limit: int, receipt_id: int | None = None) -> list[tuple[Any, str]]:
    """Move up to ``limit`` due receipts to ``sending`` under a fresh lease token."""
    Receipt = state.models.Receipt
    table = Receipt.__table__
    now = utcnow()
    token = secrets.token_hex(8)
    connection = session.connection()
    ids = connection.execute(statements.due_ids(table, connection.dialect.name, one=receipt_id is not None),
                             {"b_now": now, "b_limit": limit, "b_id": receipt_id}).scalars().all()
    if not ids:
        session.rollback()
        return []
    connection.execute(statements.claim(table), {
        "b_ids": ids, "b_now": now, "b_token": token,
        "b_expires": now + timedelta(seconds=state.config.lease)})
    session.commit()
    rows = session.scalars(statements.claimed(Receipt), {"b_token": token}).all()
    return [(row, token) for row in rows]


def send_due(state: KassaState, limit: int = 100, *, session: Session | None = None) -> int:
    """Claim and send up to ``limit`` due receipts; returns how many were tried."""
    with _own_session(state, session) as s:
        claimed = _claim(state, s, limit)
        if claimed:
            _send_claimed(state, s, claimed)
        return len(claimed)


def send_receipt(state: KassaState, receipt_id: int, *, session: Session | None = None) -> bool:
    """Send one receipt now if it is due (Celery task body, admin «Отправить сейчас»)."""
    with _own_session(state, session) as s:
        claimed = _claim(state, s, 1, receipt_id=receipt_id)
        if claimed:
            _send_claimed(state, s, claimed)
        return bool(claimed)


def _send_claimed(state: KassaState, session: Session, claimed: list[tuple[Any, str]]) -> None:
    outcomes = [_Outcome(receipt, token) for receipt, token in claimed]
    passive = _passive_registers(state, session, {o.receipt.register for o in outcomes if o.receipt.register})
    to_post = []
    for outcome in outcomes:
        if outcome.receipt.register_id in passive:
            outcome.passive = True
        else:
            to_post.append(outcome)
    for outcome, (response, error) in zip(to_post, state.dispatcher.post_all(
            [(client_for(state, o.receipt.register), o.receipt.register.queue_id,
              o.receipt.payload_json.encode("utf-8")) for o in to_post])):
        outcome.response, outcome.error = response, error
    signalled = _record(state, session, outcomes)
    session.commit()
    for receipt, signal in signalled:
        _emit(state, signal, receipt)


def client_for(state: KassaState, register: Any) -> KomtetClient:
    """A client for ``register``'s KOMTET shop, on the app's pooled session."""
    return KomtetClient(register.shop_id, register.secret, api_url=register.api_url or state.config.api_url,
                        session=state.http, timeout=state.config.timeout)


def _passive_registers(state: KassaState, session: Session, registers: set[Any]) -> set[int]:
    """Ids of registers whose KOMTET queue is passive (checked at most once a minute)."""
    passive = set()
    now = utcnow()
    for register in registers:
        if register.queue_checked_at is None or now - register.queue_checked_at > QUEUE_RECHECK:
            try:
                register.queue_state = client_for(state, register).queue_state(register.queue_id)
            except APIError as exc:
                log.warning("queue check of register %s failed: %s", register.id, exc)
                register.queue_state = register.queue_state or "active"
            register.queue_checked_at = now
        if register.queue_state == "passive":
            passive.add(register.id)
    session.commit()
    return passive


def _backoff(state: KassaState, attempts: int) -> timedelta:
    delay = min(state.config.retry_max, state.config.retry_base * 2 ** max(0, attempts - 1))
    return timedelta(seconds=delay * random.uniform(0.8, 1.2))


def _outcome_values(state: KassaState, outcome: _Outcome, now: datetime) -> tuple[dict[str, Any], str, str, Any]:
    """``(params, action, message, signal)`` for one send's result."""
    receipt = outcome.receipt
    params = {"b_id": receipt.id, "b_token": outcome.token, "b_task_id": receipt.task_id, "b_sent_at": receipt.sent_at,
              "b_attempts": receipt.attempts, "b_now": now, "b_error": None}
    poll_at = now + timedelta(seconds=state.config.poll_after)
    error = outcome.error
    if outcome.passive:
        message = "Очередь кассы в KOMTET неактивна (passive): чек ждет, пока очередь станет активной"
        params |= {"b_state": S.QUEUED.value, "b_attempts": receipt.attempts - 1, "b_next": now + QUEUE_RECHECK,
                   "b_error": message}
        return params, "queue_passive", message, None
    if error is None:
        task_id = _int((outcome.response or {}).get("id"))
        params |= {"b_state": S.SENT.value, "b_task_id": task_id, "b_sent_at": now, "b_next": poll_at}
        return params, "sent", f"задание KOMTET №{task_id}", signals.receipt_sent
    if isinstance(error, AlreadySubmitted):
        params |= {"b_state": S.SENT.value, "b_sent_at": now, "b_next": poll_at}
        return params, "already_submitted", "KOMTET уже принял чек с этим внешним id", signals.receipt_sent
    if error.retryable and receipt.attempts < state.config.max_attempts:
        message = f"{_NO_ANSWER} (попытка {receipt.attempts}): {error}"
        params |= {"b_state": S.QUEUED.value, "b_next": now + _backoff(state, receipt.attempts), "b_error": message}
        return params, "retry", message, None
    message = _failure_text(error, receipt.attempts)
    params |= {"b_state": S.FAILED.value, "b_next": receipt.next_attempt_at, "b_error": message}
    return params, "failed", message, signals.receipt_failed


def _store(connection: Any, statement: Any, table: sa.Table, rows: list[dict[str, Any]]) -> set[int]:
    """Run the fenced updates in one executemany; returns the ids whose lease was lost (not updated).

    Every row of the batch gets the same ``updated_at``, so a row that does not
    carry it after the update is one another sender or a callback had changed.
    """
    if not rows:
        return set()
    updated = connection.execute(statement, rows).rowcount
    if updated == len(rows) and connection.dialect.supports_sane_multi_rowcount:
        return set()
    stamp = rows[0]["b_now"]
    found = connection.execute(sa.select(table.c.id, table.c.updated_at)
                               .where(table.c.id.in_([row["b_id"] for row in rows]))).all()
    return {rid for rid, updated_at in found if updated_at != stamp}


def _record(state: KassaState, session: Session, outcomes: list[_Outcome]) -> list[tuple[Any, Any]]:
    """Store a batch of send results with fenced updates and one insert of their events."""
    Receipt, Event = state.models.Receipt, state.models.ReceiptEvent
    connection = session.connection()
    statement = statements.record_send(Receipt.__table__)
    now = utcnow()
    planned = [(outcome, *_outcome_values(state, outcome, now)) for outcome in outcomes]
    lost = _store(connection, statement, Receipt.__table__, [params for _, params, *_ in planned])
    events, signalled = [], []
    for outcome, params, action, message, signal in planned:
        receipt, error = outcome.receipt, outcome.error
        stored = receipt.id not in lost
        if not stored:  # the lease was lost (expired and taken, or a callback got here first)
            if params["b_task_id"] and receipt.task_id is None:
                connection.execute(sa.update(Receipt.__table__).where(Receipt.id == receipt.id,
                                                                      Receipt.task_id.is_(None))
                                   .values(task_id=params["b_task_id"]))
            action, message, signal = action + "_late", f"{message} (аренда чека истекла; состояние не изменено)", None
        events.append({
            "receipt_id": receipt.id, "created_at": now, "action": action, "from_state": S.SENDING.value,
            "to_state": params["b_state"] if stored else None, "message": message,
            "http_status": getattr(error, "status", None) or (200 if outcome.response else None),
            "request": _text({"queue": receipt.register.queue_id if receipt.register else None,
                              "external_id": receipt.external_id}),
            "response": _text(outcome.response or (getattr(error, "body", None) if error else None)),
        })
        if signal is not None:
            signalled.append((receipt, signal))
    if events:
        connection.execute(statements.insert_events(Event.__table__), events)
    for receipt, _ in signalled:
        session.expire(receipt)
    return signalled


def _failure_text(error: KomtetError, attempts: int) -> str:
    if isinstance(error, AuthenticationError):
        return f"Ошибка авторизации в KOMTET: проверьте ShopID и Secret кассы ({error.description or error.status})"
    if isinstance(error, NotFound):
        return f"KOMTET не нашел очередь кассы: проверьте ID очереди ({error.description or error.status})"
    if error.retryable:
        return f"{_NO_ANSWER} после {attempts} попыток: {error}"
    description = getattr(error, "description", None)
    return f"KOMTET отклонил чек: {description or error}"


def _emit(state: KassaState, signal: Any, receipt: Any) -> None:
    kwargs = {"error": receipt.last_error} if signal is signals.receipt_failed else {}
    try:
        signal.send(state.app, receipt=receipt, **kwargs)
    except Exception:  # a shop's receiver must not break the sender
        log.exception("a receiver of %s raised", signal.name)


# -- results: callbacks and polling ----------------------------------------------------

_RESULT_STATES = {"done": S.DONE, "error": S.ERROR}
_RESULT_COLUMNS = {"done_at": "r_now", "updated_at": "r_now", "last_error": "r_error", "fiscal_data_json": "r_fiscal",
                   "fn": "r_fn", "fd": "r_fd", "fp": "r_fp", "fiscal_time": "r_fiscal_time", "receipt_url": "r_url",
                   "lease_token": None, "lease_expires_at": None}


def apply_result(state: KassaState, receipt: Any, info: dict[str, Any], *, source: str,
                 session: Session | None = None) -> bool:
    """Record KOMTET's verdict on a receipt (``done`` or ``error``); ``True`` if it changed anything.

    ``receipt`` is a ``Receipt`` or a row with its ``id``, ``state``, ``kind``,
    ``order_ref`` and ``task_id`` (the webhook reads no more). Idempotent and
    ordered: a duplicate changes nothing, and ``done`` is final.
    """
    session = session or state.session
    Receipt = state.models.Receipt
    new = _RESULT_STATES.get(str(info.get("state")))
    task_id = _int(info.get("id"))
    if new is None:
        if task_id and receipt.task_id is None:
            session.execute(sa.update(Receipt).where(Receipt.id == receipt.id, Receipt.task_id.is_(None))
                            .values(task_id=task_id).execution_options(synchronize_session=False))
        return False
    now = utcnow()
    params: dict[str, Any] = dict(r_id=receipt.id, r_task_id=task_id, r_now=now, r_error=None, r_fiscal=None,
                                  r_fn=None, r_fd=None, r_fp=None, r_fiscal_time=None, r_url=None)
    if new is S.DONE:
        fiscal = info.get("fiscal_data") or {}
        params |= dict(r_fiscal=json.dumps(fiscal, ensure_ascii=False), r_fn=_str(fiscal.get("fn")),
                       r_fd=_str(fiscal.get("i")), r_fp=_str(fiscal.get("fp")),
                       r_fiscal_time=_fiscal_time(fiscal.get("t")),
                       r_url=_str(info.get("receipt_url") or fiscal.get("receipt_url")))
        message = f"ФН {params['r_fn']}, ФД {params['r_fd']}"
    else:
        params["r_error"] = message = str(info.get("error_description") or "Ошибка без описания")
    connection = session.connection()
    if connection.execute(statements.record_result(Receipt.__table__, new), params).rowcount != 1:
        return False
    connection.execute(statements.insert_events(state.models.ReceiptEvent.__table__), {
        "receipt_id": receipt.id, "created_at": now, "action": source, "from_state": receipt.state,
        "to_state": new.value, "message": message, "response": _text(info)})
    released = []
    if new is S.DONE and receipt.kind == ReceiptKind.SALE.value:
        from .settlement import release_waiting

        released = release_waiting(state, session, receipt.order_ref)
    session.commit()
    signal = signals.receipt_done if new is S.DONE else signals.receipt_failed
    if isinstance(receipt, Receipt):
        for key, value in _RESULT_COLUMNS.items():  # what the update wrote, without reading the row back
            set_committed_value(receipt, key, params[value] if value else None)
        set_committed_value(receipt, "state", new.value)
        if task_id:
            set_committed_value(receipt, "task_id", task_id)
        _emit(state, signal, receipt)
    elif signal.has_receivers_for(state.app):  # a row: load the receipt only for the shop's receivers
        _emit(state, signal, session.get(Receipt, receipt.id))
    if released:
        state.dispatcher.notify(released)
    return True


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _fiscal_time(value: Any) -> datetime | None:
    try:
        return datetime.strptime(str(value), "%Y%m%dT%H%M") if value else None
    except ValueError:
        return None


def refresh(state: KassaState, receipt: Any, *, session: Session | None = None) -> bool:
    """Ask KOMTET for one receipt's task now (AlfaCRM's «Обновить состояние»)."""
    if receipt.task_id is None or receipt.register is None:
        return False
    info = client_for(state, receipt.register).task_info(receipt.task_id)
    return apply_result(state, receipt, info, source="poll", session=session)


def poll_sent(state: KassaState, older_than: float | None = None, limit: int = 100, *,
              session: Session | None = None) -> int:
    """Poll receipts ``sent`` without an answer for ``older_than`` seconds; returns how many changed."""
    Receipt = state.models.Receipt
    cutoff = utcnow() - timedelta(seconds=state.config.poll_after if older_than is None else older_than)
    changed = 0
    with _own_session(state, session) as s:
        rows = s.scalars(
            sa.select(Receipt).where(Receipt.state == S.SENT.value, Receipt.task_id.is_not(None),
                                     Receipt.sent_at <= cutoff)
            .order_by(Receipt.sent_at).limit(limit)
        ).all()
        for receipt in rows:
            try:
                changed += refresh(state, receipt, session=s)
            except APIError as exc:
                log.warning("polling receipt %s failed: %s", receipt.external_id, exc)
        s.commit()
    return changed
