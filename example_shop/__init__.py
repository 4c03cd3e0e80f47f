"""«Чайная лавка»: a small Flask shop that fiscalizes its sales through flask_komtet.

``python -m example_shop`` (or ``scripts/demo``) runs it offline with demo data
and the KOMTET emulator; see ``example_shop/README.md``. Against the real
KOMTET Kassa the same app needs only configuration::

    export SHOP_DATABASE_URL=postgresql://…  SHOP_PUBLIC_URL=https://tea.example  SECRET_KEY=…
    export KOMTET_API_URL=https://kassa.komtet.ru  SHOP_ADMIN_PASSWORD=…
    python -m example_shop --no-emulator --host 0.0.0.0 --port 8000

and real cash registers entered in the admin («Онлайн-кассы»).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import click
from flask import Flask, render_template

from . import account, formatting, views
from .adapter import load_order_by_ref, order_to_komtet, paid_orders_since
from .admin import admin_allowed, build_admin
from .cart import Cart
from .extensions import db, kassa
from .models import REGIONS

__all__ = ["create_app", "db", "kassa"]


def default_config(app: Flask) -> dict[str, Any]:
    """Settings from the environment, with defaults that run the demo on a fresh machine."""
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY", "dev: change me"),
        "SQLALCHEMY_DATABASE_URI": os.environ.get(
            "SHOP_DATABASE_URL", f"sqlite:///{os.path.join(app.instance_path, 'shop.sqlite')}"),
        "SHOP_ADMIN_PASSWORD": os.environ.get("SHOP_ADMIN_PASSWORD"),
        "KOMTET_KASSA_API_URL": os.environ.get("KOMTET_API_URL", "https://kassa.komtet.ru"),
        "KOMTET_KASSA_PUBLIC_URL": os.environ.get("SHOP_PUBLIC_URL"),
        "KOMTET_KASSA_DISPATCH": "thread",
        "KOMTET_KASSA_REGIONS": dict(REGIONS),
        "KOMTET_KASSA_TIMEZONE": os.environ.get("SHOP_TIMEZONE", "Europe/Moscow"),
    }


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """The shop app: its models, pages, admin, and KOMTET Kassa wired through the order adapter."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(default_config(app))
    app.config.update(config or {})
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith(f"sqlite:///{app.instance_path}"):
        os.makedirs(app.instance_path, exist_ok=True)

    db.init_app(app)
    formatting.init_app(app)
    admin = build_admin(app)
    kassa.init_app(app, db=db, admin=admin, order_adapter=order_to_komtet, order_loader=load_order_by_ref,
                   paid_orders_loader=paid_orders_since, admin_access=admin_allowed)
    app.register_blueprint(views.bp)
    app.register_blueprint(account.bp)
    app.context_processor(_layout)
    app.register_error_handler(404, lambda error: (render_template("404.html"), 404))
    app.cli.add_command(init_db_command)
    return app


def _layout() -> dict[str, Any]:
    """What every page's header needs: the cart size and who is shopping."""
    return {"cart_size": len(Cart()), "shopper": views.current_customer(), "shop_name": "Чайная лавка"}


@click.command("init-db")
@click.option("--demo", is_flag=True, help="add the demo catalogue, customers and coupons (no registers)")
def init_db_command(demo: bool) -> None:
    """Create the tables (and the demo data; the demo registers come only with the emulator)."""
    db.create_all()
    if demo:
        from .demo import seed

        seed(registers=False)
    click.echo("Готово.")
