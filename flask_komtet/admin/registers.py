"""«Онлайн-кассы для фискализации»: the cash register list and form (Parts-Soft's settings table).

The list shows each register's region, KOMTET ids, the tax settings receipts
get today with their scheduled change (:mod:`.admin_taxes`), and the two
URLs to paste into the KOMTET cabinet (Фискализация → Магазины → «URL
магазина для отчета об успешной / неуспешной фискализации»), each with a
«Копировать» button; «Проверить очередь» asks KOMTET whether the register's
queue is active. The Secret never leaves the database.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, request
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.sqla import ModelView
from markupsafe import Markup

from ..enums import AgentType, PaymentMethod, PaymentObject, SettlementScheme, TaxSystem, TimeZone, VatRate
from ..errors import KomtetError
from ..models import utcnow
from .base import KassaView, RussianSecureForm, format_moment
from .forms import register_form_class
from .taxes import TaxSchedule

__all__ = ["CashRegisterView"]

_QUEUE_STATES = {"active": "активна", "passive": "неактивна"}


def _yes_no(view: Any, context: Any, model: Any, name: str) -> Markup:
    on = bool(getattr(model, name))
    return Markup('<span class="badge {}">{}</span>').format("badge-success" if on else "badge-light",
                                                             "Да" if on else "Нет")


def _method_with_settlement(view: Any, context: Any, model: Any, name: str) -> Any:
    """The online payment method; a prepayment one says that a second receipt is the shop's to send."""
    label = _label(PaymentMethod)(view, context, model, name)
    try:
        prepayment = PaymentMethod.parse(model.payment_method).is_prepayment
    except ValueError:
        prepayment = False
    if not prepayment:
        return label
    return Markup('{}<div class="small text-warning">при передаче товара нужен второй чек «Полный расчет»: '
                  'сигнал order_shipped или kassa.settle(order)</div>').format(label)


def _label(enum: Any) -> Any:
    def formatter(view: Any, context: Any, model: Any, name: str) -> str:
        value = getattr(model, name)
        try:
            return enum.parse(value).label if value not in (None, "") else ""
        except ValueError:
            return str(value)

    return formatter


