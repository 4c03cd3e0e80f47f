"""The example shop, end to end over real HTTP, with the KOMTET emulator on loopback.

A buyer browses, fills the cart, checks out in each region and pays; the shop's
pages show the receipt done (Москва), held (Санкт-Петербург) or failed with
the reason (Новосибирск); the back office takes cash at the counter and
refunds; a top-up gets its own receipt. Plus the shop's own rules, in process.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import requests

from example_shop import create_app, db
from example_shop.adapter import order_to_komtet
from example_shop.demo import seed
from example_shop.formatting import quantity, rub
from example_shop.models import Coupon, Customer, Order, Product
from flask_komtet.emulator import KomtetEmulator
from tests.shop_fixtures import example_shop_served, wait_for

CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
NBSP = "\u00a0"


def config(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'shop.sqlite'}", "SECRET_KEY": "test",
            "KOMTET_KASSA_RETRY_BASE": 0.05, "KOMTET_KASSA_RETRY_MAX": 0.2, **extra}


def text(page: str) -> str:
    """The page's visible text, spaces collapsed (non-breaking ones too)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).replace(NBSP, " ").split())


class Browser:
    """A ``requests`` session that fills in each form's CSRF token from the page it came from."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.token = ""

    def get(self, path: str) -> requests.Response:
        response = self.http.get(self.base + path, timeout=10)
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        if match := CSRF.search(response.text):
            self.token = match.group(1)
        return response

    def post(self, path: str, data: dict[str, Any] | list[tuple[str, Any]]) -> requests.Response:
        items = list(data.items()) if isinstance(data, dict) else list(data)
        response = self.http.post(self.base + path, data=items + [("csrf_token", self.token)], timeout=10)
        assert response.status_code == 200, (path, response.status_code, response.text[:500])
        if match := CSRF.search(response.text):
            self.token = match.group(1)
        return response

    def page(self, path: str) -> str:
        return text(self.get(path).text)

    def wait_for_text(self, path: str, needle: str, timeout: float = 10) -> str:
        """The page once it shows ``needle`` (receipts arrive after the payment's response)."""
        return wait_for(lambda: page if needle in (page := self.page(path)) else None, timeout=timeout)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[Any, KomtetEmulator, str]]:
    """``(app, emulator, shop URL)``: the demo shop and its KOMTET shops, served on free loopback ports."""
    with example_shop_served(tmp_path, emulator_delay=0.05, seed=1) as served:
        yield served


def product_id(app: Any, name: str) -> int:
    with app.app_context():
        return db.session.scalar(db.select(Product.id).where(Product.name.startswith(name)))


def order_id(app: Any, number: str) -> int:
    with app.app_context():
        return db.session.scalar(db.select(Order.id).filter_by(number=number))


def checkout(browser: Browser, app: Any, region: str, **fields: str) -> str:
    """Put tea by weight and a book in the cart, check out as a new customer; returns the order number."""
    browser.get("/")
    browser.post(f"/cart/add/{product_id(app, 'Да Хун Пао')}", {"quantity": "0.35", "next": "/"})
    browser.post(f"/cart/add/{product_id(app, 'Книга')}", {"quantity": "1", "next": "/"})
    browser.get("/checkout")
    data = {"customer_id": "0", "name": f"Покупатель {region}", "email": f"{region}@example.com", "phone": "",
            "region": region, "delivery": "pickup", "address": "", "coupon": ""} | fields
    page = browser.post("/checkout", data)
    number = re.search(r"/orders/(\d+)/pay", page.url)
    assert number, text(page.text)[:500]
    return number.group(1)


def pay(browser: Browser, number: str, outcome: str = "card") -> str:
    page = browser.post(f"/orders/{number}/pay", {"outcome": outcome})
    return text(page.text)


def tasks(emulator: KomtetEmulator, shop_id: str, intent: str = "sell") -> list[Any]:
    return [t for t in emulator.tasks(shop_id) if t.payload["intent"] == intent]


