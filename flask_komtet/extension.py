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
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any, TypedDict, Unpack

import requests
from flask import Flask

from . import outbox, signals
from .adapter import default_order_adapter
from .admin import add_admin_views
from .celery_tasks import register_celery_tasks
from .cli import komtet_cli
from .config import load_config
from .dispatch import CeleryDispatcher, make_dispatcher
from .errors import ConfigurationError
from .installation import installation_table
from .models import Models, get_models
from .monitoring import install_monitoring
from .orders import Customer, Order
from .receivers import Receivers
from .state import EXTENSION_KEY, CashierLoader, KassaState, get_state
from .webhooks import register_webhooks

__all__ = ["KassaOptions", "KomtetKassa"]

log = logging.getLogger("flask_komtet")


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
    return dict(options)


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
            order_adapter=given.get("order_adapter") or default_order_adapter,
            cashier_loader=given.get("cashier_loader"),
            http=http,
            dispatcher=None,  # type: ignore[arg-type]
            paid_orders_loader=given.get("paid_orders_loader"),
            order_loader=given.get("order_loader"),
            admin_access=given.get("admin_access"),
        )
        state.installation = installation_table(db.metadata)
        state.dispatcher = make_dispatcher(app, state)
        celery = given.get("celery")
        if celery is not None:
            state.celery_tasks = register_celery_tasks(celery, state)
            if isinstance(state.dispatcher, CeleryDispatcher):
                state.dispatcher.send_task = state.celery_tasks[0]
        app.extensions[EXTENSION_KEY] = state

        register_webhooks(app, state)
        install_monitoring(app, state)  # Prometheus metrics when KOMTET_KASSA_METRICS_PATH is set
        app.cli.add_command(komtet_cli)
        self._connect_signals(app)

        admin = given.get("admin")
        if admin is None:
            admins = app.extensions.get("admin") or []
            admin = admins[0] if len(admins) == 1 else None
        if admin:
            state.admin_views = add_admin_views(admin, state)
        return state

    # -- signals -------------------------------------------------------------------

    def _connect_signals(self, app: Flask) -> None:
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
        receipt = outbox.create_sale(state, order, register=register, manual=manual)
        if outbox.waits_for_marks(receipt) and not outbox.added_in_this_transaction(state.session, receipt):
            try:  # held for marking codes: the order given again may carry them now
                outbox.complete_marks(state, receipt, (), order=state.adapt(order))
            except (ValueError, TypeError):
                log.warning("receipt %s still waits for marking codes", receipt.external_id, exc_info=True)
        return receipt

    def refund(self, order: Any, lines: Sequence[Any] | None = None, *, ref: str | None = None) -> Any:
        """Queue a refund receipt (``sellReturn``): all that is not refunded yet, or ``lines``.

        ``lines``: indices into ``order.lines`` (or ``"delivery"``), ``{"index": …, "quantity": …}``,
        ``RefundLine`` or the order's own ``OrderLine`` objects; for marked goods
        ``{"index": …, "marks": [code, …]}`` names the units (default: the last ones sold). The positions are copied from the
        receipt the refund returns (its rate, method and object; see ``docs/receipts.md``), and no
        refund goes past what was sold: that, or lines it cannot read, is kept as a ``failed`` receipt
        naming why; this never raises. ``ref`` identifies the refund event (the shop's refund id);
        repeated calls with the same ``ref`` (or, without one, the same lines) return one receipt.
        """
        state = get_state()
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
        return outbox.create_top_up(state, customer, amount, region=region, ref=ref, online=online)

    def complete_marks(self, receipt: Any, codes: Sequence[Any]) -> Any:
        """Scan marking codes into a receipt ``held`` for them (one per unit, in the order of lines and units).

        Complete, it is queued (sent after the commit); otherwise it stays held saying what is missing.
        Raises ``ValueError`` naming a code it cannot take (see ``docs/marks.md``).
        """
        return outbox.complete_marks(get_state(), receipt, codes)

    def settle(self, order: Any) -> Any:
        """Queue the settlement receipt («Полный расчет») after a prepayment receipt."""
        state = get_state()
        return outbox.create_settlement(state, order)

    def correct(self, order: Any, *, intent: str = "sellCorrection", correction_type: str = "self",
                base_date: Any, base_number: str | None = None, register: Any = None,
                authorised_person: Any = None) -> Any:
        """Queue a correction receipt (``sellCorrection`` or ``sellReturnCorrection``), FFD 1.2.

        ``correction_type``: ``"self"`` (самостоятельно) or ``"instruction"`` (по предписанию).
        ``base_date`` (a ``date``) is the date of the settlement being corrected (tag 1178); its VAT
        applies. ``base_number`` is the tax authority's instruction number (tag 1179), required for and
        sent only with ``"instruction"``. ``authorised_person``: ``Cashier(name, inn)`` or ``(name, inn)``,
        who signs the correction (the SDK's ``set_authorised_person``).
        """
        state = get_state()
        return outbox.create_correction(state, order, intent=intent, correction_type=correction_type,
                                        base_date=base_date, base_number=base_number, register=register,
                                        authorised_person=authorised_person)

    def send_pending(self, limit: int = 100) -> int:
        """Send what is due now, in this thread; returns how many receipts were tried."""
        state = get_state()
        return outbox.send_due(state, limit=limit)

    def poll(self, older_than: float | None = None, limit: int = 100) -> int:
        """Ask KOMTET about receipts sent without an answer; returns how many changed."""
        state = get_state()
        return outbox.poll_sent(state, older_than=older_than, limit=limit)
