"""The example shop sells a partner's bowl as commissionaire beside its own tea, to a company with an INN."""

from __future__ import annotations

from typing import Any

from example_shop.extensions import db
from tests.test_example_shop import client  # noqa: F401  (fixture)


def test_a_company_buys_a_partners_bowl_beside_the_shops_own_gaiwan(client: Any) -> None:  # noqa: F811
    client.post("/cart/add/9", data={"quantity": "1"})  # «Пиала мастера Ли (товар партнера)»
    client.post("/cart/add/6", data={"quantity": "2"})  # the shop's own gaiwans
    page = client.post("/checkout", data={"customer_id": "4", "region": "msk", "delivery": "pickup"})
    number = page.location.split("/")[-2]
    client.post(f"/orders/{number}/pay", data={"outcome": "card"}, follow_redirects=True)
    with client.application.app_context():
        Receipt = client.application.extensions["komtet_kassa"].models.Receipt
        sale = db.session.scalar(db.select(Receipt).filter_by(order_ref=number, kind="sale"))
        assert sale.state == "queued", sale.last_error
        payload = sale.payload
    positions = {p["name"]: p for p in payload["positions"]}
    bowl, gaiwan = positions["Пиала мастера Ли (товар партнера)"], positions["Гайвань фарфоровая, 150 мл"]
    assert bowl["agent_info"] == {"type": "commissionaire"}
    assert bowl["supplier_info"] == {"name": "ООО «Керамика Ли»", "phones": ["+74951234567"], "inn": "5001007329"}
    assert "agent_info" not in gaiwan and "supplier_info" not in gaiwan
    assert payload["client"]["name"] == "ООО «Чайный клуб»" and payload["client"]["inn"] == "7801123455"
