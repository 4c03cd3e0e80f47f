"""Counter sales, coupons over the goods, phones and tax cross-checks end to end: the shop, real HTTP, the emulator.

What KOMTET received is read from the emulator; the receipt's state from the database (SQLite and PostgreSQL).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from flask_komtet import Customer, Order, OrderLine, Payment
from flask_komtet.client import KomtetClient
from flask_komtet.enums import PaymentType
from flask_komtet.receipts import build_top_up
from flask_komtet.routing import register_settings
from tests.shop_fixtures import QUEUE, SECRET, SHOP_ID, add_register, wait_for
from tests.test_admin import REGISTERS, AdminClient, admin_app, register_data, registers, text  # noqa: F401
from tests.test_pipeline import emulator, shop, state_of  # noqa: F401  (fixtures)


def sent(emulator: Any, external_id: str) -> dict[str, Any]:
    [task] = [t for t in emulator.tasks() if t.external_id == external_id]
    return task.payload


def receipt_row(app: Any, db: Any, kassa: Any, external_id: str) -> Any:
    with app.app_context():
        db.session.expire_all()
        Receipt = kassa.models.Receipt
        return db.session.scalars(sa.select(Receipt).where(Receipt.external_id == external_id)).one()


def fiscalize(app: Any, db: Any, kassa: Any, order: Order) -> str:
    with app.app_context():
        external_id = kassa.fiscalize(order).external_id
        db.session.commit()
    return str(external_id)


def test_a_walk_in_cash_sale_without_a_contact_is_printed_and_done(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models, payment_method="advance")  # online orders would be prepaid; cash is not
    order = Order(ref="c-1", region="msk", lines=[OrderLine("Хлеб", "55.50", 2)], payments=[Payment("cash", "111.00")])
    external_id = fiscalize(app, db, kassa, order)
    wait_for(lambda: state_of(app, db, external_id) == "done", what="walk-in sale done")
    payload = sent(emulator, external_id)
    assert payload["client"] == {} and payload["print"] is True and "internet" not in payload
    assert payload["payments"] == [{"sum": Decimal("111.00"), "type": "cash"}]
    assert [(p["payment_method"], p["vat"]) for p in payload["positions"]] == [("full_payment", "22")]


def test_a_cash_top_up_at_the_counter_goes_out_as_cash_printed_and_is_done(shop, emulator) -> None:
    """The builder's top-up, sent over HTTP with the client to the emulator."""
    app, db, kassa = shop("sync")
    with app.app_context():
        register = add_register(db, kassa.models)
        settings = register_settings(register, date.today())
    payload = build_top_up(Customer(), "500", settings, external_id="topup-counter-1", online=False)
    task = KomtetClient(SHOP_ID, SECRET, api_url=emulator.url).create_task(QUEUE, payload)
    wait_for(lambda: emulator.task(task["id"]).state == "done", what="top-up done")
    received = sent(emulator, "topup-counter-1")
    assert received["payments"] == [{"sum": Decimal("500.00"), "type": "cash"}]
    assert received["print"] is True and "internet" not in received and received["client"] == {}


def test_kassa_top_up_at_the_counter_is_cash_and_printed(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models)
        external_id = kassa.top_up(Customer(), "500", region="msk", ref="cash-7", online=False).external_id
        db.session.commit()
    wait_for(lambda: state_of(app, db, external_id) == "done", what="top-up done")
    received = sent(emulator, external_id)
    assert received["payments"] == [{"sum": Decimal("500.00"), "type": PaymentType.CASH.value}]
    assert received["print"] is True and "internet" not in received


def test_a_coupon_bigger_than_the_goods_gives_one_receipt_of_what_was_paid(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models)
    order = Order(ref="cp-1", region="msk", customer=Customer(email="buyer@example.com"),
                  lines=[OrderLine("Чай", 400, 1)], delivery=OrderLine("Доставка", 300), discount=500,
                  payments=[Payment("card", "200.00")])
    external_id = fiscalize(app, db, kassa, order)
    wait_for(lambda: state_of(app, db, external_id) == "done", what="coupon receipt done")
    payload = sent(emulator, external_id)
    assert [(p["name"], p["total"]) for p in payload["positions"]] == [("Чай", Decimal("0.00")),
                                                                       ("Доставка", Decimal("200.00"))]
    assert payload["payments"] == [{"sum": Decimal("200.00"), "type": "card"}]
    assert receipt_row(app, db, kassa, external_id).total == Decimal("200.00")


def test_a_phone_with_an_extension_reaches_komtet_as_the_number(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models)
    order = Order(ref="ph-1", region="msk", customer=Customer(phone="+7 999 123 45 67 доб. 12"),
                  lines=[OrderLine("Чай", 100, 1)])
    external_id = fiscalize(app, db, kassa, order)
    wait_for(lambda: state_of(app, db, external_id) == "done", what="receipt done")
    assert sent(emulator, external_id)["client"] == {"phone": "+79991234567"}


