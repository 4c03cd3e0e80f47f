"""«Сводка»'s numbers against receipts made for the purpose: states, sums, percentiles, reasons, days in the shop's zone.

Each test runs on SQLite and on PostgreSQL (``percentile_cont`` there, window functions on SQLite).
"""

from __future__ import annotations

import random
from datetime import date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from flask_komtet.ops import build_summary, make_period
from flask_komtet.ops.period import Period
from tests.ops_fixtures import MSK, add_registers, insert, percentile_cont, receipt_row

LAST = date(2026, 11, 30)


def at(day: int, hour: int = 12, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute)


def summary_of(app, days: int = 7, register_id: int | None = None, last: date = LAST):
    with app.app_context():
        state = app.extensions["komtet_kassa"]
        count = _Counter()
        sa.event.listen(state.db.engine, "before_cursor_execute", count)
        try:
            result = build_summary(state, make_period(state, days, last=last), register_id)
        finally:
            sa.event.remove(state.db.engine, "before_cursor_execute", count)
        state.session.rollback()
        return result, count.n


class _Counter:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self, *args, **kwargs) -> None:
        self.n += 1


@pytest.fixture
def shop(make_app):
    app, db, kassa = make_app()
    add_registers(app, db, {"name": "Москва"}, {"name": "Тверь"})
    return app, db


def test_states_sums_and_days_in_the_shops_zone(shop) -> None:
    app, db = shop
    insert(app, db, [
        # 30 November: three sales, one refund, an error, a queued and a held receipt.
        receipt_row(created=at(30, 10), total="100.00", seconds=10),
        receipt_row(created=at(30, 11), total="200.50", seconds=20),
        receipt_row(created=at(30, 0, 10), total="300.00", seconds=40),  # 21:10 UTC on the 29th: Moscow's 30th
        receipt_row(created=at(30, 13), kind="refund", total="50.00", seconds=5),
        receipt_row(created=at(30, 14), state="error", error="Касса отклонила чек: неверная ставка НДС"),
        receipt_row(created=at(30, 15), state="queued"),
        receipt_row(created=at(30, 16), state="held"),
        # 29 November: two sales, a top-up (money taken), a settlement (not money again), a failed receipt.
        receipt_row(created=at(29, 9), total="1000.00", seconds=5),
        receipt_row(created=at(29, 23, 30), total="1000.00", seconds=7),  # 20:30 UTC: still Moscow's 29th
        receipt_row(created=at(29, 12), kind="topup", total="500.00", seconds=6),
        receipt_row(created=at(29, 12, 30), kind="settle", total="999.00", seconds=8),
        receipt_row(created=at(29, 13), state="failed", error="Нет активной кассы для региона «Тверь»"),
        receipt_row(created=at(29, 14), state="sent"),
        # Outside the period: the evening before its first day, and after its last.
        receipt_row(created=at(23, 23, 59), total="7777.00"),
        receipt_row(created=at(1, 0, 0, month=12), total="8888.00"),
        # Another register's done sale on the 28th.
        receipt_row(created=at(28, 12), total="42.00", seconds=3, register_id=2),
    ])
    summary, queries = summary_of(app)
    assert queries == 3
    days = {d.day: d for d in summary.days}
    assert list(days) == [date(2026, 11, n) for n in range(24, 31)]
    d30, d29, d28 = days[date(2026, 11, 30)], days[date(2026, 11, 29)], days[date(2026, 11, 28)]
    assert (d30.done, d30.failed, d30.waiting) == (4, 1, 2)
    assert (d29.done, d29.failed, d29.waiting) == (4, 1, 1)
    assert (d28.done, d28.failed, d28.waiting) == (1, 0, 0)
    assert (d30.sales, d30.refunds, d30.net) == (Decimal("600.50"), Decimal("50.00"), Decimal("550.50"))
    assert (d29.sales, d29.refunds) == (Decimal("2500.00"), Decimal("0.00"))
    assert d28.sales == Decimal("42.00")
    assert sum(d.total for d in summary.days) == summary.total == 16 - 2
    assert (summary.done, summary.failed, summary.waiting) == (9, 2, 3)
    assert summary.net == Decimal("3092.50")
    # Time to done per day: 30th: 10, 20, 40 (sales) and 5 (refund).
    assert d30.timed == 4
    assert d30.p50 == pytest.approx(percentile_cont([10, 20, 40, 5], 0.5), abs=0.01) == pytest.approx(15, abs=0.01)
    assert d30.p95 == pytest.approx(percentile_cont([10, 20, 40, 5], 0.95), abs=0.01)
    assert d29.p50 == pytest.approx(percentile_cont([5, 7, 6, 8], 0.5), abs=0.01)
    assert days[date(2026, 11, 27)].p50 is None and days[date(2026, 11, 27)].timed == 0
    assert [(r.state, r.text, r.count) for r in summary.reasons] == [
        ("error", "Касса отклонила чек: неверная ставка НДС", 1),
        ("failed", "Нет активной кассы для региона «Тверь»", 1)]


