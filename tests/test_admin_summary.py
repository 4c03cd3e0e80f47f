"""«Сводка» in the admin (Flask's test client): the figures, the links to «Чеки», the access rule, «Запланировать НДС»."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import sqlalchemy as sa

from flask_komtet.enums import TaxSystem
from tests.ops_fixtures import MSK, add_registers, insert, receipt_row
from tests.test_admin import AdminClient, admin_app, text  # noqa: F401 - the fixture

SUMMARY = "/admin/komtet_summary/"


def today() -> date:
    return datetime.now(MSK).date()


def noon(days_ago: int) -> datetime:
    return datetime.combine(today() - timedelta(days=days_ago), time(12))


def test_summary_shows_the_periods_figures_and_links_them(admin_app) -> None:
    app, db, kassa = admin_app()
    ids = add_registers(app, db, {"name": "Москва"}, {"name": "Тверь", "queue_state": "passive"})
    insert(app, db, [
        receipt_row(created=noon(1), total="1000.00", seconds=4),
        receipt_row(created=noon(2), total="250.50", seconds=8),
        receipt_row(created=noon(2), kind="refund", total="50.00", seconds=3),
        receipt_row(created=noon(3), state="failed", error="Нет активной кассы для региона «Тверь»"),
        receipt_row(created=noon(3), state="failed", error="Нет активной кассы для региона «Тверь»"),
        receipt_row(created=noon(4), state="error", error="Касса: нет бумаги", register_id=ids[1]),
        receipt_row(created=noon(5), state="held"),
        receipt_row(created=noon(40), total="999.00"),  # before the 30 days
    ])
    client = AdminClient(app)
    page = client.get(SUMMARY)
    visible = text(page)
    assert "Сводка" in visible and "Europe/Moscow" in visible
    for css, value in (("total", "7"), ("done", "3"), ("failed", "3"), ("waiting", "1"),
                       ("sales", "1 250,50 ₽"), ("refunds", "50,00 ₽"), ("net", "1 200,50 ₽")):
        block = re.search(rf'komtet-total-{css}">(.*?)</div>\s*</div>', page, re.S).group(1)
        assert value in text(block), (css, text(block))
    own = page.split('class="komtet-summary"', 1)[1].split('<script  src="/admin/static/vendor/jquery', 1)[0]
    assert own.count("<svg") == 3 and "<script" not in own and not re.search(r'src="(https?:)?//', page)  # no JS, no CDN
    assert "Чеки ждут ручной отправки" in visible and "Очередь кассы в КОМТЕТ неактивна (passive)" in visible
    reasons = re.findall(r'<tr class="komtet-reason">\s*<td><a href="([^"]+)">([^<]+)</a>.*?komtet-count">(\d+)<', page, re.S)
    assert [(name, int(n)) for _, name, n in reasons] == [("Нет активной кассы для региона «Тверь»", 2),
                                                          ("Касса: нет бумаги", 1)]
    listed = text(client.get(reasons[0][0].replace("&amp;", "&")))
    assert listed.count("Нет активной кассы для региона «Тверь»") >= 2 and "нет бумаги" not in listed
    held = re.search(r'komtet-attention-held">\s*<a href="([^"]+)"', page).group(1).replace("&amp;", "&")
    listed = text(client.get(held))
    assert listed.count("Ожидает ручной отправки") >= 1 and "Выполнен" not in listed.split("Ожидает ручной отправки", 1)[1]
    # One register: only its receipts.
    visible = text(client.get(f"{SUMMARY}?days=7&register={ids[1]}"))
    assert "Касса: нет бумаги" in visible and "Нет активной кассы" not in visible


def test_menu_access_and_the_vat_proposal(admin_app) -> None:
    allowed = {"yes": True}
    app, db, kassa = admin_app(admin_access=lambda: allowed["yes"])
    [register] = add_registers(app, db, {"name": "Магазин на УСН", "tax_system": int(TaxSystem.SIMPLIFIED_IN),
                                         "vat": "no", "company_inn": "7707083893"})
    client = AdminClient(app)
    menu = client.get("/admin/")
    category = menu[menu.index("Онлайн-кассы"):]
    assert category.index("Сводка") < category.index("Чеки")
    insert(app, db, [receipt_row(created=datetime(today().year, 1, 1, 12) + timedelta(days=1 if today().month > 1 else 0),
                                 total="16500000.00", register_id=register)])
    visible = text(client.get(SUMMARY))
    assert "ИНН 7707083893" in visible and "Доход достиг 80 % порога" in visible
    assert "учтены только чеки, прошедшие через этот магазин" in visible
    assert "Запланировать НДС" not in visible
    insert(app, db, [receipt_row(created=noon(0) - timedelta(hours=1), total="4000000.00", register_id=register)])
    visible = text(client.get(SUMMARY))
    assert "Порог превышен" in visible and "Запланировать НДС 5 %" in visible
    page = text(client.post(SUMMARY + "vat/", {"inn": "7707083893"}))
    first = (today().replace(day=1) + timedelta(days=32)).replace(day=1)
    assert f"Запланировано: с {first:%d.%m.%Y} НДС 5%" in page
    assert "уже запланировано или действует" in page
    with app.app_context():
        saved = db.session.get(kassa.models.CashRegister, register)
        assert (saved.next_vat, saved.tax_change_date) == ("5", first)
    allowed["yes"] = False
    assert app.test_client().get(SUMMARY).status_code == 403
    assert app.test_client().post(SUMMARY + "vat/", data={"inn": ""}).status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(kassa.models.Receipt)) == 2
    assert Decimal("0") == 0
