"""The УСН VAT-threshold watch on both sides of 80 % and of 100 %, and the VAT change it schedules."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from flask_komtet.enums import TaxSystem
from flask_komtet.ops import schedule_vat_change, threshold_for, threshold_watch
from tests.ops_fixtures import add_registers, insert, receipt_row

TODAY = date(2026, 11, 15)
INN = "7707083893"


def test_thresholds_by_year() -> None:
    assert threshold_for(2026) == Decimal(20_000_000)
    assert threshold_for(2027) == Decimal(15_000_000)
    assert threshold_for(2028) == threshold_for(2031) == Decimal(10_000_000)
    assert threshold_for(2024) is None


@pytest.fixture
def shop(make_app):
    app, db, kassa = make_app()
    ids = add_registers(
        app, db,
        {"name": "Интернет-магазин", "tax_system": int(TaxSystem.SIMPLIFIED_IN), "vat": "no", "company_inn": INN},
        {"name": "Склад", "tax_system": int(TaxSystem.SIMPLIFIED_IN), "vat": "no", "company_inn": INN},
        {"name": "ОСН", "tax_system": int(TaxSystem.COMMON), "vat": "22", "company_inn": "7736207543"},
    )
    return app, db, ids


def watch(app):
    with app.app_context():
        return threshold_watch(app.extensions["komtet_kassa"], today=TODAY)


def income(app, db, ids, sales: str, refunds: str = "0") -> None:
    """This year's sales split over the two УСН registers, a refund, and noise that does not count."""
    half = (Decimal(sales) / 2).quantize(Decimal("0.01"))
    insert(app, db, [
        receipt_row(created=datetime(2026, 3, 1, 12), total=half, register_id=ids[0]),
        receipt_row(created=datetime(2026, 10, 1, 12), total=Decimal(sales) - half, register_id=ids[1]),
        receipt_row(created=datetime(2026, 10, 2, 12), kind="refund", total=refunds, register_id=ids[0]),
        receipt_row(created=datetime(2025, 12, 31, 23, 0), total="9000000.00", register_id=ids[0]),  # last year
        receipt_row(created=datetime(2026, 5, 1, 12), state="error", total="9000000.00", register_id=ids[0]),
        receipt_row(created=datetime(2026, 5, 1, 12), kind="settle", total="9000000.00", register_id=ids[0]),
        receipt_row(created=datetime(2026, 5, 1, 12), total="9000000.00", register_id=ids[2]),  # another company
    ])


@pytest.mark.parametrize(("sales", "refunds", "level", "percent"), [
    ("15999999.99", "0", "ok", 80.0),            # 79.99999 %
    ("16000000.00", "0", "warning", 80.0),       # 80 % exactly
    ("16100000.00", "100000.00", "warning", 80.0),
    ("20000000.00", "0", "warning", 100.0),      # at the threshold: not above it
    ("20000000.01", "0", "crossed", 100.0),
    ("25000000.00", "1000000.00", "crossed", 120.0),
])
def test_both_sides_of_80_and_100_percent(shop, sales: str, refunds: str, level: str, percent: float) -> None:
    app, db, ids = shop
    income(app, db, ids, sales, refunds)
    [company] = watch(app)
    assert company.inn == INN and [r.name for r in company.registers] == ["Интернет-магазин", "Склад"]
    assert company.income == Decimal(sales) - Decimal(refunds)
    assert company.threshold == Decimal(20_000_000)
    assert (company.level, company.percent) == (level, percent)


def test_the_proposal_schedules_vat_5_from_the_first_of_next_month_once(shop) -> None:
    app, db, ids = shop
    income(app, db, ids, "16000000.00")
    with app.app_context():
        assert schedule_vat_change(app.extensions["komtet_kassa"], INN, today=TODAY) == []  # not crossed yet
    income(app, db, ids, "4000000.02")
    [company] = watch(app)
    assert company.level == "crossed" and company.rate.value == "5" and company.change_date == date(2026, 12, 1)
    assert [r.name for r in company.to_schedule] == ["Интернет-магазин", "Склад"]
    with app.app_context():
        state = app.extensions["komtet_kassa"]
        changed = schedule_vat_change(state, INN, today=TODAY)
        state.session.commit()
        assert [(r.next_vat, r.tax_change_date) for r in changed] == [("5", date(2026, 12, 1))] * 2
        assert schedule_vat_change(state, INN, today=TODAY) == []  # already planned
    [company] = watch(app)
    assert company.to_schedule == ()


def test_above_272_5_million_the_rate_is_7(shop) -> None:
    app, db, ids = shop
    income(app, db, ids, "300000000.00")
    [company] = watch(app)
    assert company.rate.value == "7"


def test_registers_without_an_inn_are_one_company_and_osn_is_not_watched(make_app) -> None:
    app, db, kassa = make_app()
    ids = add_registers(app, db, {"tax_system": int(TaxSystem.SIMPLIFIED_IN_OUT), "vat": "no"},
                        {"tax_system": int(TaxSystem.COMMON), "vat": "22"})
    insert(app, db, [receipt_row(created=datetime(2026, 6, 1, 12), total="1000.00", register_id=ids[0])])
    [company] = watch(app)
    assert company.inn is None and [r.id for r in company.registers] == [ids[0]]
    assert (company.income, company.level) == (Decimal("1000.00"), "ok")


def test_the_page_remembers_the_days_before_today_and_reads_today_live(shop, monkeypatch) -> None:
    from flask_komtet.ops import threshold

    app, db, ids = shop
    income(app, db, ids, "1000000.00")
    with app.app_context():
        state = app.extensions["komtet_kassa"]
        [cached] = threshold_watch(state, today=TODAY, cached=True)
        [fresh] = threshold_watch(state, today=TODAY)
        assert cached.income == fresh.income == Decimal("1000000.00")
    insert(app, db, [receipt_row(created=datetime(2026, 11, 15, 9), total="500.00", register_id=ids[0]),  # today
                     receipt_row(created=datetime(2026, 11, 14, 9), total="700.00", register_id=ids[0])])  # earlier
    with app.app_context():
        [cached] = threshold_watch(state, today=TODAY, cached=True)
        assert cached.income == Decimal("1000500.00")  # today's at once, yesterday's after CACHE_FOR
        monkeypatch.setattr(threshold, "CACHE_FOR", 0.0)
        [cached] = threshold_watch(state, today=TODAY, cached=True)
        assert cached.income == Decimal("1001200.00")
