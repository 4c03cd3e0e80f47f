"""flask_komtet: KOMTET Kassa receipts (54-ФЗ) for Flask shops."""

from __future__ import annotations

__version__ = "0.1.0"