class CashRegisterView(KassaView, ModelView):  # type: ignore[misc]  # flask-admin ships no types
    """Cash registers: list, create, edit, details; never the Secret."""

    form_base_class = RussianSecureForm
    list_template = "komtet_admin/registers_list.html"
    create_template = "komtet_admin/register_edit.html"
    edit_template = "komtet_admin/register_edit.html"
    details_template = "komtet_admin/register_details.html"
    can_view_details = True
    can_export = False
    page_size = 50
    #: The webhook URLs get a full-width line under each register (see registers_list.html).
    column_list = ("name", "region", "shop_id", "queue_id", "tax_system", "vat", "payment_method", "auto_fiscalize",
                   "is_active",
                   "queue_state")
    column_details_list = (
        "name", "region", "shop_id", "queue_id", "tax_system", "vat", "delivery_vat", "next_tax_system",
        "next_vat", "tax_change_date", "payment_method", "payment_object", "top_up_payment_method",
        "top_up_payment_object", "top_up_name", "settlement_scheme", "auto_fiscalize", "print_receipt",
        "internet", "permissive_mode", "payment_address", "place_address", "company_inn", "name_template",
        "cashier_name", "cashier_inn", "agent_type", "timezone", "is_active", "api_url", "queue_state", "created_at",
        "updated_at", "webhooks",
    )
    column_labels = {
        "name": "Название", "region": "Регион", "shop_id": "ShopID", "queue_id": "ID очереди",
        "tax_system": "Система налогообложения", "vat": "Ставка налога", "delivery_vat": "Ставка НДС доставки",
        "next_tax_system": "Система налогообложения с даты", "next_vat": "Ставка налога с даты",
        "tax_change_date": "С какой даты", "payment_method": "Способ расчета при онлайн оплатах",
        "payment_object": "Предмет расчета",
        "top_up_payment_method": "Способ расчета при онлайн пополнении баланса клиентами",
        "top_up_payment_object": "Предмет расчета при онлайн пополнении баланса клиентами",
        "top_up_name": "Название позиции при онлайн пополнении баланса клиентами",
        "settlement_scheme": "Схема расчетов", "auto_fiscalize": "Активен при онлайн оплатах",
        "print_receipt": "Печатать чек при онлайн оплате", "internet": "Расчет в интернете",
        "permissive_mode": "Разрешительный режим",
        "payment_address": "Место расчетов", "place_address": "Адрес расчетов", "company_inn": "ИНН организации",
        "name_template": "Шаблон наименования позиции", "cashier_name": "Кассир", "cashier_inn": "ИНН кассира",
        "agent_type": "Роль агента по умолчанию", "timezone": "Часовая зона места расчетов",
        "is_active": "Касса включена", "api_url": "Адрес API (для тестовой кассы)", "queue_state": "Очередь",
        "created_at": "Создана", "updated_at": "Изменена", "webhooks": "Ссылки для уведомлений",
    }
    column_descriptions = {
        "webhooks": "Вставьте их в личном кабинете КОМТЕТ Кассы: Фискализация → Магазины → Редактировать.",
    }
    column_sortable_list = ("name", "region", "shop_id", "queue_id", "is_active")
    column_searchable_list = ("name", "region", "shop_id")
    column_default_sort = ("id", False)

    #: Shorter headings for the list's narrow columns (the details page keeps the full names).
    list_labels = {"tax_system": "СНО", "vat": "НДС", "auto_fiscalize": "Автофискализация",
                   "is_active": "Включена"}

    def __init__(self, state: Any, **kwargs: Any) -> None:
        self.form = register_form_class(state)
        self.column_formatters = self._formatters()
        super().__init__(state, state.models.CashRegister, state.db, **kwargs)

    # -- list and details --------------------------------------------------------------

    def get_list_columns(self) -> list[tuple[Any, str]]:
        return [(name, self.list_labels.get(name, label)) for name, label in super().get_list_columns()]

    def _region(self, view: Any, context: Any, model: Any, name: str) -> Markup:
        labels = dict(self.kassa_state.config.region_choices())
        main = labels.get(model.region, model.region)
        extra = [labels.get(code, code) for code in model.extra_regions or []]
        if not extra:
            return Markup("{}").format(main)
        return Markup('{}<br><small class="text-muted">+ {}</small>').format(main, ", ".join(extra))

    def _webhooks(self, view: Any, context: Any, model: Any, name: str) -> Markup:
        rows = []
        for outcome, title in (("success", "Success url"), ("failure", "Failure url")):
            url = self.kassa_state.webhook_url(model.id, outcome)
            if url is None:
                return Markup('<span class="text-danger">Адрес магазина неизвестен: задайте '
                              'KOMTET_KASSA_PUBLIC_URL</span>')
            rows.append(Markup(
                '<div class="komtet-url text-nowrap"><small class="text-muted">{}</small> '
                '<code class="komtet-url-text">{}</code> '
                '<button type="button" class="btn btn-sm btn-outline-secondary py-0 komtet-copy" data-copy="{}">'
                'Копировать</button></div>').format(title, url, url))
        return Markup("").join(rows)

    def webhooks(self, model: Any) -> Markup:
        """The success and failure URLs with their copy buttons."""
        return self._webhooks(self, None, model, "webhooks")

    def _queue(self, view: Any, context: Any, model: Any, name: str) -> Markup:
        """The last known queue state and the «Проверить очередь» button."""
        if model.queue_state:
            known = f"{_QUEUE_STATES.get(model.queue_state, model.queue_state)} ({format_moment(model.queue_checked_at)})"
        else:
            known = "не проверялась"
        return Markup(
            '<div class="small">{}</div><form method="POST" action="{}" class="komtet-post">{}'
            '<input type="hidden" name="id" value="{}"><input type="hidden" name="next" value="{}">'
            '<button type="submit" class="btn btn-sm btn-outline-secondary py-0">Проверить очередь</button></form>'
        ).format(known, self.get_url(".check_queue_view"), self.csrf_form().csrf_token, model.id,
                 request.full_path)

    def _formatters(self) -> dict[str, Any]:
        moment = lambda v, c, m, n: format_moment(getattr(m, n))  # noqa: E731
        return {
            "region": self._region, "webhooks": self._webhooks, "queue_state": self._queue,
            "tax_system": self._scheduled(_label(TaxSystem)), "vat": self._scheduled(_label(VatRate)),
            "delivery_vat": _label(VatRate), "next_vat": _label(VatRate), "next_tax_system": _label(TaxSystem),
            "tax_change_date": lambda v, c, m, n: m.tax_change_date.strftime("%d.%m.%Y") if m.tax_change_date else "",
            "payment_method": _method_with_settlement, "top_up_payment_method": _label(PaymentMethod),
            "payment_object": _label(PaymentObject), "top_up_payment_object": _label(PaymentObject),
            "settlement_scheme": _label(SettlementScheme), "agent_type": _label(AgentType),
            "timezone": _label(TimeZone),
            "auto_fiscalize": _yes_no, "print_receipt": _yes_no, "internet": _yes_no, "is_active": _yes_no,
            "permissive_mode": _yes_no,
            "created_at": moment, "updated_at": moment,
        }

    def tax_schedule(self, model: Any) -> str:
        """For the form's and the details page's header: what is in force now and from the scheduled date."""
        try:
            return TaxSchedule.of(model).sentence()
        except ValueError as exc:
            return f"Налоговые настройки кассы не читаются: {exc}"

    @staticmethod
    def _scheduled(formatter: Any) -> Any:
        """A tax setting as receipts get it today, and its scheduled change (else the stored value as is)."""
        def show(view: Any, context: Any, model: Any, name: str) -> Markup:
            try:
                return TaxSchedule.of(model).column(name)
            except ValueError:
                return Markup("{}").format(formatter(view, context, model, name))

        return show

    # -- saving ------------------------------------------------------------------------

    def on_model_delete(self, model: Any) -> None:
        Receipt = self.kassa_state.models.Receipt
        used = self.kassa_state.session.scalar(sa.select(Receipt.id).where(Receipt.register_id == model.id).limit(1))
        if used is not None:
            raise ValueError(f"Нельзя удалить кассу «{model.name}»: по ней есть чеки. "
                             "Выключите ее (снимите «Касса включена»).")

    # -- «Проверить очередь» -----------------------------------------------------------

    def check_queues(self, registers: list[Any]) -> None:
        for register in registers:
            try:
                answer = self._client(register).queue_state(register.queue_id)
            except KomtetError as exc:
                flash(f"Касса «{register.name}», очередь {register.queue_id}: {exc}", "error")
                continue
            register.queue_state, register.queue_checked_at = answer, utcnow()
            state_text = _QUEUE_STATES.get(answer, answer or "неизвестно")
            flash(f"Касса «{register.name}»: очередь {register.queue_id} {state_text}",
                  "success" if answer == "active" else "warning")
        self.kassa_state.session.commit()

    def _client(self, register: Any) -> Any:
        from ..outbox import client_for

        return client_for(self.kassa_state, register)

    @action("check_queue", "Проверить очередь")  # type: ignore[untyped-decorator]  # flask-admin, untyped
    def action_check_queue(self, ids: list[str]) -> None:
        CashRegister = self.model
        registers = self.kassa_state.session.scalars(sa.select(CashRegister).where(CashRegister.id.in_([int(i) for i in ids]))
                                         .order_by(CashRegister.id)).all()
        self.check_queues(list(registers))

    @expose("/check-queue/", methods=("POST",))  # type: ignore[untyped-decorator]  # flask-admin, untyped
    def check_queue_view(self) -> Any:
        form = self.csrf_form()
        register = self.kassa_state.session.get(self.model, request.form.get("id", type=int) or 0)
        if not form.validate():
            flash("Форма устарела (CSRF): обновите страницу и повторите", "error")
        elif register is None:
            flash("Такой кассы нет", "error")
        else:
            self.check_queues([register])
        return redirect(request.form.get("next") or self.get_url(".index_view"))

