"""Admin: «Фискализировать заказ» — the preview of exactly what will be sent, its errors, and the send."""

from __future__ import annotations

import html
import json
import re
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from flask_komtet import Order, OrderLine
from flask_komtet.admin.fiscalize import field_name
from tests.shop_fixtures import add_register, make_order
from tests.test_admin import SECRET, AdminClient, admin_app, emulator, text  # noqa: F401  (fixtures)

PAGE = "/admin/komtet_fiscalize/"


def shop_orders() -> dict[str, Any]:
    bad = {"ref": "bad", "region": "msk", "lines": [{"name": "Чай", "price": "-5", "quantity": "1"}]}
    no_contact = {"ref": "mute", "region": "msk",
                  "lines": [{"name": "Чай", "price": "100", "quantity": "1", "vat": "22"}]}
    return {
        "c-1": make_order("c-1").to_dict(),
        "c-2": make_order("c-2", "spb").to_dict(),
        "c-3": make_order("c-3", "tver").to_dict(),
        "bad": bad,
        "mute": no_contact,
    }


def adapter(data: dict[str, Any]) -> Order:
    return Order.from_dict(data) if "customer" in data else Order(**data)


def shop(admin_app: Any, emulator: Any, **kwargs: Any) -> tuple[Any, Any, Any]:
    orders = shop_orders()
    app, db, kassa = admin_app(order_loader=orders.get, order_adapter=adapter, **kwargs)
    with app.app_context():
        add_register(db, kassa.models, name="Москва", shop_id="s1", secret=SECRET, api_url=emulator.url)
        add_register(db, kassa.models, region="spb", name="Питер", shop_id="s1", secret=SECRET, queue_id=2,
                     api_url=emulator.url, auto_fiscalize=False)
    return app, db, kassa


def preview(client: AdminClient, ref: str, register: str = "", payment: str = "cash", step: str = "preview") -> str:
    return client.post(PAGE, {"order_ref": ref, "register": register, "payment": payment, "step": step})


def payload_of(page: str) -> dict[str, Any]:
    raw = re.search(r'<pre class="[^"]*komtet-payload[^"]*"[^>]*>(.*?)</pre>', page, re.S).group(1)
    return json.loads(html.unescape(raw))


def receipts(app: Any, kassa: Any) -> list[Any]:
    with app.app_context():
        Receipt = kassa.models.Receipt
        return list(kassa.state.session.scalars(sa.select(Receipt).order_by(Receipt.id)))


def test_without_an_order_loader_the_page_says_what_the_shop_must_pass(admin_app) -> None:
    app, db, kassa = admin_app()
    client = AdminClient(app)
    page = client.get(PAGE)
    assert "передайте order_loader= в kassa.init_app" in text(page)
    assert re.search(r'value="preview"[^>]*disabled', page)
    page = preview(client, "c-1")
    assert "Будет отправлено" not in text(page)


def test_preview_shows_exactly_what_will_be_sent_then_send_queues_it(admin_app, emulator) -> None:
    app, db, kassa = shop(admin_app, emulator)
    client = AdminClient(app)
    form = text(client.get(PAGE))
    for label in ("Номер заказа", "Касса", "Оплата", "По региону заказа", "Наличными на кассе", "Предпросмотр"):
        assert label in form
    page = preview(client, "c-2")  # Питер: a register that does not auto-fiscalize
    visible = text(page)
    assert "Проверка пройдена" in visible and "Будет отправлено" in visible
    assert "Касса: Питер" in visible and "основной регион «Санкт-Петербург»" in visible
    assert "Оплата в чеке: Наличными 1 052,00 ₽" in visible
    payload = payload_of(page)
    assert payload["external_id"] == "sale-c-2-1" and payload["intent"] == "sell"
    assert payload["payments"] == [{"type": "cash", "sum": 1052.0}]
    assert {p["payment_method"] for p in payload["positions"]} == {"full_payment"}
    assert 'value="send"' in page
    assert receipts(app, kassa) == []  # a preview stores nothing
    page = preview(client, "c-2", step="send")
    [receipt] = receipts(app, kassa)
    assert "Чек sale-c-2-1 по заказу c-2: Отправлен" in text(page) and "Фискальные данные" in text(page)
    assert receipt.state == "sent" and json.loads(receipt.payload_json)["payments"] == payload["payments"]
    assert [t.external_id for t in emulator.tasks()] == ["sale-c-2-1"]
    # Already fiscalized: the page links the receipt and offers no second send.
    page = preview(client, "c-2")
    assert "уже есть чек продажи sale-c-2-1" in text(page)
    assert f"/admin/komtet_receipts/details/?id={receipt.id}" in page and 'value="send"' not in page
    page = preview(client, "c-2", step="send")
    assert "повторно он не отправляется" in text(page) and len(receipts(app, kassa)) == 1


