"""The extension's tables, built on the host's own Flask-SQLAlchemy ``db``.

``get_models(db)`` defines ``CashRegister``, ``Receipt`` and ``ReceiptEvent``
on ``db.Model`` once per ``db`` (tables ``komtet_cash_register``,
``komtet_receipt``, ``komtet_receipt_event``), so the host's
``db.create_all()`` and Flask-Migrate's autogenerate see them like the
host's own models.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import (
    Mapped,
    Session,
    make_transient_to_detached,
    mapped_column,
    relationship,
    validates,
)
from sqlalchemy.types import TypeDecorator

from . import statements
from .enums import (
    AgentType,
    PaymentMethod,
    PaymentObject,
    ReceiptKind,
    ReceiptState,
    SettlementScheme,
    TaxSystem,
    TimeZone,
    VatRate,
)
from .receipts.taxes import register_tax_problems

__all__ = ["Kopecks", "Models", "get_models", "insert_persistent", "utcnow"]


def utcnow() -> datetime:
    """Naive UTC now: what every timestamp column stores."""
    return datetime.now(UTC).replace(tzinfo=None)


def insert_persistent(session: Session, model: Any, values: dict[str, Any],
                      registers: sa.Table | None = None) -> tuple[Any | None, tuple[Any, ...]]:
    """INSERT a ``model`` row in ``session``'s transaction with one statement: ``(instance, more)``.

    The instance comes attached as if loaded (cheaper than the unit of work for
    rows written in the shop's request). A row that would break a unique key is
    skipped (``(None, ())``), so concurrent duplicates never abort the shop's
    transaction. With ``registers``, ``more`` is their version as this
    transaction sees it (see :mod:`.registry`).
    """
    table = model.__table__
    connection = session.connection()
    statement = statements.insert_new(table, connection.dialect.name, registers)
    given = {key: value for key, value in values.items() if value is not None}
    if connection.dialect.name in ("sqlite", "postgresql"):
        row = connection.execute(statement, given).first()
    else:  # other databases: a savepoint keeps the shop's transaction usable after a duplicate
        try:
            with session.begin_nested():
                row = connection.execute(statement, given).first()
        except sa.exc.IntegrityError:
            row = None
    if row is None:
        return None, ()
    obj = model.__mapper__.class_manager.new_instance()  # as a query would load it: every column set
    obj.__dict__.update(dict.fromkeys(table.columns.keys()), **values, id=row[0])
    make_transient_to_detached(obj)
    session.add(obj)
    return obj, tuple(row[1:])


class Kopecks(TypeDecorator[Decimal]):
    """Money stored as whole kopecks (BIGINT), read back as a 2-place ``Decimal``.

    Exact on every database, sortable, and no float ever touches it.
    """

    impl = sa.BigInteger
    cache_ok = True

    def __init__(self) -> None:
        super().__init__()
        # Alembic's autogenerate writes a custom type as ``<its __module__>.<repr>``: this one is written as
        # ``sa.BigInteger()``, the column it is, so a shop's generated migration runs without editing.
        self.__module__ = "sa"

    def __repr__(self) -> str:
        return "BigInteger()"

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        if value is None:
            return None
        cents = Decimal(value) * 100
        if cents != cents.to_integral_value():
            raise ValueError(f"{value} has more than two decimal places")
        return int(cents)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        return None if value is None else (Decimal(value) / 100).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Models:
    """The three model classes built on one ``db``."""

    CashRegister: Any
    Receipt: Any
    ReceiptEvent: Any


_CACHE_KEY = "_komtet_kassa_models"
_TAX_FIELDS = ("tax_system", "vat", "delivery_vat", "next_tax_system", "next_vat", "tax_change_date")


def get_models(db: Any) -> Models:
    """The models on ``db`` (a Flask-SQLAlchemy instance), defined on first call."""
    models: Models | None = db.__dict__.get(_CACHE_KEY)
    if models is None:
        models = _define(db)
        setattr(db, _CACHE_KEY, models)
    return models


def _json_text(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def _define(db: Any) -> Models:
    Model: Any = db.Model  # the host's declarative base, known only at runtime

    class CashRegister(Model):  # type: ignore[misc]  # the host's db.Model
        """A KOMTET shop + queue (one cash register) serving a region.

        Parts-Soft's «Онлайн-кассы для фискализации»: one row per register and
        region; ``extra_regions`` are served for online payments only.
        """

        __tablename__ = "komtet_cash_register"

        id: Mapped[int] = mapped_column(primary_key=True)
        name: Mapped[str] = mapped_column(sa.String(128))
        region: Mapped[str] = mapped_column(sa.String(64), index=True)
        extra_regions: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
        shop_id: Mapped[str] = mapped_column(sa.String(128))
        secret: Mapped[str] = mapped_column(sa.String(256))
        queue_id: Mapped[int] = mapped_column(sa.BigInteger)
        tax_system: Mapped[int] = mapped_column(sa.Integer, default=int(TaxSystem.COMMON))
        vat: Mapped[str] = mapped_column(sa.String(8), default=VatRate.NO.value)
        delivery_vat: Mapped[str | None] = mapped_column(sa.String(8))
        payment_method: Mapped[str] = mapped_column(sa.String(32), default=PaymentMethod.FULL_PAYMENT.value)
        payment_object: Mapped[str] = mapped_column(sa.String(48), default=PaymentObject.PRODUCT.value)
        top_up_payment_method: Mapped[str] = mapped_column(sa.String(32), default=PaymentMethod.ADVANCE.value)
        top_up_payment_object: Mapped[str] = mapped_column(sa.String(48), default=PaymentObject.PAYMENT.value)
        top_up_name: Mapped[str] = mapped_column(sa.String(128), default="Пополнение баланса")
        settlement_scheme: Mapped[str] = mapped_column(sa.String(16), default=SettlementScheme.TWO_RECEIPTS.value)
        auto_fiscalize: Mapped[bool] = mapped_column(default=True)
        print_receipt: Mapped[bool] = mapped_column(default=False)
        internet: Mapped[bool] = mapped_column(default=True)
        # «Разрешительный режим»: marked units need their online check's result (tag 1265); NULL reads as off.
        permissive_mode: Mapped[bool | None] = mapped_column(default=False, server_default=sa.false())
        payment_address: Mapped[str] = mapped_column(sa.String(256), default="")
        place_address: Mapped[str | None] = mapped_column(sa.String(256))
        company_inn: Mapped[str | None] = mapped_column(sa.String(12))
        name_template: Mapped[str | None] = mapped_column(sa.String(512))
        cashier_name: Mapped[str | None] = mapped_column(sa.String(64))
        cashier_inn: Mapped[str | None] = mapped_column(sa.String(12))
        # FFD 1.2: the default agent role for lines that name a supplier (tag 1222), the time zone (tag 1011).
        agent_type: Mapped[str | None] = mapped_column(sa.String(32))
        timezone: Mapped[int | None] = mapped_column(sa.Integer)
        # Effective-dated tax settings: the next value and the day it takes effect.
        next_vat: Mapped[str | None] = mapped_column(sa.String(8))
        next_tax_system: Mapped[int | None] = mapped_column(sa.Integer)
        tax_change_date: Mapped[date | None] = mapped_column(sa.Date)
        is_active: Mapped[bool] = mapped_column(default=True, index=True)
        api_url: Mapped[str | None] = mapped_column(sa.String(256))
        queue_state: Mapped[str | None] = mapped_column(sa.String(16))
        queue_checked_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
        created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
        updated_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, onupdate=utcnow)

        def __repr__(self) -> str:  # never the secret
            return f"<CashRegister {self.id} {self.name!r} region={self.region!r}>"

        def __str__(self) -> str:
            return self.name or f"Касса {self.id}"

        @validates("name_template")
        def _check_template(self, key: str, value: str | None) -> str | None:
            if value:
                from .receipts import check_name_template

                check_name_template(value)
            return value or None

        @validates("vat", "next_vat", "delivery_vat")
        def _check_vat(self, key: str, value: Any) -> str | None:
            return None if value in (None, "") and key != "vat" else VatRate.parse(value).value

        @validates("agent_type")
        def _check_agent_type(self, key: str, value: Any) -> str | None:
            return None if value in (None, "") else AgentType.parse(value).value

        @validates("timezone")
        def _check_timezone(self, key: str, value: Any) -> int | None:
            return None if value in (None, "") else int(TimeZone.parse(value))

        @validates("tax_system", "next_tax_system")
        def _check_tax_system(self, key: str, value: Any) -> int | None:
            return None if value is None and key == "next_tax_system" else int(TaxSystem.parse(value))

        def check_taxes(self) -> None:
            """Refuse tax settings no receipt could carry (5 %/7 % without УСН, now or after the scheduled
            change): ``ValueError`` naming the field. Runs before an insert and an update of these settings."""
            problems = register_tax_problems(self)
            if problems:
                raise ValueError("; ".join(f"{field}: {message}" for field, message in problems.items()))

        def serves(self, region: str | None, *, online: bool) -> bool:
            """Whether this register serves ``region`` (extra regions only for online payments)."""
            if region is None:
                return False
            return region == self.region or (online and region in (self.extra_regions or []))

    def _check_new(mapper: Any, connection: Any, register: Any) -> None:
        register.check_taxes()

    def _check_changed(mapper: Any, connection: Any, register: Any) -> None:
        """Only when a tax setting changes: a row stored before the rule (or a queue check) still saves."""
        attrs = sa.inspect(register).attrs
        if any(attrs[name].history.has_changes() for name in _TAX_FIELDS):
            register.check_taxes()

    sa.event.listen(CashRegister, "before_insert", _check_new)
    sa.event.listen(CashRegister, "before_update", _check_changed)

    class Receipt(Model):  # type: ignore[misc]  # the host's db.Model
        """One receipt sent (or to be sent) to KOMTET, and what came of it."""

        __tablename__ = "komtet_receipt"
        __table_args__ = (
            sa.Index("ix_komtet_receipt_due", "state", "next_attempt_at"),
            sa.Index("ux_komtet_receipt_order", "order_ref", "kind", "event_key", "sequence", unique=True),
            sa.Index("ix_komtet_receipt_register_created", "register_id", "created_at"),
        )

        id: Mapped[int] = mapped_column(primary_key=True)
        external_id: Mapped[str] = mapped_column(sa.String(128), unique=True)
        register_id: Mapped[int | None] = mapped_column(sa.ForeignKey("komtet_cash_register.id"))
        order_ref: Mapped[str] = mapped_column(sa.String(128))
        kind: Mapped[str] = mapped_column(sa.String(16), default=ReceiptKind.SALE.value)
        event_key: Mapped[str] = mapped_column(sa.String(128), default="")
        sequence: Mapped[int] = mapped_column(default=1)
        intent: Mapped[str] = mapped_column(sa.String(32))
        state: Mapped[str] = mapped_column(sa.String(16), default=ReceiptState.QUEUED.value, index=True)
        region: Mapped[str | None] = mapped_column(sa.String(64))
        routing: Mapped[str | None] = mapped_column(sa.String(512))
        order_data: Mapped[str | None] = mapped_column(sa.Text)
        payload_json: Mapped[str | None] = mapped_column(sa.Text)
        total: Mapped[Decimal | None] = mapped_column(Kopecks)
        task_id: Mapped[int | None] = mapped_column(sa.BigInteger, index=True)
        attempts: Mapped[int] = mapped_column(default=0)
        next_attempt_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
        lease_token: Mapped[str | None] = mapped_column(sa.String(32))
        lease_expires_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
        last_error: Mapped[str | None] = mapped_column(sa.Text)
        resend_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("komtet_receipt.id"))
        fiscal_data_json: Mapped[str | None] = mapped_column(sa.Text)
        fn: Mapped[str | None] = mapped_column(sa.String(32))
        fd: Mapped[str | None] = mapped_column(sa.String(32))
        fp: Mapped[str | None] = mapped_column(sa.String(32))
        fiscal_time: Mapped[datetime | None] = mapped_column(sa.DateTime)
        receipt_url: Mapped[str | None] = mapped_column(sa.String(512))
        created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, index=True)
        updated_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, onupdate=utcnow)
        sent_at: Mapped[datetime | None] = mapped_column(sa.DateTime)
        done_at: Mapped[datetime | None] = mapped_column(sa.DateTime)

        register = relationship(CashRegister, lazy="joined", innerjoin=False)
        events = relationship(
            "ReceiptEvent", back_populates="receipt", order_by="ReceiptEvent.id",
            lazy="select", cascade="all, delete-orphan",
        )

        def __repr__(self) -> str:
            return f"<Receipt {self.external_id} {self.state}>"

        def __str__(self) -> str:
            return self.external_id

        @property
        def payload(self) -> dict[str, Any] | None:
            """The payload as sent, amounts as exact ``Decimal``."""
            return json.loads(self.payload_json, parse_float=Decimal) if self.payload_json else None

        @property
        def fiscal_data(self) -> dict[str, Any] | None:
            return json.loads(self.fiscal_data_json) if self.fiscal_data_json else None

        @property
        def state_label(self) -> str:
            return ReceiptState.parse(self.state).label

        @property
        def kind_label(self) -> str:
            return ReceiptKind.parse(self.kind).label

    class ReceiptEvent(Model):  # type: ignore[misc]  # the host's db.Model
        """One transition or API exchange of a receipt, secrets masked."""

        __tablename__ = "komtet_receipt_event"

        id: Mapped[int] = mapped_column(primary_key=True)
        receipt_id: Mapped[int] = mapped_column(sa.ForeignKey("komtet_receipt.id", ondelete="CASCADE"), index=True)
        created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow)
        action: Mapped[str] = mapped_column(sa.String(32))
        from_state: Mapped[str | None] = mapped_column(sa.String(16))
        to_state: Mapped[str | None] = mapped_column(sa.String(16))
        message: Mapped[str | None] = mapped_column(sa.Text)
        http_status: Mapped[int | None] = mapped_column(sa.Integer)
        request: Mapped[str | None] = mapped_column(sa.Text)
        response: Mapped[str | None] = mapped_column(sa.Text)

        receipt = relationship(Receipt, back_populates="events")

        def __repr__(self) -> str:
            return f"<ReceiptEvent {self.action} {self.from_state}->{self.to_state}>"

    return Models(CashRegister, Receipt, ReceiptEvent)
