"""Blinker signals. The sender is always the Flask app; receivers should accept ``**extra``.

From the shop (each is connected to the matching ``KomtetKassa`` method):

``order_paid``          kwargs: ``order`` (shop order or :class:`~flask_komtet.Order`) → ``kassa.fiscalize``
``order_refunded``      kwargs: ``order``, optional ``lines``, ``ref`` → ``kassa.refund``
``balance_topped_up``   kwargs: ``customer``, ``amount``, ``region``, optional ``ref`` → ``kassa.top_up``
``order_shipped``       kwargs: ``order`` → ``kassa.settle`` (closing receipt after a prepayment)

To the shop (``receipt`` is the ``Receipt`` row):

``receipt_queued``      a receipt row was added (state ``queued`` or ``held``)
``receipt_sent``        KOMTET accepted the task (``task_id`` is set)
``receipt_done``        fiscalized; ``receipt.fn``/``fd``/``fp`` and ``receipt.fiscal_data`` are set
``receipt_failed``      state ``error`` or ``failed``; kwargs also ``error`` (text)

To whoever watches the shop (sent by ``flask komtet worker``):

``receipts_need_attention``  something in «Сводка»'s "needs a person now" list appeared or grew;
                             kwargs: ``report`` (:class:`flask_komtet.ops.AttentionReport`)
"""

from __future__ import annotations

from blinker import Namespace

__all__ = [
    "balance_topped_up",
    "order_paid",
    "order_refunded",
    "order_shipped",
    "receipt_done",
    "receipt_failed",
    "receipt_queued",
    "receipt_sent",
    "receipts_need_attention",
]

_signals = Namespace()

order_paid = _signals.signal("order-paid", doc="The shop took payment for an order: fiscalize it.")
order_refunded = _signals.signal("order-refunded", doc="The shop refunded an order (or some lines).")
balance_topped_up = _signals.signal("balance-topped-up", doc="A customer topped up their balance.")
order_shipped = _signals.signal("order-shipped", doc="Goods handed over: send the settlement receipt.")

receipt_queued = _signals.signal("receipt-queued", doc="A receipt row was added to the outbox.")
receipt_sent = _signals.signal("receipt-sent", doc="KOMTET accepted the receipt's task.")
receipt_done = _signals.signal("receipt-done", doc="The receipt was fiscalized; fiscal data stored.")
receipt_failed = _signals.signal("receipt-failed", doc="The receipt failed (state error or failed).")

receipts_need_attention = _signals.signal(
    "receipts-need-attention", doc="Receipts that need a person appeared or grew (kwargs: report).")
