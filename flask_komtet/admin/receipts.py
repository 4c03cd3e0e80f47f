"""«Чеки»: every receipt with its state (AlfaCRM's «ККТ» column), details and actions.

The list is built for large tables: a page is one ``count(*)``, one query
of ``page_size`` receipts (no join: sorting by ``created_at`` walks its
index, even for a deep page) and one query of the register names, so it
costs the same number of queries whatever the number of receipts.

The details page lists «Чеки заказа»: every receipt of the same order, oldest
first, this one highlighted (:mod:`.admin_timeline`, one query).

Actions (POST with CSRF; each commits and flashes the result in Russian):
«Отправить сейчас», «Повторить отправку», «Обновить состояние» on the
details page and as bulk actions on the list; «Оформить возврат» (whole
order or chosen lines) on a done sale's details page.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import flash, g, redirect, request, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from flask_admin.contrib.sqla.filters import DateBetweenFilter, FilterEqual, FilterLike
from markupsafe import Markup
from sqlalchemy.orm import lazyload

from ..enums import PaymentMethod, ReceiptKind, ReceiptState
from ..models import utcnow
from ..reconcile import DEFAULT_DAYS, awaiting_settlement
from . import actions, marks
from .base import (
    KassaView,
    RussianSecureForm,
    format_moment,
    format_rub,
    pretty_json,
    ru_gettext,
    state_badge,
)
from .ffd import ffd_details
from .timeline import order_receipts

__all__ = ["ReceiptView"]

ERROR_PREVIEW = 90
REGISTER_FILTER = "Касса"
ERROR_FILTER = "Ошибка"
EVENT_ACTIONS = {
    "created": "Создан", "released": "Отправлен вручную", "requeued": "Снова в очереди",
    "sent": "Принят КОМТЕТ", "already_submitted": "Уже был в КОМТЕТ", "retry": "Повтор позже",
    "failed": "Не отправлен", "queue_passive": "Очередь неактивна", "callback": "Уведомление КОМТЕТ",
    "poll": "Запрос состояния", "marks_added": "Коды маркировки",
}


class _RussianOperation:
    def operation(self) -> str:
        return ru_gettext(str(super().operation()))  # type: ignore[misc]


class _Equal(_RussianOperation, FilterEqual):  # type: ignore[misc]  # flask-admin/wtforms are untyped
    pass


class _Contains(_RussianOperation, FilterLike):  # type: ignore[misc, unused-ignore]
    pass


class _RegisterEqual(_Equal):
    def clean(self, value: str) -> int:
        return int(value)

    def validate(self, value: str) -> bool:
        return value.isdigit()


class _Days(_RussianOperation, DateBetweenFilter):  # type: ignore[misc]  # flask-admin/wtforms are untyped
    """Created between two days, both included."""

    def apply(self, query: Any, value: Any, alias: Any = None) -> Any:
        start, end = value
        column = self.get_column(alias)
        return query.filter(column >= start, column < end + timedelta(days=1))


def _moment(view: Any, context: Any, model: Any, name: str) -> str:
    return format_moment(getattr(model, name))


def _error(view: Any, context: Any, model: Any, name: str) -> Markup:
    text = model.last_error or ""
    short = text if len(text) <= ERROR_PREVIEW else text[: ERROR_PREVIEW - 1] + "…"
    return Markup('<span class="text-danger small" title="{}">{}</span>').format(text, short)


def _order(view: Any, context: Any, model: Any, name: str) -> Markup:
    return Markup('<a href="{}">{}</a>').format(view.get_url(".details_view", id=model.id), model.order_ref)


class ReceiptView(KassaView, ModelView):  # type: ignore[misc]  # flask-admin/wtforms are untyped
    """Receipts are records: listed, filtered, opened and acted upon, never edited."""

    #: The «Чек коррекции» page (``endpoint.page``), linked from the details page; ``None``: no link.
    correction_endpoint: str | None = None

    form_base_class = RussianSecureForm
    list_template = "komtet_admin/receipts_list.html"
    details_template = "komtet_admin/receipt_details.html"
    can_create = False
    can_edit = False
    can_delete = False
    can_view_details = True
    can_export = False
    can_set_page_size = True
    page_size = 50
    column_display_actions = True
    column_list = ("created_at", "order_ref", "kind", "register", "total", "state", "sent_at", "done_at",
                   "last_error")
    column_labels = {
        "created_at": "Создан", "order_ref": "Заказ", "kind": "Вид", "register": "Касса", "total": "Сумма",
        "state": "ККТ", "sent_at": "Отправлен", "done_at": "Завершен", "last_error": "Ошибка",
        "external_id": "Внешний id",
    }
    column_descriptions = {"state": "Состояние чека в КОМТЕТ Кассе"}
    column_sortable_list = ("created_at", "order_ref", "total", "state", "sent_at", "done_at")
    column_default_sort = [("created_at", True), ("id", True)]
    column_searchable_list = ("order_ref", "external_id")
    column_auto_select_related = False  # register names come from register_names(), not a join per row
    column_formatters = {
        "created_at": _moment, "sent_at": _moment, "done_at": _moment, "order_ref": _order,
        "kind": lambda v, c, m, n: m.kind_label,
        "register": lambda v, c, m, n: v.register_names().get(m.register_id, "—"),
        "total": lambda v, c, m, n: format_rub(m.total),
        "state": lambda v, c, m, n: state_badge(m.state, m.last_error),
        "last_error": _error,
    }

    def __init__(self, state: Any, **kwargs: Any) -> None:
        Receipt = state.models.Receipt
        self.column_filters = (
            _Equal(Receipt.state, "Состояние", options=[(s.value, s.label) for s in ReceiptState]),
            _RegisterEqual(Receipt.register_id, REGISTER_FILTER),
            _Days(Receipt.created_at, "Создан"),
            _Equal(Receipt.kind, "Вид", options=[(k.value, k.label) for k in ReceiptKind]),
            _Contains(Receipt.last_error, ERROR_FILTER),  # «Сводка» links its failure reasons here
        )
        super().__init__(state, Receipt, state.db, **kwargs)

    def get_query(self) -> Any:
        """Receipts alone: skipping rows for a deep page then walks only the ``created_at`` index."""
        return super().get_query().options(lazyload(self.model.register))

    def register_names(self) -> dict[int, str]:
        """Register id → name, read once per request (for the list's column and the register filter)."""
        names = g.get("komtet_register_names")
        if names is None:
            CashRegister = self.kassa_state.models.CashRegister
            rows = self.kassa_state.session.execute(
                sa.select(CashRegister.id, CashRegister.name).order_by(CashRegister.id))
            names = g.komtet_register_names = dict(rows.all())
        return dict(names)

    def _get_filter_groups(self) -> Any:
        """The register filter's options are today's registers (read per request, not at startup)."""
        groups = super()._get_filter_groups()
        if groups and REGISTER_FILTER in groups:
            options = [(str(id_), name) for id_, name in self.register_names().items()]
            for item in groups[REGISTER_FILTER]:
                item["options"] = options
        return groups

    def search_placeholder(self) -> str:
        return "Номер заказа или внешний id"

    # -- details -----------------------------------------------------------------------

    def details(self, receipt: Any) -> dict[str, Any]:
        """What the details page shows beyond the columns."""
        timeline = order_receipts(self.kassa_state, receipt.order_ref)  # re-sends keep the order ref
        return {
            "payload": pretty_json(receipt.payload_json),
            "ffd": ffd_details(receipt.payload_json),
            "events": receipt.events,
            "operations": actions.allowed_operations(receipt),
            "labels": {name: label for name, (label, _) in actions.OPERATIONS.items()},
            "refund_rows": actions.refund_lines_form(receipt, self.kassa_state) if actions.can_refund(receipt) else [],
            "timeline": timeline,
            "resend_of": next((row for row in timeline if row.id == receipt.resend_of_id), None),
            "resent_as": [row for row in timeline if row.resend_of_id == receipt.id],
            "units": marks.unit_rows(receipt),
            "waits_for_marks": receipt.state == ReceiptState.HELD.value and not receipt.payload_json,
        }

    def _receipt(self, receipt_id: int | None) -> Any:
        return self.kassa_state.session.get(self.model, receipt_id) if receipt_id else None

    def render(self, template: str, **kwargs: Any) -> str:
        if template == self.details_template and kwargs.get("model") is not None:
            kwargs["info"] = self.details(kwargs["model"])
        if template == self.list_template:
            kwargs["awaiting_settlement"] = self._awaiting_settlement()
        return super().render(template, **kwargs)

    def _awaiting_settlement(self) -> list[str]:
        """Prepaid orders of the last ``DEFAULT_DAYS`` still waiting for «Полный расчет»; none to look for when
        no register sells with a prepayment method (the list stays one indexed page read)."""
        state = self.kassa_state
        Register = state.models.CashRegister
        methods = [m.value for m in PaymentMethod if m.is_prepayment]
        if not state.session.scalar(sa.select(sa.func.count()).select_from(Register)
                                    .where(Register.payment_method.in_(methods))):
            return []
        return awaiting_settlement(state, since=utcnow() - timedelta(days=DEFAULT_DAYS))

    def event_label(self, action: str) -> str:
        base = action.removesuffix("_late")
        label = EVENT_ACTIONS.get(base, action)
        return f"{label} (поздно)" if action.endswith("_late") else label

    state_badge = staticmethod(state_badge)
    format_rub = staticmethod(format_rub)
    format_moment = staticmethod(format_moment)

    def state_label(self, value: str | None) -> str:
        if not value:
            return ""
        try:
            return ReceiptState.parse(value).label
        except ValueError:
            return value

    # -- actions -----------------------------------------------------------------------

    def _selected(self, ids: list[str]) -> list[Any]:
        Receipt = self.model
        return list(self.kassa_state.session.scalars(
            sa.select(Receipt).where(Receipt.id.in_([int(i) for i in ids])).order_by(Receipt.id)))

    def _flash(self, outcomes: list[actions.Outcome]) -> None:
        failed = [o for o in outcomes if not o.ok]
        done = [o for o in outcomes if o.ok]
        for outcome in failed[:10] + done[:10]:
            flash(outcome.message, outcome.category)
        hidden = max(0, len(failed) - 10) + max(0, len(done) - 10)
        if hidden:
            flash(f"…и еще {hidden} (всего выполнено: {len(done)}, не выполнено: {len(failed)})", "info")

    def _bulk(self, name: str, ids: list[str]) -> None:
        self._flash([actions.run(self.kassa_state, name, receipt) for receipt in self._selected(ids)])

    @action("send", "Отправить сейчас", "Отправить выбранные чеки в КОМТЕТ Кассу сейчас?")  # type: ignore[untyped-decorator]  # flask-admin/wtforms are untyped
    def action_send(self, ids: list[str]) -> None:
        self._bulk("send", ids)

    @action("resend", "Повторить отправку", "Отправить выбранные чеки с ошибкой повторно?")  # type: ignore[untyped-decorator]  # flask-admin/wtforms are untyped
    def action_resend(self, ids: list[str]) -> None:
        self._bulk("resend", ids)

    @action("refresh", "Обновить состояние")  # type: ignore[untyped-decorator]  # flask-admin/wtforms are untyped
    def action_refresh(self, ids: list[str]) -> None:
        self._bulk("refresh", ids)

    def _posted_receipt(self) -> Any:
        if not self.csrf_form().validate():
            flash("Форма устарела (CSRF): обновите страницу и повторите", "error")
            return None
        receipt = self._receipt(request.form.get("id", type=int))
        if receipt is None:
            flash("Такого чека нет", "error")
        return receipt

    def _back(self, receipt: Any) -> Any:
        if receipt is None:
            return redirect(self.get_url(".index_view"))
        return redirect(self.get_url(".details_view", id=receipt.id))

    @expose("/run/", methods=("POST",))  # type: ignore[untyped-decorator]  # flask-admin/wtforms are untyped
    def run_view(self) -> Any:
        receipt = self._posted_receipt()
        if receipt is None:
            return self._back(None)
        outcome = actions.run(self.kassa_state, request.form.get("op", ""), receipt)
        flash(outcome.message, outcome.category)
        return self._back(outcome.receipt or receipt)

    @expose("/refund/", methods=("POST",))  # type: ignore[untyped-decorator]  # flask-admin/wtforms are untyped
    def refund_view(self) -> Any:
        receipt = self._posted_receipt()
        if receipt is None:
            return self._back(None)
        outcome = actions.refund(self.kassa_state, receipt, request.form)
        flash(outcome.message, outcome.category)
        return self._back(outcome.receipt if outcome.ok else receipt)

    @expose("/marks/", methods=("POST",))  # type: ignore[untyped-decorator]  # flask-admin/wtforms are untyped
    def marks_view(self) -> Any:
        receipt = self._posted_receipt()
        if receipt is None:
            return self._back(None)
        outcome = marks.complete(self.kassa_state, receipt, request.form.get("codes", ""))
        flash(outcome.message, outcome.category)
        return self._back(receipt)

    def details_url(self, receipt: Any) -> str:
        return url_for(f"{self.endpoint}.details_view", id=receipt.id)