def test_a_buyer_inn_without_a_name_fails_before_komtet_naming_the_field(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models)
    order = Order(ref="inn-1", region="msk", customer=Customer(email="b@example.com", inn="7707083893"),
                  lines=[OrderLine("Чай", 100, 1)])
    external_id = fiscalize(app, db, kassa, order)
    row = receipt_row(app, db, kassa, external_id)
    assert row.state == "failed" and "customer.name" in row.last_error and "ИНН покупателя" in row.last_error
    assert emulator.tasks() == []


def test_twenty_percent_on_a_2026_sale_fails_naming_the_rate_in_force(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models)
    order = Order(ref="v-1", region="msk", customer=Customer(email="b@example.com"),
                  lines=[OrderLine("Чай", 100, 1, vat=20)], paid_at=datetime(2026, 2, 10, 12, 0))
    row = receipt_row(app, db, kassa, fiscalize(app, db, kassa, order))
    assert row.state == "failed" and "lines[0].vat" in row.last_error and "22%" in row.last_error
    assert emulator.tasks() == []


def test_a_2025_sale_at_twenty_percent_is_never_refunded_at_twenty_two_in_2026(shop, emulator) -> None:
    """A refund keeps the sale's rate (ФНС letter of 15.12.2025 № АБ-4-20/11248@).

    The refund is built from the stored sale, so it goes out at 20 % and is done.
    """
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models, vat="20", next_vat="22", tax_change_date=date(2026, 1, 1))
    order = Order(ref="r-1", region="msk", customer=Customer(email="b@example.com"), lines=[OrderLine("Чай", 100, 1)],
                  paid_at=datetime(2025, 12, 20, 12, 0))
    sale_id = fiscalize(app, db, kassa, order)
    wait_for(lambda: state_of(app, db, sale_id) == "done", what="2025 sale done")
    assert [p["vat"] for p in sent(emulator, sale_id)["positions"]] == ["20"]
    with app.app_context():
        refund_id = kassa.refund(order).external_id
        db.session.commit()
    wait_for(lambda: state_of(app, db, refund_id) in ("done", "failed"), what="refund settled")
    assert state_of(app, db, refund_id) == "done", receipt_row(app, db, kassa, refund_id).last_error
    assert [p["vat"] for p in sent(emulator, refund_id)["positions"]] == ["20"]


def test_the_model_refuses_five_percent_with_osn_naming_the_field(shop) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        with pytest.raises(ValueError) as caught:
            add_register(db, kassa.models, tax_system=0, vat="5")
        db.session.rollback()
        assert "vat" in str(caught.value) and "только при УСН" in str(caught.value)
        register = add_register(db, kassa.models, tax_system=1, vat="5")  # УСН: fine
        register.next_tax_system, register.tax_change_date = 0, date(2027, 1, 1)
        with pytest.raises(ValueError, match="next_tax_system.*УСН"):
            db.session.commit()
        db.session.rollback()
        assert db.session.get(kassa.models.CashRegister, register.id).next_tax_system is None


def test_a_register_stored_before_the_rule_still_saves_what_is_not_a_tax_setting(shop) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        register = add_register(db, kassa.models)
        table = kassa.models.CashRegister.__table__
        db.session.execute(table.update().where(table.c.id == register.id).values(vat="5"))  # ОСН + 5 %, legacy
        db.session.commit()
        db.session.expire_all()
        legacy = db.session.get(kassa.models.CashRegister, register.id)
        legacy.queue_state, legacy.name = "active", "Касса 1"  # the sender's queue check, a rename
        db.session.commit()
        legacy.delivery_vat = "10"  # touching the tax settings checks them all
        with pytest.raises(ValueError, match="vat: .*только при УСН"):
            db.session.commit()
        db.session.rollback()
        legacy.vat = "22"
        db.session.commit()


def test_the_admin_form_refuses_five_percent_with_osn_in_russian(admin_app) -> None:
    app, db, kassa = admin_app()
    try:
        from flask_babel import Babel  # flask-admin renders through flask-babel when it is installed
    except ImportError:
        pass
    else:
        Babel(app)
    client = AdminClient(app)
    page = text(client.post(REGISTERS + "new/", register_data(tax_system="0", vat="5")))
    assert "Запись была создана" not in page
    assert "Ставка НДС 5% применяется только при УСН (НК РФ ст. 164 п. 8), а система налогообложения — ОСН" in page
    assert registers(app, kassa) == []
    page = text(client.post(REGISTERS + "new/", register_data(tax_system="0", vat="22", delivery_vat="107")))
    assert "НДС 7/107 применяется только при УСН" in page and registers(app, kassa) == []
    page = text(client.post(REGISTERS + "new/", register_data(tax_system="0", vat="20")))
    assert "ставка НДС 20% не действует с 01.01.2026" in page and "22%" in page
    page = text(client.post(REGISTERS + "new/", register_data(tax_system="1", vat="5")))
    assert "Запись была создана" in page
    [register] = registers(app, kassa)
    assert (register.tax_system, register.vat) == (1, "5")
