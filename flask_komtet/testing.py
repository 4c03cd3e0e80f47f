"""Testing a shop with the KOMTET emulator: :class:`TestKassa` brings every receipt to ``done``.

::

    from flask_komtet.testing import TestKassa

    with TestKassa() as komtet:                    # KOMTET Kassa on loopback, shop "test-shop", queue 1
        komtet.add_register(app, region="msk")     # a register of the app pointing at it
        ...                                        # the shop marks an order paid
        [receipt] = komtet.complete_all(app)       # sent, fiscalized, callback delivered: done

It sends no callback over HTTP, so nothing ever reaches the shop's
``KOMTET_KASSA_PUBLIC_URL`` (a developer's running server, a real site):
:meth:`TestKassa.complete_all` hands each callback to the app under test
through its test client, signed with the register's secret, the way KOMTET
would deliver it. The pytest fixture ``komtet_emulator`` is one of these.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import Flask

from .emulator import KomtetEmulator
from .enums import ReceiptState
from .outbox import send_due
from .signing import sign
from .state import get_state

__all__ = ["TEST_QUEUE", "TEST_SECRET", "TEST_SHOP_ID", "TestKassa"]

TEST_SHOP_ID, TEST_SECRET, TEST_QUEUE = "test-shop", "test-secret", 1
_UNSENT = (ReceiptState.QUEUED.value, ReceiptState.SENDING.value)


class TestKassa(KomtetEmulator):
    """The emulator with the test shop, no HTTP callbacks, and the two steps a shop's test needs.

    Keyword arguments are the emulator's (``delay=None`` keeps tasks ``new``
    until :meth:`complete_all`; faults such as ``error_rate``).
    """

    __test__ = False  # not a test class for pytest

    shop_id, secret, queue_id = TEST_SHOP_ID, TEST_SECRET, TEST_QUEUE

    def __init__(self, **options: Any) -> None:
        options.setdefault("delay", 0.02)
        options.setdefault("callback_loss_rate", 1.0)  # callbacks go into the app through complete_all
        super().__init__(**options)
        self.add_shop(self.shop_id, self.secret, (self.queue_id,))

    def __enter__(self) -> TestKassa:
        self.start()
        return self

    def add_register(self, app: Flask, region: str = "msk", **settings: Any) -> Any:
        """Add (and commit) a ``CashRegister`` of this emulator's shop serving ``region``; returns it."""
        values = dict(name=f"Тестовая касса {region}", region=region, shop_id=self.shop_id, secret=self.secret,
                      queue_id=self.queue_id, api_url=self.url, payment_address="https://shop.test")
        with app.app_context():
            state = get_state(app)
            register = state.models.CashRegister(**(values | settings))
            state.session.add(register)
            state.session.commit()
            state.session.refresh(register)
            state.session.expunge(register)
            return register

    def complete_all(self, app: Flask, *, timeout: float = 10.0, check: bool = True) -> list[Any]:
        """Bring every receipt of ``app`` to its end: send what is due, let KOMTET fiscalize, deliver callbacks.

        Returns the receipts (detached, oldest first). With ``check`` (the
        default) an ``AssertionError`` lists any receipt that is not ``done``
        (held, failed, error…) with its last error.
        """
        with app.app_context():
            state = get_state(app)
            Receipt = state.models.Receipt
            deadline = time.monotonic() + timeout
            while True:  # what is due now (a background sender may hold some for a moment)
                send_due(state, limit=100)
                unsent = state.session.scalar(sa.select(sa.func.count()).where(Receipt.state.in_(_UNSENT)))
                state.session.rollback()
                if not unsent or time.monotonic() > deadline:
                    break
                time.sleep(0.02)
            self.wait_idle(max(0.1, deadline - time.monotonic()))  # KOMTET fiscalizes what it accepted
            for task in self.tasks():  # tasks an emulator with delay=None keeps "new" until told
                if task.state == "new":
                    error = self.state.outcome(self.shop(task.shop_id), task)
                    self.finish_task(task.id, "error" if error else "done", error)
            sent = state.session.scalars(sa.select(Receipt).where(Receipt.state == ReceiptState.SENT.value)).all()
            deliveries = [(r.register_id, r.register.secret, r.task_id) for r in sent if r.register is not None]
            state.session.rollback()
        for register_id, secret, task_id in deliveries:
            self.deliver_callback(app, register_id, secret, task_id)
        with app.app_context():
            state = get_state(app)
            receipts = state.session.scalars(sa.select(state.models.Receipt).order_by("id")).all()
            for receipt in receipts:
                state.session.expunge(receipt)
        if check:
            unfinished = [f"{r.external_id}: {r.state} ({r.last_error or 'без ошибки'})" for r in receipts
                          if r.state != ReceiptState.DONE.value]
            assert not unfinished, "receipts not done: " + "; ".join(unfinished)
        return list(receipts)

    def deliver_callback(self, app: Flask, register_id: int, secret: str, task_id: int) -> int:
        """POST task ``task_id``'s callback, signed with ``secret``, to ``app``'s webhook; returns the HTTP status."""
        task = self.tasks_by_id().get(task_id)
        if task is None or task.state == "new":
            return 0
        body = json.dumps(task.info(), ensure_ascii=False).encode()
        state = get_state(app)
        base = state.config.public_url or "http://localhost"
        outcome = "success" if task.state == "done" else "failure"
        url = f"{base}{state.config.url_prefix}/{register_id}/{outcome}"
        parts = urlsplit(url)
        response = app.test_client().post(
            parts.path, base_url=f"{parts.scheme}://{parts.netloc}", data=body,
            headers={"Content-Type": "application/json", "X-HMAC-Signature": sign(secret, "POST", url, body)})
        return response.status_code

    def tasks_by_id(self) -> dict[int, Any]:
        return {task.id: task for task in self.tasks()}
