"""The admin in a real browser: headless Chromium (Debian's ``chromium`` + ``chromium-driver``) driven by Selenium.

A manager creates a cash register in the admin form and sees its webhook URLs
(and copies one); a buyer pays an order in the example shop; the manager
watches the receipt reach «Выполнен» in the receipt list and opens its
details; then fiscalizes another order by hand after a preview. The example
shop and the KOMTET emulator run on loopback ports. Screenshots of each screen
go to ``docs/`` (shown in the README).

``scripts/install-browser`` installs what this needs. The test fails, rather
than skips, when the browser cannot start, unless ``FLASK_KOMTET_SKIP_BROWSER=1``.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from flask_komtet.emulator import KomtetEmulator
from tests.shop_fixtures import example_shop_served, wait_for

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--lang=ru-RU", "--window-size=1440,1000")
SHOP_ID, SHOP_SECRET = "tea-msk", "Tea-Secret-4242"


@pytest.fixture
def browser() -> Iterator[Any]:
    """A headless Chromium; a clear failure (not a skip) if it cannot start."""
    if os.environ.get("FLASK_KOMTET_SKIP_BROWSER") == "1":
        pytest.skip("browser tests disabled by FLASK_KOMTET_SKIP_BROWSER=1")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail("Selenium is not installed: run scripts/install-browser", pytrace=False)
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.path.exists(path):
            pytest.fail(f"{path} is missing: run scripts/install-browser", pytrace=False)
    profile = tempfile.mkdtemp(prefix="komtet-chromium-")
    options = Options()
    options.binary_location = CHROMIUM
    for flag in FLAGS + (f"--user-data-dir={profile}",):
        options.add_argument(flag)
    try:
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    except Exception as exc:  # noqa: BLE001 - say why, loudly
        shutil.rmtree(profile, ignore_errors=True)
        pytest.fail(f"headless Chromium did not start: {exc}", pytrace=False)
    driver.set_page_load_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def live_shop(tmp_path: Path) -> Iterator[tuple[Any, KomtetEmulator, str]]:
    """The example shop (no registers yet) on a loopback port, with the KOMTET emulator beside it."""
    with example_shop_served(tmp_path, emulator_delay=0.3, seed=3, with_registers=False,
                             SECRET_KEY="browser-test") as (app, emulator, url):
        emulator.add_shop(SHOP_ID, SHOP_SECRET, queues=(1,))
        yield app, emulator, url


def wait_until(condition: Callable[[], Any], timeout: float = 20, what: str = "") -> Any:
    """``wait_for`` a page condition; a page that changes under the driver counts as not yet."""
    from selenium.common.exceptions import StaleElementReferenceException

    return wait_for(condition, timeout=timeout, interval=0.2, ignoring=(StaleElementReferenceException,), what=what)


def shot(driver: Any, name: str, width: int = 1440) -> None:
    """Save the whole page (the window grown to the page's height) as docs/<name>.png."""
    driver.execute_script("document.querySelectorAll('.table-responsive').forEach(t => t.scrollLeft = 0)")
    height = driver.execute_script("return Math.max(document.body.scrollHeight, 700)")
    driver.set_window_size(width, min(int(height) + 40, 3200))
    driver.execute_script("window.scrollTo(0, 0)")
    DOCS.mkdir(exist_ok=True)
    assert driver.save_screenshot(str(DOCS / f"{name}.png"))
    driver.set_window_size(width, 1000)


def fill(driver: Any, values: dict[str, str]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    for name, value in values.items():
        element = driver.find_element(By.NAME, name)
        if element.tag_name == "select":
            Select(element).select_by_value(value)
        elif element.get_attribute("type") == "checkbox":
            if element.is_selected() != (value == "y"):
                driver.execute_script("arguments[0].click()", element)
        else:
            element.clear()
            element.send_keys(value)


def submit(driver: Any, selector: str) -> None:
    from selenium.webdriver.common.by import By

    button = driver.find_element(By.CSS_SELECTOR, selector)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", button)
    button.click()


def add_to_cart(driver: Any, product_url: str) -> None:
    driver.get(product_url)
    submit(driver, "form.buy button")
    wait_until(lambda: driver.current_url.endswith("/cart"), what="the cart")


def body(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "body").text


def test_manager_creates_a_register_and_watches_a_paid_order_reach_done(browser: Any, live_shop: Any) -> None:
    from selenium.webdriver.common.by import By

    app, emulator, url = live_shop
    driver = browser

    # 1. The register form (Parts-Soft's «Настройки кассы»).
    driver.get(url + "/admin/komtet_registers/new/")
    assert "ShopID" in body(driver) and "Активен при онлайн оплатах" in body(driver)
    fill(driver, {"name": "Москва, Тверская", "region": "msk", "shop_id": SHOP_ID, "secret": SHOP_SECRET,
                  "queue_id": "1", "tax_system": "0", "vat": "22", "payment_method": "full_payment",
                  "settlement_scheme": "single", "print_receipt": "y", "payment_address": url,
                  "cashier_name": "Кассир Смирнова А. В.", "name_template": "{name}"})
    shot(driver, "admin-register-form")
    submit(driver, "input[type=submit].btn-primary, button[type=submit].btn-primary")

    # 2. The list with the URLs to paste into KOMTET, and a working copy button.
    wait_until(lambda: "Онлайн-кассы для фискализации" in body(driver), what="the register list")
    page = body(driver)
    assert "Запись была создана" in page and "Москва, Тверская" in page
    success, failure = f"{url}/komtet/1/success", f"{url}/komtet/1/failure"
    assert success in page and failure in page
    assert SHOP_SECRET not in driver.page_source
    driver.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    copy = driver.find_element(By.CSS_SELECTOR, f'.komtet-copy[data-copy="{success}"]')
    copy.click()
    wait_until(lambda: copy.text == "Скопировано", what="the copy button's confirmation")
    copied = driver.execute_async_script(
        "var done = arguments[0]; navigator.clipboard.readText().then(done, function (e) { done(String(e)); });")
    assert copied == success
    shot(driver, "admin-registers")

    # 3. A buyer pays an order in the example shop.
    from example_shop import db
    from example_shop.models import Product

    with app.app_context():
        tea = db.session.scalar(db.select(Product.id).where(Product.name.startswith("Те Гуань Инь")))
    add_to_cart(driver, f"{url}/products/{tea}")
    driver.get(url + "/checkout")
    fill(driver, {"name": "Анна Смирнова", "email": "anna@example.com", "region": "msk"})
    submit(driver, "form.panel button.btn")
    wait_until(lambda: re.search(r"/orders/(\d+)/pay", driver.current_url), what="the payment page")
    number = re.search(r"/orders/(\d+)/pay", driver.current_url).group(1)
    submit(driver, 'button[value="card"]')
    wait_until(lambda: "Оплата прошла" in body(driver), what="the paid order")

    # 4. The manager watches the receipt reach «Выполнен» in the list (AlfaCRM's «ККТ» column).
    def done_in_list() -> bool:
        driver.get(url + "/admin/komtet_receipts/")
        return "Выполнен" in body(driver)

    wait_until(done_in_list, what="«Выполнен» in the receipt list")
    assert number in body(driver) and "Москва, Тверская" in body(driver)
    shot(driver, "admin-receipts")

    # 5. Its details: the payload as sent, the fiscal data, the history.
    driver.find_element(By.LINK_TEXT, number).click()
    wait_until(lambda: "Фискальные данные" in body(driver), what="the receipt details")
    page = body(driver)
    for text in ("ФН", "ФД", "ФП", "Открыть чек", "Почему эта касса", "Отправленные данные", "История",
                 f"sale-{number}-1", "Уведомление КОМТЕТ", "Оформить возврат"):
        assert text in page, text
    shot(driver, "admin-receipt-detail")

    # 6. Cash at the counter for another order: preview, then send.
    add_to_cart(driver, f"{url}/products/{tea}")
    driver.get(url + "/checkout")
    fill(driver, {"customer_id": "0", "name": "Петр Иванов", "email": "petr@example.com", "region": "msk"})
    submit(driver, "form.panel button.btn")
    wait_until(lambda: re.search(r"/orders/(\d+)/pay", driver.current_url), what="the second order")
    counter = re.search(r"/orders/(\d+)/pay", driver.current_url).group(1)
    driver.get(f"{url}/admin/komtet_fiscalize/?order={counter}")
    submit(driver, 'button[value="preview"]')
    wait_until(lambda: "Будет отправлено" in body(driver), what="the preview")
    page = body(driver)
    assert "Проверка пройдена" in page and "Оплата в чеке: Наличными" in page and '"type": "cash"' in page
    shot(driver, "admin-fiscalize")
    submit(driver, 'button[value="send"]')
    wait_until(lambda: "Фискальные данные" in body(driver), what="the sent receipt")
    assert f"sale-{counter}-1" in body(driver)
    assert SHOP_SECRET not in driver.page_source
    assert {t.external_id for t in emulator.tasks()} == {f"sale-{number}-1", f"sale-{counter}-1"}
