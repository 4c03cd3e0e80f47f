"""Admin: the receipt list (states, filters, search, constant queries), details and every action."""

from __future__ import annotations

import html
import json
import re
from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from flask_komtet.emulator import KomtetEmulator
from flask_komtet.models import utcnow
from tests.shop_fixtures import add_register, make_order, wait_for
from tests.test_admin import SECRET, AdminClient, admin_app, emulator, text  # noqa: F401  (fixtures)

RECEIPTS = "/admin/komtet_receipts/"


def shop(admin_app: Any, emulator: KomtetEmulator, dispatch: str = "sync", **config: Any) -> tuple[Any, Any, Any]:
    """An app with «Москва» (auto), «Питер» (manual send) registers on the emulator; no register for Тверь."""
    app, db, kassa = admin_app(DISPATCH=dispatch, **config)
    with app.app_context():
        add_register(db, kassa.models, name="Москва", shop_id="s1", secret=SECRET, api_url=emulator.url)
        add_register(db, kassa.models, region="spb", name="Питер", shop_id="s1", secret=SECRET, queue_id=2,
                     api_url=emulator.url, auto_fiscalize=False)
    return app, db, kassa


def fiscalize(app: Any, db: Any, kassa: Any, ref: str, region: str = "msk", **extra: Any) -> int:
    with app.app_context():
        receipt = kassa.fiscalize(make_order(ref, region, **extra))
        db.session.commit()
        return receipt.id


def receipt(app: Any, kassa: Any, receipt_id: int) -> Any:
    with app.app_context():
        return kassa.state.session.get(kassa.models.Receipt, receipt_id)


def all_receipts(app: Any, kassa: Any) -> list[Any]:
    with app.app_context():
        Receipt = kassa.models.Receipt
        return list(kassa.state.session.scalars(sa.select(Receipt).order_by(Receipt.id)))


def run(client: AdminClient, op: str, receipt_id: int) -> str:
    return text(client.post(RECEIPTS + "run/", {"id": receipt_id, "op": op}))


def until_done_in_komtet(emulator: KomtetEmulator, count: int = 1) -> None:
    wait_for(lambda: sum(t.state == "done" for t in emulator.tasks()) >= count)


def details(client: AdminClient, receipt_id: int) -> str:
    return client.get(RECEIPTS + f"details/?id={receipt_id}")


# -- the list --------------------------------------------------------------------------------


def test_list_shows_states_registers_money_and_errors(admin_app, emulator) -> None:
    app, db, kassa = shop(admin_app, emulator)
    client = AdminClient(app)
    done = fiscalize(app, db, kassa, "1001")
    held = fiscalize(app, db, kassa, "1002", "spb")
    failed = fiscalize(app, db, kassa, "1003", "tver")
    until_done_in_komtet(emulator)
    run(client, "refresh", done)
    page = client.get(RECEIPTS)
    visible = text(page)
    assert "Чеки" in visible and "ККТ" in visible and "Заказ" in visible and "Сумма" in visible
    assert "1 052,00 ₽" in visible
    assert re.search(r'badge badge-success komtet-state komtet-state-done[^>]*>Выполнен<', page)
    assert re.search(r'badge badge-secondary komtet-state komtet-state-held[^>]*>Ожидает ручной отправки<', page)
    assert re.search(r'badge badge-danger komtet-state komtet-state-failed" style="background-color:#7a1111"', page)
    assert "Нет активной кассы для региона «Тверь»" in visible
    assert "Москва" in visible and "Питер" in visible and "Продажа" in visible
    for order in ("1001", "1002", "1003"):
        assert f">{order}</a>" in page
    # newest first
    assert visible.index("1003") < visible.index("1002") < visible.index("1001")
    assert SECRET not in "\n".join(client.pages)
    assert {done, held, failed} == {r.id for r in all_receipts(app, kassa)}


