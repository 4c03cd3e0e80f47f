"""Shared fixtures: an app factory on a real database, the emulator, a signal recorder.

The database is a SQLite file per test, or PostgreSQL when
``FLASK_KOMTET_TEST_DATABASE_URL`` is set (``.ci/run`` runs the suite on both).
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flask_komtet import KomtetKassa, signals  # noqa: E402

PG_URL = os.environ.get("FLASK_KOMTET_TEST_DATABASE_URL")


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    if PG_URL:
        _reset_postgres(PG_URL)
        return PG_URL
    return f"sqlite:///{tmp_path / 'shop.sqlite'}"


@pytest.fixture
def make_app(database_url: str) -> Iterator[Callable[..., tuple[Flask, SQLAlchemy, KomtetKassa]]]:
    """``make_app(**config) -> (app, db, kassa)`` with tables created; cleaned up after the test."""
    made: list[tuple[Flask, SQLAlchemy, KomtetKassa]] = []

    def factory(*, kassa: KomtetKassa | None = None, init: bool = True, flask_config: dict[str, Any] | None = None,
                **config: Any):
        app = Flask(f"shop{len(made)}")
        app.config.update(
            SQLALCHEMY_DATABASE_URI=database_url,
            SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True},
            KOMTET_KASSA_DISPATCH="sync",
            KOMTET_KASSA_PUBLIC_URL="http://shop.test",
            TESTING=True,
            SECRET_KEY="test",
        )
        app.config.update(flask_config or {})
        app.config.update({k if k.startswith("KOMTET_KASSA_") else f"KOMTET_KASSA_{k.upper()}": v
                           for k, v in config.items()})
        db = SQLAlchemy()
        db.init_app(app)
        kassa = kassa or KomtetKassa()
        if init:
            kassa.init_app(app, db=db)
            with app.app_context():
                db.create_all()
        made.append((app, db, kassa))
        return app, db, kassa

    yield factory
    for app, db, _ in made:
        state = app.extensions.get("komtet_kassa")
        if state is not None:
            state.dispatcher.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def recorded_signals() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """Every receipt_* signal sent during the test, as ``(name, kwargs)``."""
    records: list[tuple[str, dict[str, Any]]] = []
    receivers = []
    for sig in (signals.receipt_queued, signals.receipt_sent, signals.receipt_done, signals.receipt_failed):
        def receiver(sender: Any, _name: str = sig.name, **kwargs: Any) -> None:
            records.append((_name, kwargs))
        sig.connect(receiver, weak=False)
        receivers.append((sig, receiver))
    yield records
    for sig, receiver in receivers:
        sig.disconnect(receiver)
