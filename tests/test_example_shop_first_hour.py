"""The example shop follows the rules a new shop should: a closed admin, times in its zone with the zone named."""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path

from example_shop import create_app, db
from example_shop.formatting import moment

REMOTE = {"REMOTE_ADDR": "203.0.113.7"}
PAGES = ("/admin/", "/admin/komtet_registers/", "/admin/komtet_receipts/")


def _app(tmp_path: Path, **config):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'shop.sqlite'}", "SECRET_KEY": "test",
                      "KOMTET_KASSA_DISPATCH": "sync", **config})
    with app.app_context():
        db.create_all()
    return app


def test_without_a_password_the_back_office_answers_only_this_machine(tmp_path: Path) -> None:
    client = _app(tmp_path).test_client()
    for url in PAGES:
        assert client.get(url).status_code == 200, url                              # loopback: the demo
        assert client.get(url, environ_base=REMOTE).status_code == 401, url         # anyone else: refused


def test_with_a_password_everyone_must_give_it(tmp_path: Path) -> None:
    client = _app(tmp_path, SHOP_ADMIN_PASSWORD="tea").test_client()
    auth = {"Authorization": "Basic " + base64.b64encode(b"admin:tea").decode()}
    for url in PAGES:
        assert client.get(url).status_code == 401, url
        assert client.get(url, headers=auth, environ_base=REMOTE).status_code == 200, url


def test_times_are_in_the_shops_zone_with_its_name(tmp_path: Path) -> None:
    app = _app(tmp_path, KOMTET_KASSA_TIMEZONE="Asia/Novosibirsk")
    with app.app_context():
        assert moment(datetime(2026, 12, 3, 11, 31)) == "03.12.2026 18:31 +07"
    (tmp_path / "default").mkdir()
    with _app(tmp_path / "default").app_context():  # the default zone: Moscow
        assert moment(datetime(2026, 12, 3, 11, 31)) == "03.12.2026 14:31 MSK"
