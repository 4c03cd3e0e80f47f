"""The outbox: the only code that creates receipts and changes their state.

Creating a receipt adds rows to the shop's own session (so the paid order and
its queued receipt commit together); sending, polling and callbacks move the
row through ``queued → sending → sent → done | error`` (or ``failed``) with
compare-and-set updates, so that any number of senders and duplicate
callbacks never send or record a receipt twice.

One module per job, each importing only those listed before it:

``records``     the latest receipt of an event, history rows, signals, sessions
``pending``     what the open transaction added and what to send after its commit
``plans``       what a receipt is and how its payload is built (external ids too)
``sources``     what a follow-up follows: the sale or settlement a refund returns, earlier refunds
``create``      receipts in the shop's transaction, routed and inserted exactly once
``settlement``  «Полный расчет» after a prepayment, waiting for it when needed
``send``        claims, leases, posting to KOMTET, fenced outcomes
``results``     callbacks and polling: ``done`` or ``error``
``actions``     a person's actions: release, re-send, preview
``codes``       a marking code sold once until returned
``marks``       codes scanned into a receipt held for them
"""

from __future__ import annotations

from .actions import preview, preview_correction, release_held, resend
from .create import (
    cashier_for,
    create_correction,
    create_refund,
    create_sale,
    create_top_up,
)
from .marks import complete_marks, waits_for_marks, with_codes
from .pending import added_in_this_transaction
from .plans import correction_key, make_external_id
from .records import replaceable
from .results import apply_result, poll_sent, refresh
from .send import client_for, send_due, send_receipt
from .settlement import create_settlement
from .sources import refunded_quantities, stored_order

__all__ = [
    "added_in_this_transaction",
    "apply_result",
    "cashier_for",
    "complete_marks",
    "client_for",
    "correction_key",
    "create_correction",
    "create_refund",
    "create_sale",
    "create_settlement",
    "create_top_up",
    "make_external_id",
    "poll_sent",
    "preview",
    "preview_correction",
    "refresh",
    "refunded_quantities",
    "release_held",
    "replaceable",
    "resend",
    "send_due",
    "send_receipt",
    "stored_order",
    "waits_for_marks",
    "with_codes",
]
