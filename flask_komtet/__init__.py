"""flask_komtet: KOMTET Kassa receipts (54-ФЗ) for Flask shops, exactly once."""

from __future__ import annotations

from . import enums, errors, signals
from .details import Agent, Supplier
from .errors import InvalidOrder, KomtetError
from .extension import KomtetKassa
from .marks import Mark
from .orders import Customer, Order, OrderAdapter, OrderLine, Payment
from .state import get_state

__version__ = "0.1.0"

__all__ = [
    "Agent",
    "Customer",
    "InvalidOrder",
    "KomtetError",
    "KomtetKassa",
    "Mark",
    "Order",
    "OrderAdapter",
    "OrderLine",
    "Payment",
    "Supplier",
    "enums",
    "errors",
    "get_state",
    "signals",
]
