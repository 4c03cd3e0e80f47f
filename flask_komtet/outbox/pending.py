"""What the shop's open transaction added: receipts to send once it commits, and which were new.

Both lists live in ``session.info`` and are dropped on rollback, so a receipt
is sent only if the transaction that queued it really committed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

__all__ = ["Notified", "added_in_this_transaction", "mark_for_dispatch", "remember_added", "unmark_for_dispatch"]

log = logging.getLogger("flask_komtet.dispatch")

DISPATCH_KEY = "komtet_kassa_dispatch"
ADDED_KEY = "flask_komtet.added"


class Notified(Protocol):
    """A dispatcher, as far as the commit hook needs it."""

    def notify(self, receipt_ids: Sequence[int] = ()) -> None: ...


def mark_for_dispatch(session: Any, dispatcher: Notified, receipt: Any) -> None:
    """Remember that ``receipt`` should be sent once ``session`` commits."""
    session.info.setdefault(DISPATCH_KEY, {}).setdefault(dispatcher, []).append(receipt)


def unmark_for_dispatch(session: Any, dispatcher: Notified, receipt: Any) -> None:
    """Forget ``receipt``: it is not to be sent after all (e.g. it now waits)."""
    pending = session.info.get(DISPATCH_KEY, {}).get(dispatcher, [])
    if receipt in pending:
        pending.remove(receipt)


def remember_added(session: Session, receipt: Any) -> None:
    session.info.setdefault(ADDED_KEY, set()).add(receipt.id)


def added_in_this_transaction(session: Session, receipt: Any) -> bool:
    """Whether ``receipt`` was created in ``session``'s open transaction (not found already there)."""
    return receipt.id in session.info.get(ADDED_KEY, ())


def _collect_ids(session: Any) -> dict[Notified, list[int]]:
    pending: dict[Notified, list[Any]] = session.info.pop(DISPATCH_KEY, {}) or {}
    return {d: [key[0] for key in (sa.inspect(r).identity for r in receipts) if key] for d, receipts in pending.items()}


@sa.event.listens_for(Session, "after_commit")
def _after_commit(session: Any) -> None:
    if DISPATCH_KEY in session.info:
        for dispatcher, ids in _collect_ids(session).items():
            try:
                dispatcher.notify(ids)
            except Exception:  # the shop's commit succeeded; the outbox keeps the receipt
                log.exception("dispatching receipts after commit failed; they stay queued")
    session.info.pop(ADDED_KEY, None)


@sa.event.listens_for(Session, "after_rollback")
def _after_rollback(session: Any) -> None:
    session.info.pop(ADDED_KEY, None)
    session.info.pop(DISPATCH_KEY, None)
