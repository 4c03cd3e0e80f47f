"""Shared fixtures: an app factory on a real database, the emulator, a signal recorder.

Every test that uses a database runs twice: on a SQLite file and on a real
PostgreSQL server, which ``scripts/postgres`` installs (from Debian's packages)
and starts on loopback the first time it is needed. Point
``FLASK_KOMTET_TEST_DATABASE_URL`` at another server to use that instead;
``FLASK_KOMTET_SKIP_POSTGRES=1`` runs SQLite only (the skips then say so).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flask_komtet import KomtetKassa, signals  # noqa: E402


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this test run's own on the test PostgreSQL server (started by ``scripts/postgres``)."""
    url = os.environ.get("FLASK_KOMTET_TEST_DATABASE_URL")
    if url:
        yield url
        return
    if os.environ.get("FLASK_KOMTET_SKIP_POSTGRES") == "1":
        pytest.skip("PostgreSQL disabled by FLASK_KOMTET_SKIP_POSTGRES=1")
    started = subprocess.run([str(ROOT / "scripts" / "postgres"), "start"], capture_output=True, text=True)
    if started.returncode != 0:
        pytest.fail(f"could not start PostgreSQL with scripts/postgres:\n{started.stderr}", pytrace=False)
    server = started.stdout.strip().splitlines()[-1]
    name = f"komtet_test_{os.getpid()}"  # runs side by side in one checkout never share a database
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        connection.exec_driver_sql(f"CREATE DATABASE {name}")
    yield server.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database of each kind."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shop.sqlite'}"
    url = request.getfixturevalue("postgres_url")
    _reset_postgres(url)
    return url


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
            KOMTET_KASSA_EXTERNAL_ID_PREFIX="",  # tests name receipts by id; the installation id has its own tests
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
