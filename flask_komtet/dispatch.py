"""When receipts are sent: after the shop's commit, by ``KOMTET_KASSA_DISPATCH``.

``thread``  a background sender thread in the web process (default)
``worker``  nothing in the web process; ``flask komtet worker`` sends
``celery``  a Celery task per receipt on the host's Celery app
``sync``    right after the commit, in the committing thread (tests, scripts)

Every dispatcher also owns the small thread pool that posts a batch of
receipts to KOMTET concurrently (the database work stays in one thread).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Sequence

import sqlalchemy as sa
from flask import Flask

from .errors import KomtetError

if TYPE_CHECKING:
    from .client import KomtetClient
    from .extension import KassaState

__all__ = ["Dispatcher", "make_dispatcher"]

log = logging.getLogger("flask_komtet.dispatch")

DISPATCH_KEY = "komtet_kassa_dispatch"
POST_CONCURRENCY = 8
BATCH = 100
MULTI = 25


class Dispatcher:
    """Base: sends nothing by itself (``worker`` mode); posts batches concurrently."""

    mode = "worker"

    def __init__(self, app: Flask, state: KassaState) -> None:
        self.app = app
        self.state = state
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    def notify(self, receipt_ids: Sequence[int] = ()) -> None:
        """Called after a commit that queued receipts."""

    def post_all(self, jobs: list[tuple[KomtetClient, int, bytes]]) -> list[tuple[dict[str, Any] | None, KomtetError | None]]:
        """POST each ``(client, queue_id, body)``; results in order, errors returned, not raised.

        Receipts for one shop and queue go together through ``multi-tasks`` (up to
        ``MULTI`` a request); a batch KOMTET refuses is sent again one by one, so
        one bad receipt (or one already submitted) never holds back the others.
        """
        groups: dict[tuple[str, str, int], list[int]] = {}
        for index, (client, queue_id, _) in enumerate(jobs):
            groups.setdefault((client.api_url, client.shop_id, queue_id), []).append(index)
        chunks = [[jobs[i] for i in indexes[n:n + MULTI]] for indexes in groups.values()
                  for n in range(0, len(indexes), MULTI)]
        order = [i for indexes in groups.values() for n in range(0, len(indexes), MULTI) for i in indexes[n:n + MULTI]]
        results = list(self._executor().map(_post_chunk, chunks)) if len(chunks) > 1 else [_post_chunk(c) for c in chunks]
        flat = [result for chunk in results for result in chunk]
        ordered: list[Any] = [None] * len(jobs)
        for index, result in zip(order, flat):
            ordered[index] = result
        return ordered

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(POST_CONCURRENCY, thread_name_prefix="komtet-post")
            return self._pool

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)


def _post_chunk(chunk: list[tuple[KomtetClient, int, bytes]]) -> list[tuple[dict[str, Any] | None, KomtetError | None]]:
    if len(chunk) == 1:
        return [_post(chunk[0])]
    client, queue_id, _ = chunk[0]
    try:
        return [(task, None) for task in client.create_tasks(queue_id, [body for _, _, body in chunk])]
    except KomtetError as exc:
        if exc.retryable:
            return [(None, exc)] * len(chunk)
        return [_post(job) for job in chunk]  # find out which receipt KOMTET refused


def _post(job: tuple[KomtetClient, int, bytes]) -> tuple[dict[str, Any] | None, KomtetError | None]:
    client, queue_id, body = job
    try:
        return client.create_task(queue_id, body), None
    except KomtetError as exc:
        return None, exc


class SyncDispatcher(Dispatcher):
    """Sends right after the commit, before ``commit()`` returns."""

    mode = "sync"

    def notify(self, receipt_ids: Sequence[int] = ()) -> None:
        from .outbox import send_due

        with self.app.app_context():
            while send_due(self.state, limit=BATCH):
                pass


class ThreadDispatcher(Dispatcher):
    """A daemon sender thread per process, woken after each commit; retries and polls on a timer."""

    mode = "thread"
    idle = 1.0
    gather = 0.05

    def __init__(self, app: Flask, state: KassaState) -> None:
        super().__init__(app, state)
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self._lock = threading.Lock()
        app.before_request(self._ensure_started)
        atexit.register(self.stop)

    def notify(self, receipt_ids: Sequence[int] = ()) -> None:
        self._ensure_started()
        self._wake.set()

    def _ensure_started(self) -> None:
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                self._pid = os.getpid()
                self._stopped.clear()
                self._thread = threading.Thread(target=self._run, name="komtet-sender", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        from .outbox import poll_sent, send_due

        last_poll = 0.0
        with self.app.app_context():
            while not self._stopped.is_set():
                if self._wake.wait(self.idle):
                    self._stopped.wait(self.gather)  # let a burst of checkouts commit, then send them together
                self._wake.clear()
                if self._stopped.is_set():
                    break
                try:
                    while send_due(self.state, limit=BATCH) and not self._stopped.is_set():
                        pass
                    if time.monotonic() - last_poll > min(60.0, self.state.config.poll_after):
                        last_poll = time.monotonic()
                        poll_sent(self.state)
                except Exception:  # keep the sender alive: the outbox keeps the receipts
                    log.exception("KOMTET sender iteration failed; retrying in a moment")
                    self._stopped.wait(self.idle)

    def stop(self, timeout: float = 5.0) -> None:
        self._stopped.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout)
        super().stop()


class CeleryDispatcher(Dispatcher):
    """Queues one Celery task per receipt id on the host's Celery app (see :mod:`.celery_tasks`)."""

    mode = "celery"
    send_task: Any = None

    def notify(self, receipt_ids: Sequence[int] = ()) -> None:
        if self.send_task is None:
            raise RuntimeError("KOMTET_KASSA_DISPATCH='celery' needs kassa.init_app(app, db=db, celery=celery_app)")
        for receipt_id in receipt_ids:
            self.send_task.delay(receipt_id)


