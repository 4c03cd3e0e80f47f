"""Admin: the fiscal lifecycle — «Чек коррекции», the tax settings in force and scheduled, «Чеки заказа»."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from flask_komtet import Customer, Order, OrderLine, Payment
from flask_komtet.admin.taxes import TaxSchedule
from tests.shop_fixtures import add_register, make_order, wait_for
from tests.test_admin import REGISTERS, SECRET, AdminClient, admin_app, emulator, text  # noqa: F401  (fixtures)
from tests.test_admin_fiscalize import payload_of, receipts

CORRECTION = "/admin/komtet_fiscalize/correction/"
FISCALIZE = "/admin/komtet_fiscalize/"
RECEIPTS = "/admin/komtet_receipts/"
TODAY = date.today()


def day(offset: int) -> str:
    return f"{TODAY + timedelta(days=offset):%d.%m.%Y}"


def plain_order(ref: str, region: str = "msk") -> Order:
    """Two lines without their own VAT (the register's rate applies), paid by card online."""
    lines = [OrderLine("Чай", Decimal("350.00"), Decimal(2)), OrderLine("Чайник", Decimal("1200.00"), Decimal(1))]
    return Order(ref=ref, region=region, customer=Customer(email="buyer@example.com"), lines=lines,
                 payments=[Payment("card", Decimal("1900.00"))])


def shop(admin_app: Any, emulator: Any, **register: Any) -> tuple[Any, Any, Any]:
    orders = {ref: plain_order(ref) for ref in ("c-1", "c-2", "c-3")} | {"tver": plain_order("tver", "tver")}
    app, db, kassa = admin_app(order_loader=orders.get)
    with app.app_context():
        add_register(db, kassa.models, name="Москва", shop_id="s1", secret=SECRET, api_url=emulator.url,
                     **register)
    return app, db, kassa


def correct(client: AdminClient, ref: str = "c-1", *, step: str = "preview", **fields: str) -> str:
    data = {"order_ref": ref, "register": "", "intent": "sellCorrection", "correction_type": "self",
            "base_date": day(-3), "base_number": "", "step": step} | fields
    return client.post(CORRECTION, data)


def refresh(client: AdminClient, receipt_id: int) -> str:
    return text(client.post(RECEIPTS + "run/", {"id": receipt_id, "op": "refresh"}))


# -- «Чек коррекции» ------------------------------------------------------------------------


def test_correction_form_names_the_field_of_every_bad_input(admin_app, emulator) -> None:
    app, db, kassa = shop(admin_app, emulator)
    client = AdminClient(app)
    form = text(client.get(CORRECTION))
    for label in ("Чек коррекции", "Номер заказа", "Касса", "Вид чека коррекции", "Коррекция прихода",
                  "Коррекция возврата прихода", "Тип коррекции", "Самостоятельно", "По предписанию",
                  "Дата расчета, который исправляется", "Номер предписания налогового органа",
                  "ФИО уполномоченного лица", "ИНН уполномоченного лица", "Предпросмотр"):
        assert label in form, label
    cases = [
        ({"base_date": ""}, "Дата расчета, который исправляется: укажите ее в виде дд.мм.гггг"),
        ({"base_date": "2026-11-20"},
         "Дата расчета, который исправляется: «2026-11-20» — не дата; укажите ее в виде дд.мм.гггг"),
        ({"base_date": "31.02.2026"}, "Дата расчета, который исправляется: «31.02.2026» — не дата"),
        ({"base_date": day(1)}, f"Дата расчета, который исправляется: {day(1)} еще не наступила"),
        ({"correction_type": "instruction"},
         "Номер предписания налогового органа: для коррекции по предписанию укажите его номер"),
        ({"correction_type": "instruction", "base_number": "N" * 33},
         "Номер предписания налогового органа: не длиннее 32 символов"),
        ({"base_number": "АКТ-5"},
         "Номер предписания налогового органа указывается только для коррекции по предписанию"),
        ({"person_inn": "500100732259"}, "ФИО уполномоченного лица: укажите вместе с ИНН"),
        ({"intent": "buyCorrection"}, "Неверный вариант"),
        ({"correction_type": "forced"}, "Неверный вариант"),
    ]
    for fields, message in cases:
        page = correct(client, **fields)
        assert message in text(page), (fields, text(page)[-600:])
        assert "Будет отправлено" not in text(page) and 'value="send"' not in page
    assert "Укажите номер заказа" in text(correct(client, ""))
    page = text(correct(client, "nope"))
    assert "Заказ №nope не найден" in page and "Будет отправлено" not in page
    page = text(correct(client, "tver"))
    assert "Нет активной кассы для региона «Тверь»" in page and "Будет отправлено" not in page
    for fields, _ in cases:  # «Отправить» with bad input sends nothing either
        correct(client, step="send", **fields)
    correct(client, "nope", step="send")
    assert receipts(app, kassa) == [] and emulator.tasks() == []


def test_correction_preview_then_send_makes_one_receipt_that_komtet_prints(admin_app, emulator) -> None:
    app, db, kassa = shop(admin_app, emulator)
    client = AdminClient(app)
    signer = {"person_name": " Иванов Иван Иванович ", "person_inn": "500100732259"}
    page = correct(client, base_date=f" {day(-3)} ", **signer)
    visible = text(page)
    assert "Проверка пройдена" in visible and "Будет отправлено" in visible
    assert (f"Чек коррекции: Коррекция прихода, самостоятельно; исправляется расчет от {day(-3)}; "
            "подписывает Иванов Иван Иванович") in visible
    assert "Касса: Москва" in visible and "Оплата в чеке: Безналичными 1 900,00 ₽" in visible
    payload = payload_of(page)
    base = (TODAY - timedelta(days=3)).strftime("%Y%m%d")
    assert payload["external_id"] == f"correction-c-1-{base}-self-sellCorrection-1"
    assert payload["intent"] == "sellCorrection"
    assert payload["correction_info"] == {"type": "self", "base_date": day(-3)}  # tag 1179 only by instruction
    assert payload["authorised_person"] == {"name": "Иванов Иван Иванович", "inn": "500100732259"}
    assert [(p["name"], p["vat"]) for p in payload["positions"]] == [("Чай", "22"), ("Чайник", "22")]
    assert 'value="send"' in page and "Отправить чек коррекции" in visible
    assert receipts(app, kassa) == []  # a preview stores nothing
    page = text(correct(client, step="send", base_date=day(-3), **signer))
    [receipt] = receipts(app, kassa)
    assert f"Чек {receipt.external_id} по заказу c-1: Отправлен" in page and "Фискальные данные" in page
    assert (receipt.kind, receipt.intent, receipt.state) == ("correction", "sellCorrection", "sent")
    assert json.loads(receipt.payload_json) == payload  # exactly what the preview showed
    wait_for(lambda: [t.state for t in emulator.tasks()] == ["done"])
    [task] = emulator.tasks()
    assert json.loads(task.raw_body) == payload
    assert f"Чек {receipt.external_id} (заказ c-1): Выполнен" in refresh(client, receipt.id)
    # The same correction again: the page links it, and «Отправить» makes no second one.
    page = correct(client, base_date=day(-3), **signer)
    assert f"уже есть такой чек коррекции (тот же вид, дата расчета и предписание) {receipt.external_id}" \
           in text(page)
    assert f"/admin/komtet_receipts/details/?id={receipt.id}" in page and 'value="send"' not in page
    page = text(correct(client, step="send", base_date=day(-3), **signer))
    assert "он не отправлен повторно" in page
    assert len(receipts(app, kassa)) == 1 and len(emulator.tasks()) == 1


def test_return_correction_by_instruction_uses_the_registers_settings_on_the_base_date(admin_app, emulator) -> None:
    app, db, kassa = shop(admin_app, emulator, vat="10", next_vat="22", tax_change_date=TODAY - timedelta(days=1))
    client = AdminClient(app)
    page = correct(client, "c-2", intent="sellReturnCorrection", correction_type="instruction",
                   base_date=day(-10), base_number="ПР-17")
    assert "Чек коррекции: Коррекция возврата прихода, по предписанию № ПР-17; исправляется расчет от " \
           f"{day(-10)}" in text(page)
    payload = payload_of(page)
    assert payload["intent"] == "sellReturnCorrection"
    assert payload["correction_info"] == {"type": "instruction", "base_date": day(-10), "base_number": "ПР-17"}
    assert {p["vat"] for p in payload["positions"]} == {"10"}  # the rate in force on the base date
    correct(client, "c-2", step="send", intent="sellReturnCorrection", correction_type="instruction",
            base_date=day(-10), base_number="ПР-17")
    [receipt] = receipts(app, kassa)
    assert json.loads(receipt.payload_json) == payload
    # A self correction of the same day and no number is another receipt, sent on the register picked by hand.
    with app.app_context():
        register_id = kassa.state.session.scalar(sa.select(kassa.models.CashRegister.id))
    payload = payload_of(correct(client, "c-2", register=str(register_id), base_date=day(0)))
    assert payload["correction_info"] == {"type": "self", "base_date": day(0)}
    assert {p["vat"] for p in payload["positions"]} == {"22"}
    correct(client, "c-2", step="send", register=str(register_id), base_date=day(0))
    first, second = receipts(app, kassa)
    assert second.register_id == register_id and json.loads(second.payload_json) == payload
    assert "выбрана вручную" in second.routing


def test_correction_page_in_the_menu_and_from_a_receipt(admin_app, emulator) -> None:
    app, db, kassa = shop(admin_app, emulator)
    client = AdminClient(app)
    with app.app_context():
        sale = kassa.fiscalize(plain_order("c-3"))
        db.session.commit()
        sale_id, sale_external_id = sale.id, sale.external_id
    menu = client.get(REGISTERS)
    assert 'href="/admin/komtet_fiscalize/correction/"' in menu and "Чек коррекции" in text(menu)
    details = client.get(RECEIPTS + f"details/?id={sale_id}")
    assert 'href="/admin/komtet_fiscalize/correction/?order=c-3"' in details
    form = client.get(CORRECTION + "?order=c-3")
    assert re.search(r'name="order_ref"[^>]*value="c-3"', form)
    page = correct(client, "c-3")
    section = text(page).split("Чеки заказа", 1)[1]
    assert f"Продажа Приход {sale_external_id}" in section  # the order's receipts beside the preview


def test_correction_page_obeys_the_access_rule_and_csrf(admin_app, emulator) -> None:
    app, db, kassa = admin_app(admin_access=lambda: False, order_loader={"c-1": plain_order("c-1")}.get)
    assert app.test_client().get(CORRECTION).status_code == 403
    assert "Чек коррекции" not in app.test_client().get("/admin/").get_data(as_text=True)
    app, db, kassa = shop(admin_app, emulator)
    page = AdminClient(app).post(CORRECTION, {"order_ref": "c-1", "base_date": day(-1), "step": "send"},
                                 token=False)
    assert "CSRF" in text(page) and receipts(app, kassa) == []


# -- tax settings in force and scheduled ----------------------------------------------------------


def vat_in_a_sale_built_today(client: AdminClient) -> set[str]:
    return {p["vat"] for p in payload_of(client.post(FISCALIZE, {"order_ref": "c-1", "register": "",
                                                                 "payment": "cash", "step": "preview"}))["positions"]}


def test_register_screens_show_the_tax_in_force_today_and_the_scheduled_change(admin_app, emulator) -> None:
    tomorrow = TODAY + timedelta(days=1)
    app, db, kassa = shop(admin_app, emulator, vat="10", next_vat="22", next_tax_system=1,
                          tax_change_date=tomorrow)
    client = AdminClient(app)
    with app.app_context():
        register_id = kassa.state.session.scalar(sa.select(kassa.models.CashRegister.id))
    listing = text(client.get(REGISTERS))
    assert f"НДС 10% → с {day(1)}: НДС 22%" in listing and f"ОСН → с {day(1)}: УСН доход" in listing
    details = text(client.get(REGISTERS + f"details/?id={register_id}"))
    assert f"Сейчас действует: ОСН, НДС 10%; с {day(1)}: УСН доход, НДС 22%" in details
    assert f"НДС 10% → с {day(1)}: НДС 22%" in details
    assert vat_in_a_sale_built_today(client) == {"10"}  # what the screens say is what receipts get

    with app.app_context():  # the day has come
        register = kassa.state.session.get(kassa.models.CashRegister, register_id)
        register.tax_change_date = TODAY
        db.session.commit()
    listing = text(client.get(REGISTERS))
    assert f"НДС 22% (с {day(0)}, до этого НДС 10%)" in listing and f"УСН доход (с {day(0)}, до этого ОСН)" in listing
    assert "→ с" not in listing
    details = text(client.get(REGISTERS + f"details/?id={register_id}"))
    assert f"Сейчас действует: УСН доход, НДС 22% (с {day(0)}; до этого: ОСН, НДС 10%)" in details
    assert vat_in_a_sale_built_today(client) == {"22"}

    with app.app_context():  # only the VAT changes: the tax system column has nothing scheduled
        register = kassa.state.session.get(kassa.models.CashRegister, register_id)
        register.next_tax_system, register.tax_change_date = None, tomorrow
        db.session.commit()
    listing = text(client.get(REGISTERS))
    assert f"НДС 10% → с {day(1)}: НДС 22%" in listing and "ОСН →" not in listing
    assert f"Сейчас действует: ОСН, НДС 10%; с {day(1)}: ОСН, НДС 22%" in text(
        client.get(REGISTERS + f"edit/?id={register_id}"))


@pytest.mark.parametrize("change_on, today, now, other, upcoming", [
    (date(2026, 1, 1), date(2025, 12, 31), "20", "22", True),
    (date(2026, 1, 1), date(2026, 1, 1), "22", "20", False),
    (None, date(2026, 1, 1), "20", None, False),
])
def test_tax_schedule_reads_register_settings(change_on, today, now, other, upcoming) -> None:
    from tests.test_routing import FullReg

    schedule = TaxSchedule.of(FullReg(vat="20", next_vat="22", tax_change_date=change_on), today)
    assert schedule.now.vat.value == now and schedule.upcoming is upcoming
    assert (schedule.other.vat.value if schedule.other else None) == other
    if upcoming:
        assert str(schedule.column("vat")).startswith("НДС 20% <small")
        assert schedule.sentence() == "Сейчас действует: УСН доход, НДС 20%; с 01.01.2026: УСН доход, НДС 22%"


# -- «Чеки заказа» -----------------------------------------------------------------------------


def test_receipt_page_lists_the_orders_receipts_in_order_with_one_query(admin_app, emulator) -> None:
    app, db, kassa = admin_app(DISPATCH="worker")  # nothing is sent: the rows keep their order of creation
    with app.app_context():
        add_register(db, kassa.models, name="Москва", shop_id="s1", secret=SECRET, api_url=emulator.url,
                     payment_method="pre_payment_full", settlement_scheme="two")
    order, other = make_order("L-1", lines=3), make_order("L-2")
    steps = [lambda: kassa.fiscalize(order), lambda: kassa.fiscalize(other),
             lambda: kassa.refund(order, lines=[1], ref="r1"), lambda: kassa.settle(order),
             lambda: kassa.correct(order, base_date=TODAY - timedelta(days=1), base_number="А-1")]
    ids = []
    for step in steps:
        with app.app_context():
            ids.append(step().id)
            db.session.commit()
    sale, lone, refund, settlement, correction = ids
    client = AdminClient(app)
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    def details(receipt_id: int) -> tuple[str, list[str]]:
        statements.clear()
        page = client.get(RECEIPTS + f"details/?id={receipt_id}")
        return page, list(statements)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        details(lone)  # warm up
        _, alone = details(lone)
        page, four = details(refund)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(alone) == len(four), (alone, four)  # one receipt in the order or four: the same queries
    timeline = [s for s in four if re.search(r"WHERE komtet_receipt\.order_ref = \S+ ORDER BY", s)]
    assert len(timeline) == 1, four

    section = page.split("komtet-order-receipts-title", 1)[1].split("Отправленные данные", 1)[0]
    rows = re.findall(r'<tr class="komtet-order-receipt( table-primary komtet-current)?" data-receipt="(\d+)"', section)
    assert [int(id_) for _, id_ in rows] == [sale, refund, settlement, correction]
    assert [bool(current) for current, _ in rows] == [False, True, False, False]
    visible = text(section)
    assert "Вид Признак расчета Чек ККТ Сумма Создан Отправлен Завершен" in visible
    stored = {r.id: r for r in receipts(app, kassa)}
    assert [stored[i].total for i in ids] == [Decimal("2108.00"), Decimal("1052.00"), Decimal("702.00"),
                                              Decimal("1406.00"), Decimal("2108.00")]
    expected = [
        (sale, "Продажа Приход {} В очереди 2 108,00 ₽"),
        (refund, "Возврат Возврат прихода {} (этот чек) В очереди 702,00 ₽"),
        (settlement, "Полный расчет Приход {} Ожидает ручной отправки 1 406,00 ₽"),
        (correction, "Коррекция Коррекция прихода {} В очереди 2 108,00 ₽"),
    ]
    found = [visible.index(row.format(stored[i].external_id)) for i, row in expected]
    assert found == sorted(found)
    assert f"{stored[sale].created_at:%Y}" in visible  # creation times shown (local time, dd.mm.yyyy hh:mm:ss)
    for receipt_id in (sale, settlement, correction):
        assert f'href="/admin/komtet_receipts/details/?id={receipt_id}"' in section
    assert f'href="/admin/komtet_receipts/details/?id={refund}"' not in section  # the current one: no link
    assert stored[lone].external_id not in section
