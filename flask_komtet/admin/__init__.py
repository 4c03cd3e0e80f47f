"""flask-admin screens for the shop's manager, in Russian with the terms of KOMTET's own help pages.

``kassa.init_app(app, db=db, admin=admin)`` adds three views to the host's
``Admin`` (flask-admin ≥ 2.1), under the menu category
``KOMTET_KASSA_ADMIN_CATEGORY`` («Онлайн-кассы»):

================  =============================  ===============================================
Endpoint          Menu item                      What it does
================  =============================  ===============================================
komtet_registers  «Онлайн-кассы»                 cash registers: list, form, webhook URLs with
                                                 «Копировать», «Проверить очередь»
komtet_receipts   «Чеки»                         receipts: states, filters, search, details with
                                                 «Чеки заказа», «Отправить сейчас», «Повторить
                                                 отправку», «Обновить состояние», «Оформить возврат»
komtet_fiscalize  «Фискализировать заказ»        a receipt by hand, previewed before it is sent;
                  and «Чек коррекции»            its page ``/correction/``: a correction receipt
================  =============================  ===============================================

Access
------
Who may open these views is decided, in this order, by:

1. ``admin_access``, a ``() -> bool`` callable given to ``KomtetKassa(...)`` or
   ``init_app(..., admin_access=...)``, e.g. ``lambda: current_user.is_authenticated``
   (Flask-Login) or ``lambda: current_user.has_role("admin")`` (Flask-Security);
2. otherwise the host Admin's own rule, if its index view's class overrides
   ``is_accessible`` (so an ``AdminIndexView`` subclass that checks the login
   guards these screens too);
3. otherwise nobody: closed by default. Only in debug mode (``app.debug``)
   do they open, with a WARNING in the log and a red banner on every page.

A refused request gets the host index view's ``inaccessible_callback`` (a
redirect to the login page, a 401 prompt…), flask-admin's default being 403.

Language
--------
The views run under Flask-Babel's ``force_locale("ru")``, so flask-admin's own
texts come from the Russian catalogue it ships. If the app has no Flask-Babel
yet, one is initialised (``BABEL_DEFAULT_LOCALE`` default ``"ru"``).

CSRF
----
Every form and every action button posts a CSRF token (flask-admin's
``SecureForm``, bound to the session), so the app needs a ``SECRET_KEY``. The
Secret of a cash register is write-only: it is never rendered, listed,
exported or shown on a details page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flask import Blueprint, message_flashed, request
from flask_admin.menu import MenuLink
from flask_babel import Babel  # type: ignore[import-untyped]  # Flask-Babel ships no type hints

from .base import translate_flashes
from .fiscalize import FiscalizeView
from .receipts import ReceiptView
from .registers import CashRegisterView
from .summary import SummaryView

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["ENDPOINTS", "PageLink", "add_admin_views"]

ENDPOINTS = {"registers": "komtet_registers", "receipts": "komtet_receipts", "fiscalize": "komtet_fiscalize",
             "summary": "komtet_summary"}
_TEMPLATES = "komtet_kassa_admin_templates"


def add_admin_views(admin: Any, state: KassaState) -> list[Any]:
    """Add the extension's views (new instances, bound to ``state``) to ``admin``; returns them."""
    app = state.app
    if _TEMPLATES not in app.blueprints:
        app.register_blueprint(Blueprint(_TEMPLATES, __name__, template_folder="templates"))
    if "babel" not in app.extensions:  # flask-admin's translations need Flask-Babel on the app
        Babel(app, default_locale="ru", configure_jinja=False)
    category = state.config.admin_category
    fiscalize = FiscalizeView(state, name="Фискализировать заказ", category=category,
                              endpoint=ENDPOINTS["fiscalize"])
    fiscalize.receipts_endpoint = ENDPOINTS["receipts"]
    receipts = ReceiptView(state, name="Чеки", category=category, endpoint=ENDPOINTS["receipts"])
    receipts.correction_endpoint = f"{ENDPOINTS['fiscalize']}.correction"
    views = [
        SummaryView(state, name="Сводка", category=category, endpoint=ENDPOINTS["summary"]),  # «Сводка» first
        CashRegisterView(state, name="Онлайн-кассы", category=category, endpoint=ENDPOINTS["registers"]),
        receipts,
        fiscalize,
    ]
    for view in views:
        admin.add_view(view)
    admin.add_link(PageLink("Чек коррекции", fiscalize, "correction", category=category))
    message_flashed.connect(translate_flashes(set(ENDPOINTS.values())), app, weak=False)
    return views


class PageLink(MenuLink):  # type: ignore[misc]  # flask-admin is untyped
    """A menu item for another page of ``view``, shown to whoever may open the view."""

    def __init__(self, name: str, view: Any, page: str, *, category: str | None) -> None:
        super().__init__(name, endpoint=f"{view.endpoint}.{page}", category=category)
        self.view = view

    def is_accessible(self) -> bool:
        return bool(self.view.is_accessible())

    def is_active(self, view: Any) -> bool:
        return bool(request.endpoint == self.endpoint)