_MODES: dict[str, type[Dispatcher]] = {
    "worker": Dispatcher,
    "sync": SyncDispatcher,
    "thread": ThreadDispatcher,
    "celery": CeleryDispatcher,
}


def make_dispatcher(app: Flask, state: KassaState) -> Dispatcher:
    return _MODES[state.config.dispatch](app, state)


def _collect_ids(session: Any) -> dict[Dispatcher, list[int]]:
    pending: dict[Dispatcher, list[Any]] = session.info.pop(DISPATCH_KEY, {}) or {}
    return {d: [key[0] for key in (sa.inspect(r).identity for r in receipts) if key] for d, receipts in pending.items()}


def mark_for_dispatch(session: Any, dispatcher: Dispatcher, receipt: Any) -> None:
    """Remember that ``receipt`` should be sent once ``session`` commits."""
    session.info.setdefault(DISPATCH_KEY, {}).setdefault(dispatcher, []).append(receipt)


def unmark_for_dispatch(session: Any, dispatcher: Dispatcher, receipt: Any) -> None:
    """Forget ``receipt``: it is not to be sent after all (e.g. it now waits)."""
    pending = session.info.get(DISPATCH_KEY, {}).get(dispatcher, [])
    if receipt in pending:
        pending.remove(receipt)


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _after_commit(session: Any) -> None:
    if DISPATCH_KEY not in session.info:
        return
    for dispatcher, ids in _collect_ids(session).items():
        try:
            dispatcher.notify(ids)
        except Exception:  # the shop's commit succeeded; the outbox keeps the receipt
            log.exception("dispatching receipts after commit failed; they stay queued")


@sa.event.listens_for(sa.orm.Session, "after_rollback")
def _after_rollback(session: Any) -> None:
    session.info.pop(DISPATCH_KEY, None)
