"""«Сводка» in a real browser (headless Chromium): the example shop with six weeks of history; screenshot to docs/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.shop_fixtures import example_shop_served
from tests.test_admin_browser import body, browser, shot, wait_until  # noqa: F401 - the fixture

pytestmark = pytest.mark.browser


def test_the_manager_opens_the_summary_and_follows_a_failure_reason(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    from example_shop import db, kassa
    from example_shop.history import seed_history

    with example_shop_served(tmp_path, emulator_delay=0.3, seed=5, SECRET_KEY="browser-test") as (app, emulator, url):
        with app.app_context():
            registers = db.session.scalars(db.select(kassa.models.CashRegister).order_by("id")).all()
            assert seed_history(db, kassa.models, registers) > 1000
        driver = browser
        driver.get(url + "/admin/")
        menu = driver.find_element(By.PARTIAL_LINK_TEXT, "Онлайн-кассы")
        menu.click()
        items = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".dropdown-menu a") if e.text]
        assert items.index("Сводка") < items.index("Чеки")
        driver.get(url + "/admin/komtet_summary/")
        wait_until(lambda: "Частые причины ошибок" in body(driver), what="«Сводка»")
        page = body(driver)
        for text in ("Требует внимания сейчас", "Чеки ждут ручной отправки", "Чеки по дням",
                     "Фискализировано по дням", "Время от оплаты до выполнения", "Порог НДС для УСН",
                     "учтены только чеки, прошедшие через этот магазин", "Касса: закончилась бумага в ККТ"):
            assert text in page, text
        charts = driver.find_elements(By.CSS_SELECTOR, ".komtet-chart svg")
        assert len(charts) == 3 and all(c.size["width"] > 600 and c.size["height"] > 100 for c in charts)
        assert len(driver.find_elements(By.CSS_SELECTOR, ".komtet-chart-counts rect")) > 30
        assert driver.find_elements(By.CSS_SELECTOR, ".komtet-usn-company .progress-bar")
        shot(driver, "admin-summary")
        reason = driver.find_element(By.PARTIAL_LINK_TEXT, "закончилась бумага")
        count = int(reason.find_element(By.XPATH, "./ancestor::tr").find_element(By.CSS_SELECTOR, ".komtet-count").text)
        reason.click()
        wait_until(lambda: "/admin/komtet_receipts/" in driver.current_url, what="the filtered receipts")
        rows = driver.find_elements(By.CSS_SELECTOR, "table.model-list tbody tr")
        assert len(rows) == count and all("закончилась бумага" in row.text for row in rows)
