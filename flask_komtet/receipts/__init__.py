"""Order → KOMTET v2 receipt payload: pure functions, Decimal money, exact to the kopeck.

The payload is a plain dict in KOMTET's v2 shape with ``Decimal`` amounts
(the client writes them exactly), enum wire values, and no ``None`` values.

Rules, where KOMTET leaves a choice:

* line gross = price × quantity rounded half up to kopecks; a line's own
  ``discount`` comes off that line; the order ``discount`` (coupon, bonus
  points) is spread over the goods lines in proportion to what is left
  (largest remainder, in kopecks); what exceeds the goods comes off delivery,
  so the receipt always equals what the buyer paid;
* every total stays within ``[0, gross]`` and the totals add up exactly;
* lines with a zero price (gifts) are left out; a line discounted to zero
  stays, with total 0;
* delivery is its own position (``service``), left out when free;
* on prepayment receipts (advance, 100 % or partial prepayment) VAT becomes the
  calculated rate (22 → 22/122) and the payment object is ``payment``, as
  KOMTET's own plugins send them;
* the buyer gets the receipt by email if known, else by phone (+7…, an
  extension dropped); both are sent when both are known; a receipt printed at
  the counter (``online=False``) may have no contact (``client: {}``), one for
  an Internet payment may not;
* tax cross-checks (:mod:`.taxes`): 5 %/7 % only with УСН, the buyer's INN only
  with the buyer's name, the VAT rate in force on the receipt's date (follow-ups:
  on the date of the receipt they follow, ``rates_as_of``);
* text the shop supplies (names, the buyer's name, SKUs, the cashier) loses
  its control characters and extra whitespace and is cut to KOMTET's limits
  (names 128 characters, cashier 64); a position name with nothing visible
  left becomes «Товар» («Доставка» for delivery); every other Unicode
  character is sent as is. Bad numbers, contacts and INNs are
  :class:`~flask_komtet.errors.InvalidOrder` naming the field.
"""

from __future__ import annotations

from .builder import (
    build_correction,
    build_refund,
    build_sale,
    build_settlement,
    build_top_up,
    receipt_total,
)
from .names import TEMPLATE_TAGS, check_name_template, clean_text, render_name
from .settings import Cashier, ReceiptSettings, RefundLine

__all__ = [
    "Cashier",
    "ReceiptSettings",
    "RefundLine",
    "TEMPLATE_TAGS",
    "build_correction",
    "build_refund",
    "build_sale",
    "build_settlement",
    "build_top_up",
    "check_name_template",
    "clean_text",
    "receipt_total",
    "render_name",
]
