"""Admin and marked goods: codes scanned at the counter in «Фискализировать заказ», and the receipt page."""

from __future__ import annotations

import json
from typing import Any

from flask_komtet import Order
from tests.shop_fixtures import add_register
from tests.test_admin import SECRET, AdminClient, admin_app, emulator, text  # noqa: F401  (fixtures)
from tests.test_admin_fiscalize import payload_of, receipts

PAGE = "/admin/komtet_fiscalize/"
GS = "\x1d"


def shoes(n: int) -> str:
    return f"0104601234567893{21}{n:013d}{GS}93AbC{n % 10}"


ORDERS = {"m-1": {"ref": "m-1", "region": "msk", "customer": {"email": "a@b.ru"},
                  "lines": [{"name": "Кроссовки", "price": "4000", "quantity": "2", "vat": "22", "marked": True}]}}


def shop(admin_app: Any, emulator: Any) -> tuple[Any, Any, Any]:
    app, db, kassa = admin_app(order_loader=ORDERS.get, order_adapter=lambda data: Order.from_dict(data))
    with app.app_context():
        add_register(db, kassa.models, name="Москва", shop_id="s1", secret=SECRET, api_url=emulator.url)
    return app, db, kassa


def post(client: AdminClient, step: str, marks: str = "") -> str:
    return client.post(PAGE, {"order_ref": "m-1", "register": "", "payment": "cash", "step": step, "marks": marks})


def test_a_counter_sale_takes_the_codes_scanned_in_the_fiscalize_form(admin_app, emulator) -> None:
    app, db, kassa = shop(admin_app, emulator)
    client = AdminClient(app)
    page = text(post(client, "preview"))
    assert "Коды маркировки" in page and "нет кода маркировки для «Кроссовки» (строка 1): единицы 1, 2 из 2" in page
    assert "Будет отправлено" not in page
    scanned = shoes(1).replace(GS, "") + "\r\n" + shoes(2).replace(GS, "<GS>") + "\r\n"
    payload = payload_of(post(client, "preview", scanned))
    assert [(p["mark_code"], p["quantity"], p["payment_object"], p["planned_status"]) for p in payload["positions"]] \
        == [({"gs1m": shoes(1)}, 1, "tm", 1), ({"gs1m": shoes(2)}, 1, "tm", 1)]
    post(client, "send", scanned)
    [receipt] = receipts(app, kassa)
    assert receipt.state in ("queued", "sent") and [p["mark_code"]["gs1m"] for p in
                                                    json.loads(receipt.payload_json)["positions"]] == [shoes(1), shoes(2)]
    details = text(client.get(f"/admin/komtet_receipts/details/?id={receipt.id}"))
    for shown in ("Маркированные товары", "04601234567893", "0000000000001", "0000000000002",
                  "1 — штучный товар реализован"):
        assert shown in details, shown
    assert "Отсканируйте коды маркировки" not in details  # nothing is missing


def test_a_held_receipt_takes_codes_on_its_page_and_refuses_a_bad_one(admin_app, emulator) -> None:
    app, db, kassa = shop(admin_app, emulator)
    client = AdminClient(app)
    with app.app_context():
        receipt = kassa.fiscalize(ORDERS["m-1"] | {})  # through the adapter: marked, no codes
        db.session.commit()
        receipt_id = receipt.id
    page = client.get(f"/admin/komtet_receipts/details/?id={receipt_id}")
    assert "Отсканируйте коды маркировки" in text(page) and 'value="send"' not in page
    assert text(page).count("нет кода маркировки") >= 3  # the reason and two rows
    page = text(client.post("/admin/komtet_receipts/marks/", {"id": str(receipt_id), "codes": "4601234567893"}))
    assert "это штрихкод товара (13 цифр), а не код маркировки" in page
    page = text(client.post("/admin/komtet_receipts/marks/", {"id": str(receipt_id), "codes": shoes(5)}))
    assert "еще ждет: нет кода маркировки для «Кроссовки» (строка 1): единица 2 из 2" in page
    page = text(client.post("/admin/komtet_receipts/marks/", {"id": str(receipt_id), "codes": shoes(6)}))
    assert "Коды маркировки добавлены" in page
    [receipt] = receipts(app, kassa)
    assert receipt.state in ("queued", "sent", "done")
