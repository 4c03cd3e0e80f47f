"""Marked goods in a real browser: a receipt held for a missing code, scanned in from the admin and sent.

The example shop and the KOMTET emulator run on loopback ports; a keyboard-wedge scanner types the codes
into the textarea one per line (GS lost, or written ``<GS>``). Screenshot: ``docs/admin-marks.png``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flask_komtet import Customer, Order, OrderLine, Payment
from tests.shop_fixtures import example_shop_served
from tests.test_admin_browser import body, browser, shot, submit, wait_until  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser
GS = "\x1d"


def shoes(n: int) -> str:
    return f"0104601234567893{21}{n:013d}{GS}91EE06{GS}92{'dGVzdHNpZ25hdHVyZQ'.ljust(44, str(n % 10))}"


def test_a_manager_scans_the_missing_codes_into_a_held_receipt(browser: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    with example_shop_served(tmp_path, emulator_delay=0.2, seed=5, SECRET_KEY="marks-test") as (app, emulator, url):
        from example_shop import db
        from example_shop.extensions import kassa

        order = Order("M-1", [OrderLine("Кроссовки беговые", "6990.00", 3, marks=[shoes(1)], marked=True),
                              OrderLine("Носки", "290.00", 1)],
                      customer=Customer(email="anna@example.com"), region="msk",
                      payments=[Payment("card", "21260.00")])
        with app.app_context():
            receipt = kassa.fiscalize(order)
            db.session.commit()
            receipt_id, state = receipt.id, receipt.state
        assert state == "held"

        driver.get(f"{url}/admin/komtet_receipts/details/?id={receipt_id}")
        wait_until(lambda: "Маркированные товары" in body(driver), what="the marks table")
        page = body(driver)
        assert "нет кода маркировки для «Кроссовки беговые» (строка 1): единицы 2, 3 из 3" in page
        assert page.count("нет кода маркировки") >= 3 and "04601234567893" in page and "0000000000001" in page
        textarea = driver.find_element(By.NAME, "codes")
        scanned_app = json.dumps({"code": shoes(3).replace(GS, "<GS>"), "reqId": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                                  "reqTimestamp": 1764770000000})  # KOMTET's scanning app, with the check result
        textarea.send_keys(shoes(2).replace(GS, "") + "\n" + scanned_app + "\n")
        submit(driver, "button.komtet-marks-send")
        wait_until(lambda: "Коды маркировки добавлены" in body(driver), what="the codes taken")

        def done() -> bool:
            driver.get(f"{url}/admin/komtet_receipts/details/?id={receipt_id}")
            return "Фискальные данные" in body(driver) and "Выполнен" in body(driver)

        wait_until(done, what="the receipt done")
        page = body(driver)
        for text in ("0000000000002", "0000000000003", "1 — штучный товар реализован", "gs1m",
                     "UUID=3fa85f64-5717-4562-b3fc-2c963f66afa6&Time=1764770000000"):
            assert text in page, text
        assert "нет кода маркировки" not in page.split("Маркированные товары", 1)[1].split("Чеки заказа")[0]
        shot(driver, "admin-marks")
        [task] = [t for t in emulator.tasks() if t.external_id == "sale-M-1-1"]
        assert [p["mark_code"]["gs1m"] for p in task.payload["positions"] if "mark_code" in p] == [
            shoes(1), shoes(2), shoes(3)]
