"""The extension's admin is closed by default, speaks Russian (flask-admin's own texts too) and names its time zone."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from flask import session
from flask_admin import Admin, AdminIndexView

from flask_komtet import KomtetKassa
from flask_komtet.admin.base import OPEN_IN_DEBUG
from flask_komtet.state import get_state
from tests.shop_fixtures import add_register
from tests.test_admin import PAGES, REGISTERS, AdminClient, register_data, text

RECEIPTS = "/admin/komtet_receipts/"


def _shop(make_app: Any, *, index_view: Any = None, debug: bool = False, config: Any = None,
          **options: Any) -> tuple[Any, Any, Any]:
    app, db, kassa = make_app(init=False, **(config or {}))
    app.debug = debug
    admin = Admin(app, name="Магазин", index_view=index_view)
    kassa.init_app(app, db=db, admin=admin, **options)
    with app.app_context():
        db.create_all()
    return app, db, kassa


def test_an_anonymous_visitor_is_refused_everything_by_default(make_app) -> None:
    app, db, kassa = _shop(make_app)
    client = app.test_client()
    for url in PAGES:
        assert client.get(url).status_code == 403, url
    assert client.post(REGISTERS + "new/", data=register_data()).status_code == 403
    assert client.post(RECEIPTS + "run/", data={"id": 1, "op": "send"}).status_code == 403
    assert "Онлайн-кассы" not in client.get("/admin/").get_data(as_text=True)
    with app.app_context():
        assert db.session.query(get_state(app).models.CashRegister).count() == 0


def test_admin_access_opens_them(make_app) -> None:
    app, db, kassa = _shop(make_app, admin_access=lambda: True)
    for url in PAGES:
        assert app.test_client().get(url).status_code == 200, url


class LoginIndex(AdminIndexView):
    """The one-line rule of a host with Flask-Login, ``current_user.is_authenticated``, played by the session."""

    def is_accessible(self) -> bool:
        return bool(session.get("user"))


def test_the_host_index_views_own_rule_guards_them(make_app) -> None:
    app, db, kassa = _shop(make_app, index_view=LoginIndex())
    client = app.test_client()
    assert client.get(REGISTERS).status_code == 403
    with client.session_transaction() as s:
        s["user"] = "manager"
    assert client.get(REGISTERS).status_code == 200


def test_in_debug_mode_they_open_with_a_warning_and_a_banner(make_app, caplog) -> None:
    app, db, kassa = _shop(make_app, debug=True)
    with caplog.at_level(logging.WARNING, logger="flask_komtet.admin"):
        page = app.test_client().get(REGISTERS)
    assert page.status_code == 200
    assert OPEN_IN_DEBUG in text(page.get_data(as_text=True))
    assert any(OPEN_IN_DEBUG in r.getMessage() and r.levelno == logging.WARNING for r in caplog.records)
    closed, _, _ = _shop(make_app, debug=False)
    assert closed.test_client().get(REGISTERS).status_code == 403


def test_flask_admins_own_texts_are_russian(make_app) -> None:
    app, db, kassa = _shop(make_app, admin_access=lambda: True, config={"REGIONS": {"msk": "Москва"}})
    with app.app_context():
        add_register(db, get_state(app).models)
    client = AdminClient(app)
    raw = client.get(REGISTERS)  # the delete confirmation is in an attribute: the raw HTML
    assert "Вы уверены что хотите удалить эту запись?" in raw and "Are you sure" not in raw
    receipts = text(client.get(RECEIPTS))
    assert "50 на странице" in receipts and "20 на странице" in receipts
    for english in ("items", "List", "Create", "Delete", "Filter", "Search"):
        assert f" {english} " not in f" {receipts} ", english


def test_times_are_shown_in_the_configured_zone_with_its_name(make_app) -> None:
    from flask_komtet.admin.base import format_moment

    app, db, kassa = make_app(TIMEZONE="Asia/Yekaterinburg")
    with app.app_context():
        assert format_moment(datetime(2026, 12, 3, 11, 31, 5)) == "03.12.2026 16:31:05 +05"
    app2, _, _ = make_app()
    with app2.app_context():
        assert format_moment(datetime(2026, 12, 3, 11, 31, 5)) == "03.12.2026 14:31:05 MSK"


def test_an_unknown_time_zone_is_refused_by_name(make_app) -> None:
    import pytest

    from flask_komtet.errors import ConfigurationError

    app, db, _ = make_app(init=False, TIMEZONE="Moscow/Europe")
    with pytest.raises(ConfigurationError, match="KOMTET_KASSA_TIMEZONE"):
        KomtetKassa().init_app(app, db=db)
