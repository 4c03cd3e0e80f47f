"""Receivers that connect the shop's signals to ``KomtetKassa`` methods.

They never raise into the shop's payment handler: a bad order becomes a
``failed`` receipt (see the outbox), and anything unexpected is logged and
announced with ``receipt_failed`` (``receipt=None``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import signals

if TYPE_CHECKING:
    from .extension import KomtetKassa

log = logging.getLogger("flask_komtet")


class Receivers:
    """Bound methods, so that blinker's weak references stay alive with the extension."""

    def __init__(self, kassa: KomtetKassa) -> None:
        self.kassa = kassa

    def order_paid(self, sender: Any, order: Any = None, **extra: Any) -> Any:
        return self._safely(sender, "order_paid", lambda: self.kassa.fiscalize(order))

    def order_refunded(self, sender: Any, order: Any = None, lines: Any = None, ref: Any = None, **extra: Any) -> Any:
        return self._safely(sender, "order_refunded", lambda: self.kassa.refund(order, lines, ref=ref))

    def balance_topped_up(self, sender: Any, customer: Any = None, amount: Any = None, region: Any = None,
                          ref: Any = None, **extra: Any) -> Any:
        return self._safely(sender, "balance_topped_up",
                            lambda: self.kassa.top_up(customer, amount, region=region, ref=ref))

    def order_shipped(self, sender: Any, order: Any = None, **extra: Any) -> Any:
        return self._safely(sender, "order_shipped", lambda: self.kassa.settle(order))

    @staticmethod
    def _safely(sender: Any, name: str, call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as exc:
            log.exception("flask_komtet: handling %s failed; the payment handler goes on", name)
            try:
                signals.receipt_failed.send(sender, receipt=None, error=f"{type(exc).__name__}: {exc}")
            except Exception:
                log.exception("a receiver of receipt_failed raised")
            return None
