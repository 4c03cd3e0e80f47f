"""The installation id: a random prefix of external ids, stored once per database.

KOMTET keeps one namespace of external ids per account. Two databases on one
account (staging and production) would both send ``sale-1001-1`` and the second
would be taken as "already submitted". So when ``KOMTET_KASSA_EXTERNAL_ID_PREFIX``
is not set, every external id starts with this database's own random id
(``3f9a12c4-sale-1001-1``), made on the first receipt and kept in the one-row
table ``komtet_installation`` with the database it was made for. A restored
copy of the database carries the same id: ``flask komtet check`` notices that
the database's address changed and says so, and
``flask komtet installation --renew`` gives the copy an id of its own.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import statements
from .models import utcnow

__all__ = ["TABLE", "Installation", "installation_table", "origin_of", "read", "renew", "resolve"]

log = logging.getLogger("flask_komtet")

TABLE = "komtet_installation"
_ROW = 1


def installation_table(metadata: sa.MetaData) -> sa.Table:
    """The ``komtet_installation`` table on the host's metadata (``db.create_all()`` and migrations see it)."""
    if TABLE in metadata.tables:
        return metadata.tables[TABLE]
    return sa.Table(
        TABLE, metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("installation_id", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(256)),
        sa.Column("created_at", sa.DateTime, nullable=False),
    )


@dataclass(frozen=True)
class Installation:
    installation_id: str
    origin: str | None

    @property
    def prefix(self) -> str:
        return f"{self.installation_id}-"


def origin_of(bind: Any) -> str:
    """Which database this is, without credentials: ``postgresql://db.host:5432/shop``."""
    url = bind.engine.url if hasattr(bind, "engine") else bind.url
    return str(url.set(username=None, password=None).render_as_string(hide_password=True))[:256]


def read(connection: Any, table: sa.Table) -> Installation | None:
    row = connection.execute(sa.select(table.c.installation_id, table.c.origin).where(table.c.id == _ROW)).first()
    return Installation(row[0], row[1]) if row is not None else None


def resolve(session: Session, table: sa.Table) -> tuple[Installation, bool]:
    """This database's installation, made in ``session``'s transaction if there is none yet.

    Returns ``(installation, stored)``: ``stored`` is false while the row was
    made by this very transaction (it may still roll back, so do not keep it).
    """
    connection = session.connection()
    found = read(connection, table)
    if found is not None:
        return found, True
    statement = statements.insert_new(table, connection.dialect.name)
    connection.execute(statement, {"id": _ROW, "installation_id": secrets.token_hex(4),
                                   "origin": origin_of(connection), "created_at": utcnow()})
    made = read(connection, table)
    assert made is not None  # inserted now, or by a transaction that committed first
    log.info("installation id %s made for this database: external ids start with %s", made.installation_id,
             made.prefix)
    return made, False


def renew(connection: Any, table: sa.Table) -> Installation:
    """Give this database a new id (a restored copy that must not collide with the original)."""
    fresh = Installation(secrets.token_hex(4), origin_of(connection))
    connection.execute(sa.delete(table).where(table.c.id == _ROW))
    connection.execute(sa.insert(table).values(id=_ROW, installation_id=fresh.installation_id, origin=fresh.origin,
                                               created_at=utcnow()))
    return fresh
