"""The shop the chaos test runs: one Flask app for the web side and for the sender processes.

``flask --app tests.chaos_app komtet worker`` with ``CHAOS_DATABASE_URL``, ``CHAOS_API_URL`` and
``CHAOS_PUBLIC_URL`` set runs a sender against the same database.
"""

from __future__ import annotations

import os

from flask import Flask, request
from flask_sqlalchemy import SQLAlchemy

from flask_komtet import KomtetKassa, signals
from tests.shop_fixtures import make_order


def create_app() -> Flask:
    app = Flask("chaos")
    app.config.update(
        SQLALCHEMY_DATABASE_URI=os.environ["CHAOS_DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True, "pool_size": 10},
        KOMTET_KASSA_API_URL=os.environ["CHAOS_API_URL"],
        KOMTET_KASSA_PUBLIC_URL=os.environ["CHAOS_PUBLIC_URL"],
        KOMTET_KASSA_DISPATCH="worker",
        KOMTET_KASSA_EXTERNAL_ID_PREFIX="",
        KOMTET_KASSA_TIMEOUT=(1.0, 0.5),
        KOMTET_KASSA_RETRY_BASE=0.05,
        KOMTET_KASSA_RETRY_MAX=0.5,
        KOMTET_KASSA_MAX_ATTEMPTS=1000,
        KOMTET_KASSA_LEASE=2.0,
        KOMTET_KASSA_POLL_AFTER=1.0,
    )
    db = SQLAlchemy(app)
    KomtetKassa(app, db=db)

    @app.post("/pay/<ref>")
    def pay(ref: str) -> str:
        # a payment notification: may arrive twice; the receipt must still be one
        signals.order_paid.send(app, order=make_order(ref, lines=int(request.args.get("lines", 2))))
        db.session.commit()
        return "ok"

    return app
