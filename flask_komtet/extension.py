"""``KomtetKassa``: the extension object, in the flask-sqlalchemy style.

One object may serve several apps; per-app state lives in
``app.extensions["komtet_kassa"]`` and the app is never stored on the object::

    kassa = KomtetKassa()

    def create_app():
        app = Flask(__name__)
        db.init_app(app)
        kassa.init_app(app, db=db, admin=admin, order_adapter=order_from_shop)
        return app
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable, Sequence, TypedDict, Unpack

import requests
from flask import Flask, current_app, has_request_context, request

from . import signals
from .config import KassaConfig, load_config
from .errors import ConfigurationError
from .models import Models, get_models
from .orders import Customer, Order
from .registry import RegisterCache

if TYPE_CHECKING:
    from .dispatch import Dispatcher

__all__ = ["KassaOptions", "KassaState", "KomtetKassa", "get_state"]

EXTENSION_KEY = "komtet_kassa"
log = logging.getLogger("flask_komtet")

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

    @property
    def session(self) -> Any:
        return self.db.session

    def adapt(self, shop_order: Any) -> Order:
        """The shop's order as an :class:`Order` (an ``Order`` passes through)."""
        if isinstance(shop_order, Order):
            return shop_order
        return self.order_adapter(shop_order)

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
        return app.extensions[EXTENSION_KEY]
    except KeyError:
        raise RuntimeError(
            "The current Flask app is not registered with KomtetKassa. "
            "Did you forget to call 'kassa.init_app(app, db=db)'?"
        ) from None


def _default_adapter(shop_order: Any) -> Order:
    from .orders import default_order_adapter

    return default_order_adapter(shop_order)


class KassaOptions(TypedDict, total=False):
    """The keyword options of :class:`KomtetKassa` and :meth:`KomtetKassa.init_app` (documented there)."""

    db: Any
    admin: Any
    order_adapter: Callable[[Any], Order] | None
    cashier_loader: CashierLoader | None
    paid_orders_loader: Callable[[Any], Any] | None
    order_loader: Callable[[str], Any] | None
    admin_access: Callable[[], bool] | None
    celery: Any


def _checked(options: Any) -> dict[str, Any]:
    unknown = sorted(set(options) - set(KassaOptions.__annotations__))
    if unknown:
        raise TypeError(f"KomtetKassa got unknown options {unknown}; known: {sorted(KassaOptions.__annotations__)}")
    return options