def test_filters_and_search(admin_app, emulator) -> None:
    app, db, kassa = shop(admin_app, emulator, dispatch="worker")
    client = AdminClient(app)
    fiscalize(app, db, kassa, "2001")
    fiscalize(app, db, kassa, "2002", "spb")
    fiscalize(app, db, kassa, "2003", "tver")
    moscow, piter = (r.register_id for r in all_receipts(app, kassa)[:2])
    with app.app_context():
        kassa.refund(make_order("2001"))
        db.session.commit()

    def orders(query: str) -> list[str]:
        return re.findall(r">(\d{4})</a>", client.get(RECEIPTS + query))

    assert orders("") == ["2001", "2003", "2002", "2001"]
    assert orders("?flt0_0=held") == ["2002"]
    assert orders("?flt0_0=failed") == ["2003"]
    assert orders(f"?flt0_1={moscow}") == ["2001", "2001"]
    assert orders(f"?flt0_1={piter}") == ["2002"]
    today, tomorrow = date.today(), date.today() + timedelta(days=1)
    assert len(orders(f"?flt0_2={today - timedelta(days=1)}+to+{tomorrow}")) == 4
    assert orders(f"?flt0_2={today - timedelta(days=9)}+to+{today - timedelta(days=2)}") == []
    assert orders("?flt0_3=refund") == ["2001"]
    assert orders("?search=2002") == ["2002"]
    assert orders("?search=refund-2001") == ["2001"]
    page = client.get(RECEIPTS)
    groups = json.loads(html.unescape(re.search(r'id="filter-groups-data"[^>]*>(.*?)</div>', page, re.S).group(1)))
    assert set(groups) == {"Состояние", "Касса", "Создан", "Вид", "Ошибка"}
    assert orders("?flt0_4=" + quote("активной кассы")) == ["2003"]  # «Ошибка» contains (for «Сводка»)
    assert ["held", "Ожидает ручной отправки"] in groups["Состояние"][0]["options"]
    assert groups["Касса"][0]["options"] == [[str(moscow), "Москва"], [str(piter), "Питер"]]
    assert groups["Создан"][0]["operation"] == "между" and groups["Вид"][0]["operation"] == "равно"
    assert "Номер заказа или внешний id" in page


def test_list_page_queries_do_not_grow_with_rows(admin_app, emulator) -> None:
    app, db, kassa = shop(admin_app, emulator, dispatch="worker")
    client = AdminClient(app)
    counts = {}
    with app.app_context():
        Receipt = kassa.models.Receipt
        engine = db.engine
        registers = [r.id for r in kassa.state.session.scalars(sa.select(kassa.models.CashRegister))]

    def add(n: int, start: int) -> None:
        now = utcnow()
        rows = [dict(external_id=f"sale-q{i}-1", register_id=registers[i % 2], order_ref=f"q{i}", kind="sale",
                     event_key="", sequence=1, intent="sell", state=("done", "sent", "queued", "error")[i % 4],
                     total=Decimal("10.50"), attempts=0, created_at=now - timedelta(seconds=i),
                     updated_at=now, last_error="ошибка" if i % 4 == 3 else None)
                for i in range(start, start + n)]
        with app.app_context():
            with db.engine.begin() as connection:
                connection.execute(sa.insert(Receipt.__table__), rows)

    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        for total, start, size in ((10, 0, 10), (200, 10, 190)):
            add(size, start)
            client.get(RECEIPTS)  # warm up
            statements.clear()
            page = client.get(RECEIPTS + "?page_size=100")
            counts[total] = len(statements)
            assert page.count("komtet-state-") >= min(total, 100)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert counts[10] == counts[200], counts
    assert counts[200] <= 4, counts


# -- details ---------------------------------------------------------------------------------