def test_the_whole_story_over_http(live: tuple[Any, KomtetEmulator, str]) -> None:
    app, emulator, url = live
    browser = Browser(url)

    catalogue = browser.page("/")
    assert "Да Хун Пао" in catalogue and "4 800,00 ₽ за кг" in catalogue and "Заварочный мастер-класс" in catalogue
    assert "услуга" in catalogue and "НДС 10%" in catalogue

    # Москва: courier and a coupon; the register fiscalizes by itself → «Выполнен» with fiscal data.
    msk = checkout(browser, app, "msk", delivery="courier", address="Тверская, 1", coupon="чай10")
    cart = browser.page("/cart")
    assert "В корзине пока пусто" in cart
    page = pay(browser, msk)
    assert "Оплата прошла" in page and "Оплачен" in page
    # 0,35 кг × 4 800 = 1 680 + книга 890 = 2 570 − 10 % (257) + доставка 350 = 2 663
    assert "Итого 2 663,00 ₽" in page and "Скидка по купону ЧАЙ10 −257,00 ₽" in page
    page = browser.wait_for_text(f"/orders/{msk}", "Выполнен")
    assert re.search(r"ФН \d+ ФД \d+ ФП \d+", page), page
    sold = [t for t in tasks(emulator, "demo-msk") if msk in t.external_id]
    assert len(sold) == 1
    payload = sold[0].payload
    assert payload["payments"] == [{"sum": Decimal("2663.00"), "type": "card"}] or \
        [(Decimal(str(p["sum"])), p["type"]) for p in payload["payments"]] == [(Decimal("2663.00"), "card")]
    positions = {p["name"]: p for p in payload["positions"]}
    assert set(positions) == {"Да Хун Пао, улун на развес", "Книга «Путь чая»", "Доставка курьером"}
    tea, book = positions["Да Хун Пао, улун на развес"], positions["Книга «Путь чая»"]
    assert (Decimal(str(tea["quantity"])), tea["measure"], tea["vat"]) == (Decimal("0.35"), 11, "22")
    assert book["vat"] == "10"
    assert sum(Decimal(str(p["total"])) for p in payload["positions"]) == Decimal("2663.00")
    assert payload["client"]["email"] == "msk@example.com" and payload["print"] is True
    assert any(c.external_id == sold[0].external_id and c.status == 200 for c in emulator.callbacks())

    # A top-up by the Moscow customer: its own receipt, named by the register.
    assert "Баланс: 0,00 ₽" in browser.page("/account")
    page = browser.post("/account/top-up", {"amount": "1000"})
    assert "Пополнение баланса" in text(page.text) and "Оплатить картой" in page.text
    top_up_id = re.search(r"/top-ups/(\d+)/pay", page.url).group(1)  # type: ignore[union-attr]
    page = text(browser.post(f"/account/top-ups/{top_up_id}/pay", {"outcome": "card"}).text)
    assert "Баланс пополнен" in page and "Баланс: 1 000,00 ₽" in page
    top_up = wait_for(lambda: [t for t in tasks(emulator, "demo-msk") if "topup" in t.external_id])
    assert [p["name"] for p in top_up[0].payload["positions"]] == ["Пополнение баланса"]
    assert Decimal(str(top_up[0].payload["positions"][0]["total"])) == Decimal("1000.00")
    browser.wait_for_text("/account", "Выполнен")

    # A declined card changes nothing.
    declined = checkout(browser, app, "msk")
    assert "Банк отклонил платеж" in pay(browser, declined, "decline")
    assert "Ожидает оплаты" in browser.page(f"/orders/{declined}")

    # Санкт-Петербург: the register does not fiscalize by itself → held, nothing sent.
    spb = checkout(browser, app, "spb")
    page = pay(browser, spb)
    assert "Ожидает ручной отправки" in page and "кассир пробьет его вручную" in page
    assert tasks(emulator, "demo-spb") == []

    # Новосибирск: no register → «Не отправлен», and the reason names the region.
    nsk = checkout(browser, app, "nsk")
    page = pay(browser, nsk)
    assert "Не отправлен" in page
    assert re.search(r"Причина: Нет активной кассы для региона «Новосибирск»", page), page

    # The back office: every order's receipt state in one list.
    admin = Browser(url)
    orders_page = admin.page("/admin/order/")
    for label in ("Выполнен", "Ожидает ручной отправки", "Не отправлен"):
        assert label in orders_page

    # Refund of the Moscow order from the admin → a sellReturn task.
    admin.post("/admin/order/action/", [("action", "refund"), ("rowid", order_id(app, msk))])
    refund = wait_for(lambda: [t for t in tasks(emulator, "demo-msk", "sellReturn") if msk in t.external_id])
    assert len(refund) == 1
    assert sum(Decimal(str(p["sum"])) for p in refund[0].payload["payments"]) == Decimal("2663.00")
    assert "Возвращен" in admin.page(f"/admin/order/details/?id={order_id(app, msk)}")

    # Cash at the counter for the declined Moscow order: printed, paid in cash, full payment.
    admin.post("/admin/order/action/", [("action", "cash"), ("rowid", order_id(app, declined))])
    cash = wait_for(lambda: [t for t in tasks(emulator, "demo-msk") if declined in t.external_id])
    assert len(cash) == 1
    assert [p["type"] for p in cash[0].payload["payments"]] == ["cash"] and cash[0].payload["print"] is True
    assert {p["payment_method"] for p in cash[0].payload["positions"]} == {"full_payment"}
    details = admin.wait_for_text(f"/admin/order/details/?id={order_id(app, declined)}", "Выполнен")
    assert "Наличными на кассе" in details
    assert emulator.wait_idle(5)
    assert len(emulator.tasks()) == 4  # sale, top-up, refund, cash — nothing twice


