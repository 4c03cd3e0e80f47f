"""Sending: claim due receipts under a lease, post them to KOMTET, record each outcome (fenced).

Any number of senders may run: a claim moves rows to ``sending`` with a fresh
lease token, and every result is written only where that token still holds.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import signals, statements
from ..client import KomtetClient
from ..errors import (
    AlreadySubmitted,
    APIError,
    AuthenticationError,
    KomtetError,
    NotFound,
)
from ..models import utcnow
from .records import NO_ANSWER, S, as_text, emit, log, own_session, to_int, warn

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["QUEUE_RECHECK", "client_for", "send_due", "send_receipt"]

QUEUE_RECHECK = timedelta(seconds=60)


@dataclass
class _Outcome:
    receipt: Any
    token: str
    response: dict[str, Any] | None = None
    error: KomtetError | None = None
    passive: bool = False


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
    with own_session(state, session) as s:
        claimed = _claim(state, s, limit)
        if claimed:
            _send_claimed(state, s, claimed)
        return len(claimed)


def send_receipt(state: KassaState, receipt_id: int, *, session: Session | None = None) -> bool:
    """Send one receipt now if it is due (Celery task body, admin «Отправить сейчас»)."""
    with own_session(state, session) as s:
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
              o.receipt.payload_json.encode("utf-8")) for o in to_post]), strict=True):
        outcome.response, outcome.error = response, error
    signalled = _record(state, session, outcomes)
    session.commit()
    for receipt, signal in signalled:
        emit(state, signal, receipt)


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
        task_id = to_int((outcome.response or {}).get("id"))
        params |= {"b_state": S.SENT.value, "b_task_id": task_id, "b_sent_at": now, "b_next": poll_at}
        return params, "sent", f"задание KOMTET №{task_id}", signals.receipt_sent
    if isinstance(error, AlreadySubmitted):
        params |= {"b_state": S.SENT.value, "b_sent_at": now, "b_next": poll_at}
        return params, "already_submitted", "KOMTET уже принял чек с этим внешним id", signals.receipt_sent
    if error.retryable and receipt.attempts < state.config.max_attempts:
        message = f"{NO_ANSWER} (попытка {receipt.attempts}): {error}"
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
            "request": as_text({"queue": receipt.register.queue_id if receipt.register else None,
                              "external_id": receipt.external_id}),
            "response": as_text(outcome.response or (getattr(error, "body", None) if error else None)),
        })
        if signal is not None:
            signalled.append((receipt, signal))
        _log_outcome(receipt, action, message, params["b_state"] if stored else None)
    if events:
        connection.execute(statements.insert_events(Event.__table__), events)
    for receipt, _ in signalled:
        session.expire(receipt)
    return signalled


def _log_outcome(receipt: Any, action: str, message: str, new_state: str | None) -> None:
    if new_state == S.FAILED.value or action == "queue_passive":
        warn(receipt, message, now=new_state)
    elif action == "retry":
        log.info("receipt %s: %s", receipt.external_id, message)
    else:
        log.info("receipt %s %s: %s", receipt.external_id, action, message)


def _failure_text(error: KomtetError, attempts: int) -> str:
    if isinstance(error, AuthenticationError):
        return f"Ошибка авторизации в KOMTET: проверьте ShopID и Secret кассы ({error.description or error.status})"
    if isinstance(error, NotFound):
        return f"KOMTET не нашел очередь кассы: проверьте ID очереди ({error.description or error.status})"
    if error.retryable:
        return f"{NO_ANSWER} после {attempts} попыток: {error}"
    description = getattr(error, "description", None)
    return f"KOMTET отклонил чек: {description or error}"