def test_details_show_payload_fiscal_data_routing_and_history(admin_app, emulator) -> None:
    app, db, kassa = shop(admin_app, emulator)
    client = AdminClient(app)
    receipt_id = fiscalize(app, db, kassa, "3001")
    sent = text(details(client, receipt_id))
    assert "Отправлен" in sent and "Обновить состояние" in sent and "Появятся, когда касса напечатает чек" in sent
    until_done_in_komtet(emulator)
    assert "Выполнен" in run(client, "refresh", receipt_id)
    page = details(client, receipt_id)
    visible = text(page)
    stored = receipt(app, kassa, receipt_id)
    for value in (stored.external_id, stored.fn, stored.fd, stored.fp, "ФН", "ФД", "ФП", "Открыть чек",
                  "Почему эта касса", "основной регион «Москва»", "1 052,00 ₽", "История", "Создан",
                  "Принят КОМТЕТ", "Запрос состояния", "— → В очереди", "Отправляется → Отправлен",
                  "Отправлен → Выполнен"):
        assert value in visible, value
    assert f'href="{stored.receipt_url}"' in page
    payload = html.unescape(re.search(r'<pre class="[^"]*komtet-payload[^"]*"[^>]*>(.*?)</pre>', page, re.S).group(1))
    assert '"external_id": "sale-3001-1"' in payload and '"sno": 0' in payload and '"price": 351.00' in payload
    assert "Отправить сейчас" not in visible and "Повторить отправку" not in visible
    assert "Оформить возврат" in visible and "Весь заказ" in visible and "Чай №1" in visible
    assert SECRET not in "\n".join(client.pages)


# -- actions ---------------------------------------------------------------------------------


def test_send_now_releases_a_held_receipt_and_sends_a_queued_one(admin_app, emulator) -> None:
    app, db, kassa = shop(admin_app, emulator, dispatch="worker")
    client = AdminClient(app)
    held = fiscalize(app, db, kassa, "4001", "spb")
    queued = fiscalize(app, db, kassa, "4002")
    assert (receipt(app, kassa, held).state, receipt(app, kassa, queued).state) == ("held", "queued")
    assert "Отправить сейчас" in text(details(client, held))
    page = run(client, "send", queued)
    assert "Чек sale-4002-1 (заказ 4002) отправлен: Отправлен" in page
    assert receipt(app, kassa, queued).state == "sent"
    page = run(client, "send", held)
    assert "Чек sale-4001-1 (заказ 4001) отправлен: В очереди" in page  # the worker sends it
    assert receipt(app, kassa, held).state == "queued"
    page = run(client, "send", queued)
    assert "отправить сейчас можно только чек «Ожидает ручной отправки» или «В очереди», а он «Отправлен»" in page


def test_send_now_in_sync_mode_reaches_komtet(admin_app, emulator) -> None:
    app, db, kassa = shop(admin_app, emulator)
    client = AdminClient(app)
    held = fiscalize(app, db, kassa, "4101", "spb")
    assert "отправлен: Отправлен" in run(client, "send", held)
    assert [t.external_id for t in emulator.tasks()] == ["sale-4101-1"]


def test_resend_after_failure_makes_a_new_receipt_and_keeps_the_old_one(admin_app, emulator) -> None:
    app, db, kassa = shop(admin_app, emulator)
    client = AdminClient(app)
    failed = fiscalize(app, db, kassa, "5001", "tver")
    assert receipt(app, kassa, failed).state == "failed"
    page = run(client, "resend", failed)
    assert "Нет активной кассы для региона «Тверь»" in page  # still no register: a new failed attempt
    with app.app_context():
        add_register(db, kassa.models, region="tver", name="Тверь", shop_id="s1", secret=SECRET,
                     api_url=emulator.url)
    page = run(client, "resend", failed)
    assert "отправлен повторно новым чеком sale-5001-3 — Отправлен" in page
    old = text(details(client, failed))
    assert "Отправлен повторно" in old and "sale-5001-2" in old and "sale-5001-3" in old
    assert "Повтор чека" in text(details(client, all_receipts(app, kassa)[-1].id))
    done = fiscalize(app, db, kassa, "5002")
    assert "повторить можно только чек «Ошибка» или «Не отправлен», а он «Отправлен»" in run(client, "resend", done)


