"""When receipts are sent: after the shop's commit, by ``KOMTET_KASSA_DISPATCH``.

``thread``  a background sender thread in the web process (default)
``worker``  nothing in the web process; ``flask komtet worker`` sends
``celery``  a Celery task per receipt on the host's Celery app
``sync``    right after the commit, in the committing thread (tests, scripts)

Every dispatcher is also a :class:`~flask_komtet.posting.Poster`: it owns the
small thread pool that posts a batch of receipts to KOMTET concurrently.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from flask import Flask

from .outbox import poll_sent, send_due
from .posting import Poster

if TYPE_CHECKING:
    from .state import KassaState

__all__ = ["Dispatcher", "make_dispatcher"]

log = logging.getLogger("flask_komtet.dispatch")

BATCH = 100


class Dispatcher(Poster):
    """Base: sends nothing by itself (``worker`` mode); posts batches concurrently."""

    mode = "worker"

    def __init__(self, app: Flask, state: KassaState) -> None:
        super().__init__()
        self.app = app
        self.state = state

    def notify(self, receipt_ids: Sequence[int] = ()) -> None:
        """Called after a commit that queued receipts."""


class SyncDispatcher(Dispatcher):
    """Sends right after the commit, before ``commit()`` returns."""

    mode = "sync"

    def notify(self, receipt_ids: Sequence[int] = ()) -> None:
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
