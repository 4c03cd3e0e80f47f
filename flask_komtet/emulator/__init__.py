"""A KOMTET Kassa shop API server for development, tests and benchmarks.

::

    with KomtetEmulator(delay=0.05) as emu:
        emu.add_shop(shop_id="shop-1", secret="secret", queues=(1,),
                     success_url="http://127.0.0.1:5000/komtet/1/success")
        ...  # point the client (or a register's API URL) at emu.url
        emu.tasks(), emu.submissions("sale-1-1"), emu.callbacks()

It authenticates and validates like the real service (komtet_api.md), turns
tasks ``done`` (with fiscal data) or ``error`` after ``delay`` seconds, sends
signed callbacks, and fails on demand (``set_faults``). ``delay=None`` leaves
tasks ``new`` until :meth:`KomtetEmulator.finish_task`.

Its rules are its own (:mod:`flask_komtet.emulator.rules`): the package
imports nothing else from ``flask_komtet``, so it is a second opinion on the
builder. Two faults play a register that refuses after acceptance:
``strict_taxes=True`` (a VAT cross-check fails, e.g. 20 % on a 2026 sale) and
``fail_marks=REGEX`` (a mark code fails its check).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import Any

from .server import EmulatorServer
from .state import CallbackRecord, EmulatedShop, EmulatorState, Faults, TaskRecord

__all__ = ["CallbackRecord", "EmulatedShop", "Faults", "KomtetEmulator", "TaskRecord"]


class KomtetEmulator:
    """The emulator, served on a loopback port in background threads."""

    def __init__(self, shops: Iterable[EmulatedShop | dict[str, Any]] | None = None, *, host: str = "127.0.0.1",
                 port: int = 0, delay: float | None = 0.05, seed: int | None = None, **faults: Any) -> None:
        self.state = EmulatorState(seed=seed, delay=delay)
        self.set_faults(**faults)
        self._host, self._port = host, port
        self._server: EmulatorServer | None = None
        for shop in shops or ():
            self.add_shop(**shop) if isinstance(shop, dict) else self._register(shop)

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> KomtetEmulator:
        if self._server is None:
            self._server = EmulatorServer(self.state, self._host, self._port)
            self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> KomtetEmulator:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: the API URL to give the client."""
        if self._server is None:
            raise RuntimeError("the emulator is not running: call start() or use it as a context manager")
        return self._server.url

    # -- shops and queues ----------------------------------------------------------

    def add_shop(self, shop_id: str, secret: str, queues: Iterable[int] = (1,), *, success_url: str | None = None,
                 failure_url: str | None = None, delay: float | None = None) -> EmulatedShop:
        return self._register(EmulatedShop(str(shop_id), secret, {int(q): "active" for q in queues},
                                           success_url, failure_url, delay))

    def _register(self, shop: EmulatedShop) -> EmulatedShop:
        with self.state.lock:
            self.state.shops[shop.shop_id] = shop
        return shop

    def shop(self, shop_id: str) -> EmulatedShop:
        return self.state.shops[shop_id]

    def set_queue_state(self, shop_id: str, queue_id: int, state: str) -> None:
        if state not in ("active", "passive"):
            raise ValueError("queue state is 'active' or 'passive'")
        self.state.shops[shop_id].queues[int(queue_id)] = state

    # -- faults and rules ----------------------------------------------------------

    def set_faults(self, **faults: Any) -> None:
        """Set any :class:`Faults` field, e.g. ``error_rate=0.3, callback_reorder=True``."""
        unknown = set(faults) - set(Faults.__dataclass_fields__)
        if unknown:
            raise TypeError(f"unknown faults: {', '.join(sorted(unknown))}")
        if faults.get("fail_marks"):
            re.compile(faults["fail_marks"])  # a bad pattern fails here, not in the processing thread
        with self.state.lock:
            for name, value in faults.items():
                setattr(self.state.faults, name, value)

    def clear_faults(self) -> None:
        with self.state.lock:
            self.state.faults = Faults()

    def fail_external_ids(self, pattern: str, description: str = "Ошибка регистрации позиции") -> None:
        """Tasks whose external id matches ``pattern`` end in ``error`` with ``description``."""
        with self.state.lock:
            self.state.fail_rules.append((re.compile(pattern), description))

    def finish_task(self, task_id: int, state: str = "done", error_description: str | None = None) -> None:
        """Process a task by hand (with ``delay=None``)."""
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        self._server.finish(self.state.tasks[task_id], state, error_description)

    # -- inspection ----------------------------------------------------------------

    def tasks(self, shop_id: str | None = None) -> list[TaskRecord]:
        with self.state.lock:
            return [t for t in self.state.tasks.values() if shop_id is None or t.shop_id == shop_id]

    def task(self, task_id: int) -> TaskRecord:
        return self.state.tasks[task_id]

    def task_by_external_id(self, shop_id: str, external_id: str) -> TaskRecord | None:
        task_id = self.state.by_external_id.get((shop_id, external_id))
        return None if task_id is None else self.state.tasks[task_id]

    def submissions(self, external_id: str, shop_id: str | None = None) -> int:
        """How many POSTs carried ``external_id`` (accepted, duplicate or invalid)."""
        with self.state.lock:
            return sum(n for (shop, ext), n in self.state.submissions.items()
                       if ext == external_id and (shop_id is None or shop == shop_id))

    def callbacks(self) -> list[CallbackRecord]:
        with self.state.lock:
            return list(self.state.callbacks)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every processable task is final and every callback delivered (or given up)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._server is None or self._server.idle():
                return True
            time.sleep(0.02)
        return False

    def reset(self) -> None:
        """Forget every task, submission, callback and rule (shops and queues stay)."""
        with self.state.lock:
            self.state.tasks.clear()
            self.state.by_external_id.clear()
            self.state.submissions.clear()
            self.state.callbacks.clear()
            self.state.fail_rules.clear()