def test_payment_by_card_at_the_counter_or_as_the_order_says(admin_app, emulator) -> None:
    app, db, kassa = shop(admin_app, emulator)
    client = AdminClient(app)
    card = payload_of(preview(client, "c-1", payment="card"))
    assert card["payments"] == [{"type": "card", "sum": 1052.0}]
    assert {p["payment_method"] for p in card["positions"]} == {"full_payment"}
    online = preview(client, "c-1", payment="order")
    assert "Оплата в чеке: Безналичными 1 052,00 ₽" in text(online)
    assert payload_of(online)["payments"] == [{"type": "card", "sum": 1052.0}]


def test_chosen_register_and_region_without_a_register(admin_app, emulator) -> None:
    app, db, kassa = shop(admin_app, emulator)
    client = AdminClient(app)
    with app.app_context():
        piter = kassa.state.session.scalar(sa.select(kassa.models.CashRegister.id).filter_by(name="Питер"))
    page = text(preview(client, "c-3"))
    assert "Нет активной кассы для региона «Тверь»" in page and "Будет отправлено" not in page
    page = text(preview(client, "c-3", register=str(piter)))
    assert "Касса «Питер»" in page and "выбрана вручную" in page and "Проверка пройдена" in page
    preview(client, "c-3", register=str(piter), step="send")
    [receipt] = receipts(app, kassa)
    assert receipt.register_id == piter and receipt.state == "sent"
    page = text(preview(client, "c-1", register="424242"))
    assert "Неверный вариант" in page and "Будет отправлено" not in page


def test_errors_are_named_by_field_in_russian_and_nothing_is_sent(admin_app, emulator) -> None:
    app, db, kassa = shop(admin_app, emulator)
    client = AdminClient(app)
    page = text(preview(client, "nope"))
    assert "Заказ №nope не найден" in page
    page = preview(client, "bad")
    assert "Чек не пройдет проверку" in text(page) and "позиция 1 — цена" in text(page)
    assert 'value="send"' not in page
    page = preview(client, "bad", step="send")
    assert receipts(app, kassa) == []
    page = text(preview(client, "mute", payment="order"))  # paid on the site: the receipt must reach the buyer
    assert "Чек не пройдет проверку" in page and "покупатель" in page
    assert receipts(app, kassa) == []
    counter = preview(client, "mute")  # cash at the counter: printed, no contact needed (card at the counter too)
    assert "Чек не пройдет проверку" not in text(counter) and payload_of(counter)["client"] == {}
    assert "Укажите номер заказа" in text(preview(client, ""))


def test_a_failing_order_loader_is_a_message(admin_app, emulator) -> None:
    def loader(ref: str) -> Any:
        raise RuntimeError("база заказов недоступна")

    app, db, kassa = admin_app(order_loader=loader)
    page = text(preview(AdminClient(app), "1"))
    assert "Магазин не смог загрузить заказ №1: база заказов недоступна" in page


@pytest.mark.parametrize("path, expected", [
    ("lines[2].price", "позиция 3 — цена"),
    ("customer.email", "покупатель — почта"),
    ("payments[0].amount", "оплата 1 — сумма"),
    ("delivery.vat", "доставка — НДС"),
    ("register", "касса"),
    ("weird", "weird"),
])
def test_field_names(path: str, expected: str) -> None:
    assert field_name(path) == expected


def test_order_lines_helper_is_exact() -> None:
    assert make_order("x").lines[1] == OrderLine("Чай №1", Decimal("351.00"), Decimal(2), vat="22")


def test_an_order_whose_sale_failed_before_komtet_is_fiscalized_again_once_fixed(admin_app, emulator) -> None:
    orders = shop_orders()
    app, db, kassa = admin_app(order_loader=orders.get, order_adapter=adapter)
    with app.app_context():
        add_register(db, kassa.models, name="Москва", shop_id="s1", secret=SECRET, api_url=emulator.url)
        failed = kassa.fiscalize(adapter(orders["mute"]))  # online, without email or phone
        db.session.commit()
        assert (failed.external_id, failed.state) == ("sale-mute-1", "failed")
    orders["mute"]["customer"] = {"email": "buyer@example.com"}  # the manager adds the buyer's email in the shop
    client = AdminClient(app)
    page = preview(client, "mute", payment="order")
    assert "уже есть" not in text(page) and 'value="send"' in page
    preview(client, "mute", payment="order", step="send")
    assert [(r.external_id, r.state) for r in receipts(app, kassa)] == [("sale-mute-1", "failed"),
                                                                        ("sale-mute-2", "sent")]
    assert "уже есть чек продажи sale-mute-2" in text(preview(client, "mute", payment="order"))