# -- the shop's own rules, in process ------------------------------------------------------


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Any]:
    app = create_app(config(tmp_path, KOMTET_KASSA_DISPATCH="worker", WTF_CSRF_ENABLED=False,
                            KOMTET_KASSA_PUBLIC_URL="http://shop.test"))
    with app.app_context():
        db.create_all()
        seed("http://shop.test")
    yield app.test_client()
    with app.app_context():
        db.engine.dispose()


def test_money_and_quantities_read_the_russian_way() -> None:
    assert rub(Decimal("1250")) == f"1{NBSP}250,00{NBSP}₽"
    assert rub(Decimal("-0.5")) == f"−0,50{NBSP}₽"
    assert quantity(Decimal("0.350"), "кг") == f"0,35{NBSP}кг"
    assert quantity(Decimal("2"), "шт") == f"2{NBSP}шт"


def test_checkout_explains_what_is_missing(client: Any) -> None:
    client.post("/cart/add/1", data={"quantity": "0.2"})
    page = text(client.post("/checkout", data={"customer_id": "0", "name": "", "region": "msk",
                                               "delivery": "courier", "coupon": "НЕТТАКОГО"}).text)
    assert "Как к вам обращаться?" in page and "Укажите почту или телефон" in page
    assert "Куда привезти заказ?" in page
    page = text(client.post("/checkout", data={"customer_id": "0", "name": "Ира", "phone": "+7 900 000-00-00",
                                               "region": "msk", "delivery": "pickup", "coupon": "НЕТТАКОГО"}).text)
    assert "Такого купона нет" in page
    assert client.get("/orders/1001").status_code == 404  # nothing was ordered


