"""Celery dispatch (``KOMTET_KASSA_DISPATCH = "celery"``) on the host's own Celery app.

``kassa.init_app(app, db=db, celery=celery_app)`` registers two tasks on it:

``flask_komtet.send_receipt(receipt_id)``
    sends one receipt if it is due. It carries only the id, so running it twice
    is harmless: the outbox's claim lets one run send and the other find nothing.
    Retries stay in the outbox's hands: when a send is to be retried, the task
    schedules itself again for the receipt's ``next_attempt_at``.
``flask_komtet.sweep()``
    sends whatever is due and polls unanswered receipts; add it to beat (e.g.
    every minute) to recover from a lost broker message or a restart.

Tasks push the Flask app context themselves; the host's Celery app needs no
Flask-specific task class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .models import utcnow
from .outbox import poll_sent, send_due, send_receipt

if TYPE_CHECKING:
    from .state import KassaState

__all__ = ["register_celery_tasks"]


def register_celery_tasks(celery_app: Any, state: KassaState) -> tuple[Any, Any]:
    """Define ``send_receipt`` and ``sweep`` on ``celery_app`` for this Flask app; returns both."""
    app = state.app

    @celery_app.task(name="flask_komtet.send_receipt", ignore_result=True, shared=False)  # type: ignore[untyped-decorator]  # Celery is untyped
    def send_receipt_task(receipt_id: int) -> bool:
        with app.app_context():
            sent = send_receipt(state, receipt_id)
            _reschedule(state, send_receipt_task, receipt_id)
            return sent

    @celery_app.task(name="flask_komtet.sweep", ignore_result=True, shared=False)  # type: ignore[untyped-decorator]  # Celery is untyped
    def sweep_task() -> int:
        with app.app_context():
            total = 0
            while True:
                sent = send_due(state, limit=50)
                total += sent
                if not sent:
                    break
            poll_sent(state)
            return total

    return send_receipt_task, sweep_task


def _reschedule(state: KassaState, task: Any, receipt_id: int) -> None:
    """If the receipt is queued for a retry, run the task again when it is due."""
    Receipt = state.models.Receipt
    with state.db.engine.connect() as conn:
        row = conn.execute(
            Receipt.__table__.select().with_only_columns(Receipt.state, Receipt.next_attempt_at)
            .where(Receipt.id == receipt_id)
        ).first()
    if row is not None and row.state == "queued" and row.next_attempt_at is not None:
        delay = max(0.0, (row.next_attempt_at - utcnow()).total_seconds())
        task.apply_async((receipt_id,), countdown=delay)
