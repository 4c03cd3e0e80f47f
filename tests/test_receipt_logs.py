"""Failed and held receipts say so in the log; sending and callbacks are logged with the external id;
``flask komtet reconcile`` counts every kind and says what it could not check."""

from __future__ import annotations

import logging
from datetime import date

from click.testing import CliRunner

from flask_komtet import Customer
from tests.shop_fixtures import SECRET, add_register, make_order, wait_for
from tests.test_pipeline import _script_info, emulator, shop, state_of  # noqa: F401  (fixtures)


def warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name.startswith("flask_komtet")]


def test_failed_and_held_receipts_log_a_warning_without_secrets_or_contacts(shop, emulator, caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="flask_komtet")
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models, name="Москва")
        add_register(db, kassa.models, name="Склад", region="spb", auto_fiscalize=False)
        no_contact = make_order("8001").replace(customer=Customer(email="ivan.petrov@mail", phone="+7 999 123-45-67"))
        kassa.fiscalize(no_contact)  # a bad email: failed
        kassa.fiscalize(make_order("8002", region="kzn"))  # no register: failed
        kassa.fiscalize(make_order("8003", region="spb"))  # held for a manual send
        kassa.fiscalize(make_order("8004"))
        db.session.commit()
    wait_for(lambda: state_of(app, db, "sale-8004-1") == "done")
    said = warnings(caplog)
    assert any("sale-8001-1 of order 8001 (sale, register «Москва» (№1)) is failed: customer.email" in w for w in said)
    assert any("sale-8002-1 of order 8002 (sale, register нет) is failed: Нет активной кассы для региона «kzn»" in w
               for w in said)
    assert any("sale-8003-1 of order 8003 (sale, register «Склад» (№2)) is held" in w for w in said)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "ivan.petrov" not in logged and "123-45-67" not in logged and SECRET not in logged
    infos = [r.getMessage() for r in caplog.records if r.levelno <= logging.INFO and "sale-8004-1" in r.getMessage()]
    assert any("sent" in m for m in infos) and any("done (callback)" in m for m in infos)
    assert any("KOMTET callback for sale-8004-1" in m for m in infos)


def test_a_receipt_komtet_refuses_logs_a_warning(shop, emulator, caplog) -> None:
    caplog.set_level(logging.INFO, logger="flask_komtet")
    emulator.fail_external_ids(r"^sale-8010-", "Ошибка открытия чека")
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models)
        kassa.fiscalize(make_order("8010"))
        db.session.commit()
    wait_for(lambda: state_of(app, db, "sale-8010-1") == "error")
    assert any("sale-8010-1 of order 8010 (sale, register «Касса msk» (№1)) is error: Ошибка открытия чека" in w
               for w in warnings(caplog))


def reconcile(app, *args: str):
    return CliRunner().invoke(app.cli, ["komtet", "reconcile", *args], obj=_script_info(app))


def test_reconcile_counts_every_kind_and_names_prepayments_waiting_for_settlement(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models)
        add_register(db, kassa.models, region="spb", payment_method="advance", settlement_scheme="two")
        refunded, prepaid = make_order("8020"), make_order("8021", region="spb")
        kassa.fiscalize(refunded)
        kassa.fiscalize(prepaid)
        kassa.correct(make_order("8022"), base_date=date(2026, 2, 3))
        db.session.commit()
    wait_for(lambda: all(state_of(app, db, f"sale-{ref}-1") == "done" for ref in ("8020", "8021")))
    with app.app_context():
        kassa.refund(refunded)
        db.session.commit()
    wait_for(lambda: state_of(app, db, "refund-8020-all-1") == "done")
    without_loader = reconcile(app)  # no --since: the last 30 days
    lines = without_loader.output.splitlines()
    assert lines[1] == "Чеков за период: 4 (продажа: 2, коррекция: 1, возврат: 1)"
    assert "не задан paid_orders_loader" in without_loader.output
    assert "Заказ 8021 оплачен предоплатой и ждет чека «Полный расчет»" in without_loader.output
    assert without_loader.exit_code == 1
    state = app.extensions["komtet_kassa"]
    state.paid_orders_loader = lambda since: [prepaid]  # the refunded order is no longer "paid" for the shop
    with_loader = reconcile(app, "--since", "2026-01-01").output
    assert "Проверено оплаченных заказов: 1" in with_loader
    assert "8020" not in with_loader  # refunded: not a receipt without a paid order
    with app.app_context():
        kassa.settle(prepaid)
        db.session.commit()
    wait_for(lambda: state_of(app, db, "settle-8021-1") == "done")
    settled = reconcile(app, "--since", "2026-01-01")
    assert "ждет чека" not in settled.output and settled.output.splitlines()[-1] == "Расхождений нет"
    assert settled.exit_code == 0
    check = CliRunner().invoke(app.cli, ["komtet", "check"], obj=_script_info(app)).output
    assert "нужен второй чек «Полный расчет»" in check and "ждут чека" not in check