def test_the_register_filter(shop) -> None:
    app, db = shop
    insert(app, db, [receipt_row(created=at(28, 12), total="42.00", register_id=2),
                     receipt_row(created=at(28, 12), total="10.00", register_id=1),
                     receipt_row(created=at(28, 13), state="failed", error="X", register_id=2)])
    summary, _ = summary_of(app, register_id=2)
    assert (summary.done, summary.failed, summary.sales) == (1, 1, Decimal("42.00"))
    assert [r.count for r in summary.reasons] == [1]


def test_percentiles_match_percentile_cont_on_many_values(shop) -> None:
    app, db = shop
    rng = random.Random(20)
    times = {day: [round(rng.uniform(0.5, 400), 3) for _ in range(rng.randint(1, 45))] for day in (25, 26, 27)}
    insert(app, db, [receipt_row(created=at(day, rng.randint(0, 23), rng.randint(0, 59)), seconds=s)
                     for day, values in times.items() for s in values])
    summary, _ = summary_of(app)
    days = {d.day.day: d for d in summary.days}
    for day, values in times.items():
        assert days[day].timed == len(values)
        assert days[day].p50 == pytest.approx(percentile_cont(values, 0.5), abs=0.01)
        assert days[day].p95 == pytest.approx(percentile_cont(values, 0.95), abs=0.01)


def test_top_reasons_are_counted_and_ordered(shop) -> None:
    app, db = shop
    texts = {"KOMTET отклонил чек: неверный ИНН": 5, "Ошибка авторизации в KOMTET": 3, "Касса: нет бумаги": 2}
    rows = [receipt_row(created=at(26, 10 + n % 10), state="failed" if "KOMTET" in text else "error", error=text)
            for text, count in texts.items() for n in range(count)]
    insert(app, db, rows + [receipt_row(created=at(26, 9), state="queued", error="KOMTET не ответил (попытка 1)")])
    summary, _ = summary_of(app)
    assert [(r.text, r.count) for r in summary.reasons] == list(texts.items())


def test_a_zone_with_daylight_saving_puts_receipts_in_their_local_day(make_app) -> None:
    """Berlin changes its clock on 29 March 2026: SQLite compares with each day's own bounds then."""
    app, db, kassa = make_app(flask_config={"KOMTET_KASSA_TIMEZONE": "Europe/Berlin"})
    add_registers(app, db, {"name": "Берлин"})
    berlin = [datetime(2026, 3, 28, 23, 30), datetime(2026, 3, 29, 0, 30), datetime(2026, 3, 29, 23, 30),
              datetime(2026, 3, 30, 0, 30)]
    from zoneinfo import ZoneInfo

    zone = ZoneInfo("Europe/Berlin")
    rows = []
    for moment in berlin:
        utc = moment.replace(tzinfo=zone).astimezone(MSK).replace(tzinfo=None)  # as Moscow wall time for the helper
        rows.append(receipt_row(created=utc))
    insert(app, db, rows)
    with app.app_context():
        state = app.extensions["komtet_kassa"]
        period = Period(zone, date(2026, 3, 27), date(2026, 3, 31))
        assert period.constant_offset() is None
        summary = build_summary(state, period)
    assert {d.day.day: d.done for d in summary.days} == {27: 0, 28: 1, 29: 2, 30: 1, 31: 0}