def test_refresh_asks_komtet_and_refuses_receipts_without_a_task(admin_app, emulator) -> None:
    app, db, kassa = shop(admin_app, emulator)
    client = AdminClient(app)
    emulator.state.delay = None  # tasks stay «new» until finished by hand
    sent = fiscalize(app, db, kassa, "6001")
    page = run(client, "refresh", sent)
    assert "КОМТЕТ еще не напечатал чек" in page
    emulator.finish_task(emulator.tasks()[0].id)
    assert "Чек sale-6001-1 (заказ 6001): Выполнен" in run(client, "refresh", sent)
    assert receipt(app, kassa, sent).fn
    assert "обновить состояние можно только у чека «Отправлен», а он «Выполнен»" in run(client, "refresh", sent)
    other = fiscalize(app, db, kassa, "6002")
    emulator.stop()
    page = run(client, "refresh", other)  # KOMTET unreachable: a message, not a 500
    message = re.search(r"Чек sale-6002-1 \(заказ 6002\): [^×]*", page).group(0)
    assert "ConnectionError" in message and "Выполнен" not in message
    assert receipt(app, kassa, other).state == "sent"


def test_refund_of_the_whole_order_and_of_chosen_lines(admin_app, emulator) -> None:
    app, db, kassa = shop(admin_app, emulator)
    client = AdminClient(app)
    sale = fiscalize(app, db, kassa, "7001", lines=3)
    until_done_in_komtet(emulator)
    run(client, "refresh", sale)
    page = text(client.post(RECEIPTS + "refund/", {"id": sale, "scope": "lines", "qty_1": "1", "qty_2": ""}))
    assert "Возврат оформлен: чек refund-7001-" in page
    partial = all_receipts(app, kassa)[-1]
    assert partial.kind == "refund" and partial.intent == "sellReturn" and partial.state == "sent"
    positions = partial.payload["positions"]
    assert [(p["name"], p["quantity"]) for p in positions] == [("Чай №1", Decimal("1"))]
    assert partial.total == Decimal("351.00")
    form = text(details(client, sale))
    assert "Возвращено" in form
    page = text(client.post(RECEIPTS + "refund/", {"id": sale, "scope": "lines", "qty_1": "2"}))
    assert "«Чай №1»: вернуть можно от 0 до 1 (уже возвращено 1)" in page
    page = text(client.post(RECEIPTS + "refund/", {"id": sale, "scope": "all"}))
    assert "Возврат оформлен" in page
    whole = all_receipts(app, kassa)[-1]  # what is left: the line refunded before is not returned twice
    assert whole.total == Decimal("350.00") + Decimal("351.00") + Decimal("352.00") * 3
    assert [(p["name"], p["quantity"]) for p in whole.payload["positions"]] == [
        ("Чай №0", Decimal("1")), ("Чай №1", Decimal("1")), ("Чай №2", Decimal("3"))]
    page = text(client.post(RECEIPTS + "refund/", {"id": sale, "scope": "all"}))
    assert f"Такой возврат уже оформлен: чек {whole.external_id}" in page
    count = len(all_receipts(app, kassa))
    for form, message in (({"scope": "lines"}, "Выберите, что вернуть"),
                          ({"scope": "lines", "qty_0": "1"}, "«Чай №0»: вернуть можно от 0 до 0 (уже возвращено 1)"),
                          ({"scope": "lines", "qty_0": "много"}, "количество «много» — не число")):
        assert message in text(client.post(RECEIPTS + "refund/", {"id": sale} | form))
    assert len(all_receipts(app, kassa)) == count
    page = text(client.post(RECEIPTS + "refund/", {"id": whole.id, "scope": "all"}))
    assert "возврат оформляется по выполненному чеку продажи" in page


