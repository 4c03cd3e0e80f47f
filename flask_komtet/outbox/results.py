"""Results: KOMTET's verdict on a receipt, from a callback or from polling (idempotent, ordered)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from .. import signals, statements
from ..enums import ReceiptKind
from ..errors import APIError
from ..models import utcnow
from .records import S, as_text, emit, log, own_session, to_int, warn
from .send import client_for
from .settlement import release_waiting

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["apply_result", "poll_sent", "refresh"]


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
    task_id = to_int(info.get("id"))
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
        "to_state": new.value, "message": message, "response": as_text(info)})
    released = []
    if new is S.DONE and receipt.kind == ReceiptKind.SALE.value:
        released = release_waiting(state, session, receipt.order_ref)
    session.commit()
    if new is S.DONE:
        log.info("receipt %s done (%s): %s", getattr(receipt, "external_id", receipt.id), source, message)
    else:
        _warn_error(state, session, receipt, message)
    signal = signals.receipt_done if new is S.DONE else signals.receipt_failed
    if isinstance(receipt, Receipt):
        for key, value in _RESULT_COLUMNS.items():  # what the update wrote, without reading the row back
            set_committed_value(receipt, key, params[value] if value else None)
        set_committed_value(receipt, "state", new.value)
        if task_id:
            set_committed_value(receipt, "task_id", task_id)
        emit(state, signal, receipt)
    elif signal.has_receivers_for(state.app):  # a row: load the receipt only for the shop's receivers
        emit(state, signal, session.get(Receipt, receipt.id))
    if released:
        state.dispatcher.notify(released)
    return True


def _warn_error(state: KassaState, session: Session, receipt: Any, message: str) -> None:
    """A receipt KOMTET or the register refused: the WARNING names it (a row is read for its names)."""
    if not isinstance(receipt, state.models.Receipt):
        receipt = session.get(state.models.Receipt, receipt.id)
    if receipt is not None:
        warn(receipt, message, now=S.ERROR.value)


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
    with own_session(state, session) as s:
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
