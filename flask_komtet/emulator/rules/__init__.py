"""The emulator's own rules for receipts, written from komtet_api.md, fiscal_2026.md and KOMTET's SDK.

They share no code with the builder (``flask_komtet.receipts`` / ``validation``),
so the emulator is a second opinion on what the builder sends:

* :func:`check_task`: the 422 ``VLD00`` answer, as ``(field, message)`` pairs;
* :func:`taxes_refusal`, :func:`marks_refusal`: what a register says after
  acceptance (the ``strict_taxes`` and ``fail_marks`` faults).
"""

from __future__ import annotations

from .fields import Problems
from .receipt import check_task
from .register import marks_refusal, taxes_refusal

__all__ = ["Problems", "check_task", "marks_refusal", "taxes_refusal"]
