"""The emulator's own rules for receipts, written from komtet_api.md, fiscal_2026.md and KOMTET's SDK.

They share no code with the builder (``flask_komtet.receipts`` / ``validation``),
so the emulator is a second opinion on what the builder sends:

* :func:`check_task`: the 422 ``VLD00`` answer, as ``(field, message)`` pairs.
"""

from __future__ import annotations

from .fields import Problems
from .receipt import check_task

__all__ = ["Problems", "check_task"]