def test_bulk_actions_on_the_list(admin_app, emulator) -> None:
    app, db, kassa = shop(admin_app, emulator)
    client = AdminClient(app)
    held = [fiscalize(app, db, kassa, f"80{i}", "spb") for i in range(3)]
    client.get(RECEIPTS)
    page = text(client.post(RECEIPTS + "action/", [("action", "send")] + [("rowid", i) for i in held]))
    assert page.count("отправлен: Отправлен") == 3
    until_done_in_komtet(emulator, 3)
    page = text(client.post(RECEIPTS + "action/", [("action", "refresh")] + [("rowid", i) for i in held]))
    assert page.count(": Выполнен") == 3
    page = text(client.post(RECEIPTS + "action/", [("action", "resend"), ("rowid", held[0])]))
    assert "повторить можно только чек" in page
    listing = client.get(RECEIPTS)
    for label in ("Отправить сейчас", "Повторить отправку", "Обновить состояние"):
        assert label in listing


def test_actions_need_the_csrf_token_and_a_known_operation(admin_app, emulator) -> None:
    app, db, kassa = shop(admin_app, emulator, dispatch="worker")
    client = AdminClient(app)
    held = fiscalize(app, db, kassa, "9001", "spb")
    page = text(client.post(RECEIPTS + "run/", {"id": held, "op": "send"}, token=False))
    assert "Форма устарела (CSRF)" in page
    page = text(client.post(RECEIPTS + "action/", [("action", "send"), ("rowid", held)], token=False))
    assert receipt(app, kassa, held).state == "held"
    page = text(client.post(RECEIPTS + "refund/", {"id": held, "scope": "all"}, token=False))
    assert "Форма устарела (CSRF)" in page
    assert "Неизвестное действие: boom" in run(client, "boom", held)
    assert "Такого чека нет" in run(client, "send", 999999)
    assert receipt(app, kassa, held).state == "held"
    assert len(all_receipts(app, kassa)) == 1


def test_receipts_are_records_not_editable(admin_app, emulator) -> None:
    app, db, kassa = shop(admin_app, emulator)
    client = AdminClient(app)
    receipt_id = fiscalize(app, db, kassa, "9101")
    for url in (RECEIPTS + "new/", RECEIPTS + f"edit/?id={receipt_id}"):
        assert app.test_client().get(url).status_code == 302
    client.post(RECEIPTS + "delete/", {"id": receipt_id})
    assert len(all_receipts(app, kassa)) == 1
    listing = client.get(RECEIPTS)
    assert "Создать" not in text(listing) and "Удалить" not in listing


@pytest.mark.parametrize("value, expected", [
    (Decimal("1234.5"), "1\u00a0234,50\u00a0₽"), (Decimal("0"), "0,00\u00a0₽"), (None, ""),
    (Decimal("1000000"), "1\u00a0000\u00a0000,00\u00a0₽"), (Decimal("-5.1"), "−5,10\u00a0₽"),
])
def test_money_format(value: Any, expected: str) -> None:
    from flask_komtet.admin.base import format_rub

    assert format_rub(value) == expected


def test_the_list_warns_of_prepaid_orders_waiting_for_their_settlement(admin_app, emulator) -> None:
    app, db, kassa = admin_app(DISPATCH="sync")
    with app.app_context():
        add_register(db, kassa.models, name="Москва", shop_id="s1", secret=SECRET, api_url=emulator.url,
                     payment_method="advance", settlement_scheme="two")
    fiscalize(app, db, kassa, "p-1")
    client = AdminClient(app)
    assert "ждут чека «Полный расчет» (1): p-1" in text(client.get(RECEIPTS))
    assert "нужен второй чек «Полный расчет»" in text(client.get("/admin/komtet_registers/"))
    with app.app_context():
        kassa.settle(make_order("p-1"))
        db.session.commit()
    assert "ждут чека" not in text(client.get(RECEIPTS))
