"""Admin: the receipt page shows agents, suppliers and the other FFD 1.2 details readably (in Russian);
the register form takes the default agent role and the time zone, and refuses values outside the SDK's sets."""

from __future__ import annotations

from tests.shop_fixtures import add_register
from tests.test_admin import SECRET, AdminClient, admin_app, create_register, emulator, registers, text  # noqa: F401
from tests.test_agents import marketplace_order

RECEIPTS = "/admin/komtet_receipts/"


def test_the_receipt_page_shows_agents_suppliers_and_details(admin_app, emulator) -> None:
    app, db, kassa = admin_app(DISPATCH="sync")
    with app.app_context():
        add_register(db, kassa.models, name="Москва", shop_id="s1", secret=SECRET, api_url=emulator.url,
                     agent_type="agent", timezone=2)
        receipt = kassa.fiscalize(marketplace_order("9101"))
        db.session.commit()
        receipt_id = receipt.id
    page = text(AdminClient(app).get(RECEIPTS + f"details/?id={receipt_id}"))
    assert "Реквизиты ФФД 1.2" in page
    assert "2 Пиала мастера Ли Комиссионер ООО «Керамика Ли», ИНН 5001007329, +74951234567" in page
    assert "Страна происхождения (ОКСМ): 156" in page and "Таможенная декларация: 10702070/011126/0012345" in page
    assert "3 Чайник партнера Агент ИП Петров, ИНН 500100732259 Доп. реквизит предмета расчета: партия 7" in page
    assert "Да Хун Пао" not in page.split("Реквизиты ФФД 1.2")[1].split("Отправленные данные")[0]  # own goods: no row
    assert "Безналичная оплата (1235) 5380.00 ₽, способ 1, id pay-8f2c, СБП" in page
    assert "Часовая зона (1011) UTC+3 (МСК, Москва)" in page


def test_the_register_form_takes_the_default_agent_role_and_the_time_zone(admin_app) -> None:
    app, db, kassa = admin_app()
    client = AdminClient(app)
    form = text(client.get("/admin/komtet_registers/new/"))
    assert "Роль агента по умолчанию" in form and "Часовая зона места расчетов" in form
    assert "Комиссионер" in form and "UTC+7 (МСК+4, Красноярск)" in form
    create_register(client, agent_type="commissionaire", timezone="6")
    [register] = registers(app, kassa)
    assert (register.agent_type, register.timezone) == ("commissionaire", 6)
    page = text(create_register(client, name="Вторая", region="spb", agent_type="broker", timezone="12"))
    assert page.count("Выберите значение из списка") == 2
    assert len(registers(app, kassa)) == 1
