"""The cash registers as plain records, read once per app and checked by every receipt insert.

Routing a paid order needs every register; reading them is one more database
round trip in the shop's request. So the records are kept per app with the
version they were read at: the register count and the latest ``updated_at``.
The INSERT of each receipt returns the version in force in that very
transaction, and the outbox routes again (and corrects the row) when it
differs, so a register added, changed or removed anywhere, by any process,
is never missed.
"""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from . import statements

__all__ = ["RegisterCache", "Version"]

Version = tuple[int, Any]  # (how many registers, their latest updated_at)


class RegisterCache:
    """One app's registers (secrets left out) and the version they were read at."""

    def __init__(self) -> None:
        self._read: tuple[list[SimpleNamespace], Version] | None = None
        self._lock = threading.Lock()

    def records(self, session: Session, registers: sa.Table, model: type) -> list[SimpleNamespace]:
        """The registers, read through ``session`` when not known yet (or changed in this session)."""
        if any(isinstance(obj, model) for obj in (*session.new, *session.dirty, *session.deleted)):
            session.flush()  # registers added or changed in this same transaction
            self.forget()
        read = self._read
        if read is None:
            rows = session.connection().execute(statements.registers_for_routing(registers)).all()
            records = [SimpleNamespace(**row._mapping) for row in rows]
            read = (records, (len(records), max((r.updated_at for r in records), default=None)))
            with self._lock:
                self._read = read
        return read[0]

    def is_current(self, version: Version) -> bool:
        """Whether the records were read at ``version`` (as an insert's RETURNING saw it)."""
        read = self._read
        return read is not None and read[1] == tuple(version)

    def forget(self) -> None:
        with self._lock:
            self._read = None
