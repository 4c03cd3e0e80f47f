"""flask-admin views for cash registers and receipts (in Russian)."""

from __future__ import annotations

from typing import Any

__all__ = ["add_admin_views"]


def add_admin_views(admin: Any, state: Any) -> list[Any]:
    """Add the extension's views to the host's ``Admin``; returns them."""
    return []
