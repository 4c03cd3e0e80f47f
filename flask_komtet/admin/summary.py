"""«Сводка»: the first page of «Онлайн-кассы»: did every paid order get its receipt, and what needs a person.

For a period (default 30 days) and a register, in the shop's time zone:
receipts per day by state, fiscalized sums per day, the time from payment to
``done`` (median and 95th percentile), the top failure reasons (each a link
to the filtered «Чеки»), what needs a person now, and the УСН VAT-threshold
watch with its one-click «Запланировать НДС». The figures come from
:mod:`flask_komtet.ops` (a constant number of aggregate queries); the charts
are SVG drawn on the server (:mod:`.charts`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, request, url_for
from flask_admin import BaseView, expose
from markupsafe import Markup

from ..enums import ReceiptKind
from ..ops import (
    AttentionItem,
    Reason,
    Summary,
    attention_report,
    build_summary,
    make_period,
    schedule_vat_change,
    threshold_watch,
)
from ..ops.attention import age_text
from .base import KassaView, format_moment, format_rub, state_badge
from .charts import Series, bar_chart, line_chart

__all__ = ["PERIODS", "SummaryView", "format_seconds"]

PERIODS = {7: "7 дней", 30: "30 дней", 90: "90 дней", 365: "365 дней"}
COLORS = {"done": "#28a745", "failed": "#dc3545", "waiting": "#17a2b8", "sales": "#2f6fb5", "refunds": "#e0883a",
          "p50": "#2f6fb5", "p95": "#c0392b"}


def format_seconds(value: float | None) -> str:
    """``75.3`` → ``1 мин 15 с``; ``4.23`` → ``4,2 с``; ``25.0`` → ``25 с``."""
    if value is None:
        return "—"
    if value == 0:
        return "0"
    if value < 10:
        return f"{value:.1f} с".replace(".", ",")
    if value < 60:
        return f"{value:.0f} с"
    minutes, seconds = divmod(int(round(value)), 60)
    if minutes < 60:
        return f"{minutes} мин {seconds} с" if seconds else f"{minutes} мин"
    return f"{minutes // 60} ч {minutes % 60} мин"


def _short_rub(value: float) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:g} млн"
    if abs(value) >= 1000:
        return f"{value / 1000:g} тыс"
    return f"{value:g}"


def charts(summary: Summary) -> dict[str, Markup]:
    """The three charts of the period."""
    days = [d.day for d in summary.days]
    counts = [f"{d.day:%d.%m}: выполнено {d.done}, ошибки {d.failed}, в работе {d.waiting}" for d in summary.days]
    money = [f"{d.day:%d.%m}: продажи {format_rub(d.sales)}, возвраты {format_rub(d.refunds)}, итого {format_rub(d.net)}"
             for d in summary.days]
    times = [f"{d.day:%d.%m}: медиана {format_seconds(d.p50)}, 95% {format_seconds(d.p95)} ({d.timed} чеков)"
             for d in summary.days]
    return {
        "counts": bar_chart(days, [
            Series("Выполнено", COLORS["done"], [d.done for d in summary.days]),
            Series("Ошибка / не отправлен", COLORS["failed"], [d.failed for d in summary.days]),
            Series("В работе (ожидает, в очереди, отправлен)", COLORS["waiting"], [d.waiting for d in summary.days]),
        ], label="Чеки по дням", css="komtet-chart-counts", titles=counts),
        "sums": bar_chart(days, [
            Series("Продажи", COLORS["sales"], [float(d.sales) for d in summary.days]),
            Series("Возвраты", COLORS["refunds"], [-float(d.refunds) for d in summary.days]),
        ], label="Сумма чеков по дням", css="komtet-chart-sums", fmt=_short_rub, titles=money),
        "latency": line_chart(days, [
            Series("Медиана", COLORS["p50"], [d.p50 for d in summary.days]),
            Series("95-й процентиль", COLORS["p95"], [d.p95 for d in summary.days]),
        ], label="Время от оплаты до выполнения", css="komtet-chart-latency", fmt=format_seconds, titles=times),
    }


class SummaryView(KassaView, BaseView):  # type: ignore[misc, unused-ignore]  # flask-admin is untyped
    """«Сводка» (``index``) and its one POST, «Запланировать НДС» (``vat``)."""

    receipts_endpoint = "komtet_receipts"
    registers_endpoint = "komtet_registers"

    def _args(self) -> tuple[int, int | None]:
        days = request.args.get("days", type=int) or 30
        return max(1, min(days, 366)), request.args.get("register", type=int)

    @expose("/")  # type: ignore[untyped-decorator, unused-ignore]
    def index(self) -> Any:
        state = self.kassa_state
        days, register_id = self._args()
        period = make_period(state, days)
        summary = build_summary(state, period, register_id)
        CashRegister = state.models.CashRegister
        registers = dict(state.session.execute(sa.select(CashRegister.id, CashRegister.name).order_by(CashRegister.id)).all())
        return self.render(
            "komtet_admin/summary.html", summary=summary, period=period, days=days, periods=PERIODS,
            register_id=register_id, registers=registers, charts=charts(summary),
            attention=attention_report(state, register_id), watches=threshold_watch(state, cached=True),
            form=self.csrf_form(), view=self, format_rub=format_rub, format_moment=format_moment,
            format_seconds=format_seconds, state_badge=state_badge, age_text=age_text, Decimal=Decimal)

    @expose("/vat/", methods=("POST",))  # type: ignore[untyped-decorator, unused-ignore]
    def vat(self) -> Any:
        if not self.csrf_form().validate():
            flash("Форма устарела (CSRF): обновите страницу и повторите", "error")
            return redirect(url_for(".index"))
        state = self.kassa_state
        changed = schedule_vat_change(state, request.form.get("inn") or None)
        if not changed:
            flash("Менять нечего: изменение НДС уже запланировано или порог не превышен", "warning")
            return redirect(url_for(".index"))
        state.session.commit()
        state.registers.forget()
        names = ", ".join(f"«{r.name}»" for r in changed)
        flash(f"Запланировано: с {changed[0].tax_change_date:%d.%m.%Y} НДС {changed[0].next_vat}% в кассах {names}. "
              "Проверьте ставки товаров и настройки кассы.", "success")
        return redirect(url_for(".index"))

    # -- links to «Чеки» filtered -----------------------------------------------------------

    def _filter_index(self, name: str) -> int | None:
        view = next((v for v in self.admin._views if getattr(v, "endpoint", None) == self.receipts_endpoint), None)
        for index, flt in enumerate(getattr(view, "_filters", None) or []):
            if str(flt.name) == name:
                return index
        return None

    def receipts_url(self, *, state: str | None = None, error: str | None = None, register_id: int | None = None,
                     period: Any = None, kind: str | None = None) -> str:
        """«Чеки» filtered by state, kind, error text, register and the period's days."""
        args: dict[str, Any] = {}
        wanted = [("Состояние", state), ("Вид", kind), ("Ошибка", error[:120] if error else None),
                  ("Касса", str(register_id) if register_id is not None else None),
                  ("Создан", f"{period.first:%Y-%m-%d} to {period.last:%Y-%m-%d}" if period is not None else None)]
        for name, value in wanted:
            index = self._filter_index(name)
            if value is not None and index is not None:
                args[f"flt{len(args)}_{index}"] = value
        return url_for(f"{self.receipts_endpoint}.index_view", **args)

    def reason_url(self, reason: Reason, summary: Summary) -> str:
        return self.receipts_url(state=reason.state, error=reason.text, register_id=summary.register_id,
                                 period=summary.period)

    def attention_url(self, item: AttentionItem, register_id: int | None) -> str:
        if item.key == "passive":
            return url_for(f"{self.registers_endpoint}.index_view")
        return self.receipts_url(state=item.state, register_id=register_id,
                                 kind=ReceiptKind.SETTLEMENT.value if item.key == "settlement" else None)

    def register_url(self, register_id: int) -> str:
        return url_for(f"{self.registers_endpoint}.edit_view", id=register_id)