def test_cart_keeps_exact_weights_and_drops_zero_lines(client: Any) -> None:
    client.post("/cart/add/1", data={"quantity": "0.35"})
    client.post("/cart/add/1", data={"quantity": "0.1"})
    client.post("/cart/add/3", data={"quantity": "2"})
    page = text(client.get("/cart").text)
    assert "2 160,00 ₽" in page  # 0,45 кг × 4 800
    assert "Итого 7 960,00 ₽" in page  # + 2 × 2 900
    client.post("/cart/3", data={"quantity": "0"})
    assert "Шу пуэр" not in text(client.get("/cart").text)


def test_the_adapter_gives_the_extension_the_whole_order(tmp_path: Path) -> None:
    app = create_app(config(tmp_path, KOMTET_KASSA_DISPATCH="worker"))
    with app.app_context():
        db.create_all()
        seed("http://shop.test", registers=False)
        tea, lesson = (db.session.get(Product, 1), db.session.get(Product, 8))
        coupon = db.session.scalar(db.select(Coupon).filter_by(code="ПОДАРОК300"))
        customer = db.session.scalar(db.select(Customer).filter_by(region="spb"))
        order = Order(customer=customer, region="spb", delivery="courier", delivery_price=Decimal("350.00"),
                      number="2001", items=[])
        from example_shop.models import OrderItem

        order.items = [OrderItem(product=tea, name=tea.name, price=tea.price, quantity=Decimal("0.125")),
                       OrderItem(product=lesson, name=lesson.name, price=lesson.price, quantity=Decimal(1))]
        order.coupon_code, order.discount = coupon.code, coupon.discount(order.subtotal)
        order.mark_paid("cash")
        sale = order_to_komtet(order)
        db.engine.dispose()
    assert sale.ref == "2001" and sale.region == "spb" and not sale.is_online
    assert sale.customer.phone == "+7 921 555-12-34" and sale.customer.email is None
    assert [(line.quantity, int(line.measure), line.payment_object and line.payment_object.value)
            for line in sale.lines] == [(Decimal("0.125"), 11, "product"), (Decimal(1), 0, "service")]
    assert sale.delivery is not None and sale.delivery.name == "Доставка курьером"
    assert sale.discount == Decimal("300.00")
    assert [(p.type.value, p.amount) for p in sale.payments] == [("cash", Decimal("3150.00"))]


def test_an_order_paid_from_the_balance_offsets_the_advance(client: Any) -> None:
    client.post("/cart/add/6", data={"quantity": "2"})
    page = client.post("/checkout", data={"customer_id": "1", "region": "msk", "delivery": "pickup"})
    number = page.location.split("/")[-2]
    client.post("/account/top-up", data={"amount": "3000"})
    assert "Баланс пополнен" in text(client.post("/account/top-ups/1/pay", data={"outcome": "card"},
                                                  follow_redirects=True).text)
    assert "Оплатить с баланса (3 000,00 ₽)" in text(client.get(f"/orders/{number}/pay").text)
    page = text(client.post(f"/orders/{number}/pay", data={"outcome": "balance"}, follow_redirects=True).text)
    assert "Оплата прошла" in page and "Анна Смирнова · 500,00 ₽" in page
    with client.application.app_context():
        Receipt = client.application.extensions["komtet_kassa"].models.Receipt
        sale = db.session.scalar(db.select(Receipt).filter_by(order_ref=number, kind="sale"))
        assert sale.state == "queued", sale.last_error
        assert [(p["type"], Decimal(str(p["sum"]))) for p in sale.payload["payments"]] == [("prepayment", 2500)]


def test_the_back_office_can_be_put_behind_a_password(tmp_path: Path) -> None:
    app = create_app(config(tmp_path, KOMTET_KASSA_DISPATCH="worker", SHOP_ADMIN_PASSWORD="чай"))
    with app.app_context():
        db.create_all()
    client = app.test_client()
    assert client.get("/admin/order/").status_code == 401
    assert client.get("/admin/order/", auth=("admin", "чай")).status_code == 200
    assert client.get("/").status_code == 200
    with app.app_context():
        db.engine.dispose()
