"""``KassaState``: what the extension holds for one app, and :func:`get_state` to find it.

Every layer below the extension object takes the state as its first argument;
nothing stores the app globally.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import requests
import sqlalchemy as sa
from flask import Flask, current_app, has_request_context, request

from .config import KassaConfig
from .installation import TABLE, read, resolve
from .models import Models
from .orders import Order
from .registry import RegisterCache

if TYPE_CHECKING:
    from .dispatch import Dispatcher
    from .extension import KomtetKassa

__all__ = ["EXTENSION_KEY", "CashierLoader", "KassaState", "get_state"]

log = logging.getLogger("flask_komtet")

EXTENSION_KEY = "komtet_kassa"
CashierLoader = Callable[[], Any]


@dataclass
class KassaState:
    """Everything the extension knows about one app."""

    kassa: KomtetKassa
    app: Flask
    config: KassaConfig
    db: Any
    models: Models
    order_adapter: Callable[[Any], Order]
    cashier_loader: CashierLoader | None
    http: requests.Session
    dispatcher: Dispatcher
    paid_orders_loader: Callable[[Any], Any] | None = None
    order_loader: Callable[[str], Any] | None = None
    admin_access: Callable[[], bool] | None = None
    celery_tasks: tuple[Any, Any] | None = None
    admin_views: list[Any] = field(default_factory=list)
    registers: RegisterCache = field(default_factory=RegisterCache)
    #: The ``komtet_installation`` table (see :mod:`.installation`), set by ``init_app``.
    installation: sa.Table | None = None
    _prefix: str | None = field(default=None, repr=False)

    @property
    def session(self) -> Any:
        return self.db.session

    def adapt(self, shop_order: Any) -> Order:
        """The shop's order as an :class:`Order` (an ``Order`` passes through)."""
        if isinstance(shop_order, Order):
            return shop_order
        return self.order_adapter(shop_order)

    def external_id_prefix(self, *, create: bool = True) -> str:
        """How this app's external ids start: ``EXTERNAL_ID_PREFIX`` if set, else this database's installation id.

        The installation id is made in the current transaction when there is none
        (``create=False``, for previews, only reads it). Without the table (not
        migrated yet) there is no prefix, and a warning says so.
        """
        if self.config.external_id_prefix is not None:
            return self.config.external_id_prefix
        if self._prefix is not None or self.installation is None:
            return self._prefix or ""
        connection = self.session.connection()
        if not sa.inspect(connection).has_table(TABLE):
            log.warning("table %s is missing (db.create_all() or a migration): external ids have no "
                        "installation prefix, and another database on the same KOMTET account may collide", TABLE)
            return ""
        if not create:
            found = read(connection, self.installation)
            return found.prefix if found is not None else ""
        found, stored = resolve(self.session, self.installation)
        if stored:
            self._prefix = found.prefix
        return found.prefix

    def base_url(self) -> str | None:
        """The shop's public base URL: ``PUBLIC_URL``, else the current request's host."""
        if self.config.public_url:
            return self.config.public_url
        if has_request_context():
            return request.host_url.rstrip("/")
        return None

    def webhook_url(self, register_id: int, outcome: str = "success") -> str | None:
        """The URL to paste into the KOMTET cabinet (and sent as ``callback_url``)."""
        base = self.base_url()
        if base is None:
            return None
        return f"{base}{self.config.url_prefix}/{register_id}/{outcome}"


def get_state(app: Flask | None = None) -> KassaState:
    """The extension state of ``app`` (default: the current app)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        state: KassaState = app.extensions[EXTENSION_KEY]
        return state
    except KeyError:
        raise RuntimeError(
            "The current Flask app is not registered with KomtetKassa. "
            "Did you forget to call 'kassa.init_app(app, db=db)'?"
        ) from None