class KomtetKassa:
    """Connects a Flask shop to KOMTET Kassa.

    :param app: the app to initialise now (or call :meth:`init_app` later).
    :param db: the host's Flask-SQLAlchemy object (default: ``app.extensions["sqlalchemy"]``).
    :param admin: the host's flask-admin ``Admin``; the cash register and receipt
        views are added to it. ``None`` uses the app's only Admin if there is one;
        ``False`` adds no views.
    :param order_adapter: ``shop_order -> Order``; the default reads obvious attribute names.
    :param cashier_loader: ``() -> Cashier | (name, inn) | None``, the user who took
        the payment (AlfaCRM's cashier from the CRM user); default: the register's cashier.
    :param paid_orders_loader: ``since -> iterable of shop orders`` paid since a datetime,
        for ``flask komtet reconcile``.
    :param order_loader: ``order ref -> shop order or None``, so the admin can fiscalize
        an order by its number («Фискализировать»).
    :param admin_access: ``() -> bool``, who may open the extension's admin views;
        default: the host Admin's own index view rule (``admin.index_view.is_accessible``).
    :param celery: the host's Celery app, for ``KOMTET_KASSA_DISPATCH = "celery"``
        (see :mod:`flask_komtet.celery_tasks`).
    """

    def __init__(self, app: Flask | None = None, **options: Unpack[KassaOptions]) -> None:
        self.options = _checked(options)
        self._receivers: dict[int, Any] = {}
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask, **options: Unpack[KassaOptions]) -> KassaState:
        """Wire config, models, webhooks, admin views, CLI and signal receivers into ``app``.

        ``options`` given here win over those given to the constructor.
        """
        if EXTENSION_KEY in app.extensions:
            raise RuntimeError(
                "A 'KomtetKassa' instance has already been registered on this Flask app. "
                "Import and use that instance instead."
            )
        given: dict[str, Any] = {**self.options, **{k: v for k, v in _checked(options).items() if v is not None}}
        db = given.get("db") or app.extensions.get("sqlalchemy")
        if db is None:
            raise ConfigurationError(
                "KomtetKassa needs the shop's Flask-SQLAlchemy object: init_app(app, db=db)"
            )
        config = load_config(app.config)
        from .dispatch import make_dispatcher

        http = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=16, pool_maxsize=32)
        http.mount("http://", adapter)
        http.mount("https://", adapter)
        state = KassaState(
            kassa=self,
            app=app,
            config=config,
            db=db,
            models=get_models(db),
            order_adapter=given.get("order_adapter") or _default_adapter,
            cashier_loader=given.get("cashier_loader"),
            http=http,
            dispatcher=None,  # type: ignore[arg-type]
            paid_orders_loader=given.get("paid_orders_loader"),
            order_loader=given.get("order_loader"),
            admin_access=given.get("admin_access"),
        )
        state.dispatcher = make_dispatcher(app, state)
        celery = given.get("celery")
        if celery is not None:
            from .celery_tasks import register_celery_tasks

            state.celery_tasks = register_celery_tasks(celery, state)
            state.dispatcher.send_task = state.celery_tasks[0]
        app.extensions[EXTENSION_KEY] = state

        from .webhooks import register_webhooks

        register_webhooks(app, state)
        from .cli import komtet_cli

        app.cli.add_command(komtet_cli)
        self._connect_signals(app)

        admin = given.get("admin")
        if admin is None:
            admins = app.extensions.get("admin") or []
            admin = admins[0] if len(admins) == 1 else None
        if admin:
            from .admin import add_admin_views

            state.admin_views = add_admin_views(admin, state)
        return state

    # -- signals -------------------------------------------------------------------

    def _connect_signals(self, app: Flask) -> None:
        from .receivers import Receivers

        receivers = Receivers(self)
        self._receivers[id(app)] = receivers  # blinker holds receivers weakly
        signals.order_paid.connect(receivers.order_paid, sender=app)
        signals.order_refunded.connect(receivers.order_refunded, sender=app)
        signals.balance_topped_up.connect(receivers.balance_topped_up, sender=app)
        signals.order_shipped.connect(receivers.order_shipped, sender=app)

    # -- public API ----------------------------------------------------------------

    @property
    def state(self) -> KassaState:
        """The current app's state."""
        return get_state()

    @property
    def models(self) -> Models:
        """``CashRegister``, ``Receipt`` and ``ReceiptEvent`` of the current app."""
        return get_state().models

    def fiscalize(self, order: Any, *, register: Any = None, manual: bool = False) -> Any:
        """Queue the sale receipt of a paid order in the current transaction.

        Returns the ``Receipt`` row. Calling it again for the same order returns
        the same receipt. Nothing is sent until the shop commits. ``manual=True``
        (a person asked: cash at the counter, the admin's «Фискализировать»)
        sends it even on a register that does not auto-fiscalize.
        """
        state = get_state()
        from . import outbox

        return outbox.create_sale(state, order, register=register, manual=manual)

    def refund(self, order: Any, lines: Sequence[Any] | None = None, *, ref: str | None = None) -> Any:
        """Queue a refund receipt (``sellReturn``): the whole order, or ``lines``.

        ``ref`` identifies the refund event (the shop's refund id); repeated calls
        with the same ``ref`` (or, without one, the same lines) return one receipt.
        """
        state = get_state()
        from . import outbox

        return outbox.create_refund(state, order, lines=lines, ref=ref)

    def top_up(
        self,
        customer: Customer | Any,
        amount: Decimal | int | str,
        *,
        region: str | None = None,
        ref: str | None = None,
        online: bool = True,
    ) -> Any:
        """Queue a balance top-up receipt (one position, the register's top-up settings).

        ``ref`` is the shop's payment id; repeated calls with it return one receipt.
        """
        state = get_state()
        from . import outbox

        return outbox.create_top_up(state, customer, amount, region=region, ref=ref, online=online)

    def settle(self, order: Any) -> Any:
        """Queue the settlement receipt («Полный расчет») after a prepayment receipt."""
        state = get_state()
        from . import outbox

        return outbox.create_settlement(state, order)

    def correct(self, order: Any, *, intent: str = "sellCorrection", correction_type: str = "self",
                base_date: Any, base_number: str | None = None, register: Any = None) -> Any:
        """Queue a correction receipt (``sellCorrection`` or ``sellReturnCorrection``).

        ``correction_type``: ``"self"`` (самостоятельно) or ``"instruction"`` (по предписанию);
        ``base_date`` (a ``date``) and ``base_number`` name the document it rests on.
        """
        state = get_state()
        from . import outbox

        return outbox.create_correction(state, order, intent=intent, correction_type=correction_type,
                                        base_date=base_date, base_number=base_number, register=register)

    def send_pending(self, limit: int = 100) -> int:
        """Send what is due now, in this thread; returns how many receipts were tried."""
        state = get_state()
        from . import outbox

        return outbox.send_due(state, limit=limit)

    def poll(self, older_than: float | None = None, limit: int = 100) -> int:
        """Ask KOMTET about receipts sent without an answer; returns how many changed."""
        state = get_state()
        from . import outbox

        return outbox.poll_sent(state, older_than=older_than, limit=limit)
