"""What every outbox job shares: the latest receipt of an event, its history rows, signals, sessions."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import signals
from ..enums import ReceiptKind, ReceiptState
from ..models import utcnow

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["NO_ANSWER", "S", "add_event", "as_text", "emit", "latest", "masked", "own_session", "replaceable",
           "storable", "to_int", "warn"]

log = logging.getLogger("flask_komtet.outbox")

S = ReceiptState
#: How the last error of a receipt KOMTET never answered starts (it is re-sent under the same external id).
NO_ANSWER = "KOMTET не ответил"


def latest(session: Session, state: KassaState, kind: ReceiptKind, order_ref: str, event_key: str) -> Any:
    Receipt = state.models.Receipt
    return session.scalars(
        sa.select(Receipt)
        .where(Receipt.order_ref == order_ref, Receipt.kind == kind.value, Receipt.event_key == event_key)
        .order_by(Receipt.sequence.desc())
        .limit(1)
    ).first()


_EMAIL = re.compile(r"([^\s@'\"<>(),;:]{1,2})[^\s@'\"<>(),;:]*@([^\s@'\"<>(),;:]+)")
_PHONE = re.compile(r"(\+?\d)[\d\s()\-]{5,}(\d{2})")


def masked(text: str | None) -> str:
    """``text`` with buyers' emails and phones cut to a hint (``iv***@mail.ru``, ``+7***67``), for logs."""
    if not text:
        return ""
    return _PHONE.sub(r"\1***\2", _EMAIL.sub(r"\1***@\2", text))


def warn(receipt: Any, reason: str | None, *, register: Any = None, now: str | None = None) -> None:
    """The WARNING of a receipt that failed or is held: order, kind, register, external id and why.

    Never a secret, and buyers' contacts only as a hint (:func:`masked`).
    """
    register = register if register is not None else getattr(receipt, "register", None)
    where = f"«{register.name}» (№{register.id})" if register is not None else "нет"
    log.warning("receipt %s of order %s (%s, register %s) is %s: %s", receipt.external_id, receipt.order_ref,
                receipt.kind, where, now or receipt.state, masked(reason))


def replaceable(receipt: Any) -> bool:
    """A ``failed`` receipt that never reached KOMTET: a new one may be built in its place.

    Not one KOMTET did not answer (it may have it; that one is re-sent under its own id).
    """
    return (receipt.state == S.FAILED.value and receipt.task_id is None
            and not (receipt.last_error or "").startswith(NO_ANSWER))


def storable(text: str) -> str:
    """Text any database keeps (PostgreSQL refuses NUL characters in text)."""
    return text.replace("\x00", "\\x00")


def add_event(state: KassaState, receipt: Any, action: str, from_state: str | None, to_state: str | None,
           message: str | None = None, *, http_status: int | None = None, request: Any = None,
           response: Any = None, session: Session | None = None) -> None:
    event = new_event(state, receipt, action, from_state, to_state, message, http_status=http_status,
                       request=request, response=response)
    if receipt.id is None:
        receipt.events.append(event)
    else:
        (session or state.session).add(event)


def new_event(state: KassaState, receipt: Any, action: str, from_state: str | None, to_state: str | None,
               message: str | None = None, *, http_status: int | None = None, request: Any = None,
               response: Any = None) -> Any:
    return state.models.ReceiptEvent(
        receipt_id=receipt.id, created_at=utcnow(), action=action, from_state=from_state,
        to_state=to_state, message=message, http_status=http_status, request=as_text(request),
        response=as_text(response),
    )


def as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


def emit(state: KassaState, signal: Any, receipt: Any) -> None:
    kwargs = {"error": receipt.last_error} if signal is signals.receipt_failed else {}
    try:
        signal.send(state.app, receipt=receipt, **kwargs)
    except Exception:  # a shop's receiver must not break the sender
        log.exception("a receiver of %s raised", signal.name)


@contextmanager
def own_session(state: KassaState, session: Session | None) -> Iterator[Session]:
    if session is not None:
        yield session
        return
    own = Session(bind=state.db.engine, expire_on_commit=False)
    try:
        yield own
    finally:
        own.close()


def to_int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None
