"""``flask komtet register add|list|edit|disable``: the admin form's settings and rules, the Secret never shown."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from flask_komtet.admin.forms import register_form_class
from flask_komtet.register_cli import FLAG_OPTIONS, TEXT_OPTIONS
from flask_komtet.state import get_state

SECRET = "s3cr3t-from-the-cabinet"
ADD = ["komtet", "register", "add", "--name", "Москва", "--region", "msk", "--shop-id", "12345", "--queue-id", "7",
       "--tax-system", "1", "--vat", "22", "--payment-method", "full_payment", "--payment-address", "https://shop.test"]


def _registers(app: Any) -> list[Any]:
    with app.app_context():
        state = get_state(app)
        return list(state.session.scalars(sa.select(state.models.CashRegister).order_by("id")))


def test_every_admin_form_setting_is_an_option(make_app) -> None:
    app, db, kassa = make_app()
    with app.test_request_context():
        fields = {f.name for f in register_form_class(get_state(app))(meta={"csrf": False})}
    assert fields - {"csrf_token", "secret"} == set(TEXT_OPTIONS) | set(FLAG_OPTIONS)


def test_add_list_edit_disable_round_trip(make_app) -> None:
    app, db, kassa = make_app(TIMEZONE="Europe/Moscow")
    runner = app.test_cli_runner()
    added = runner.invoke(args=[*ADD, "--extra-regions", "tver, spb", "--no-print-receipt"],
                          env={"KOMTET_KASSA_SECRET": SECRET})
    assert added.exit_code == 0, added.output
    assert "Касса #1 «Москва» добавлена" in added.output
    assert "http://shop.test/komtet/1/success" in added.output
    [register] = _registers(app)
    assert (register.region, register.extra_regions, register.shop_id, register.queue_id) == ("msk", ["tver", "spb"],
                                                                                            "12345", 7)
    assert (register.tax_system, register.vat, register.payment_method, register.secret) == (1, "22", "full_payment",
                                                                                            SECRET)
    assert (register.is_active, register.auto_fiscalize, register.print_receipt) == (True, True, False)  # defaults kept

    listed = runner.invoke(args=["komtet", "register", "list"])
    assert listed.exit_code == 0, listed.output
    assert "#1 «Москва» регион msk + tver, spb: включена, автоотправка" in listed.output
    assert "ShopID 12345, очередь 7, СНО «УСН доход» (1), НДС «НДС 22%» (22)" in listed.output
    assert "расчет «Полный расчет» (full_payment)" in listed.output and "MSK" in listed.output

    edited = runner.invoke(args=["komtet", "register", "edit", "1", "--vat", "10", "--print-receipt",
                                 "--name-template", "{name} для {customer}", "--next-vat", "22",
                                 "--tax-change-date", "2027-01-01"])
    assert edited.exit_code == 0, edited.output
    [register] = _registers(app)
    assert (register.vat, register.print_receipt, register.name_template) == ("10", True, "{name} для {customer}")
    assert "с 01.01.2027: СНО без изменений, НДС «НДС 22%» (22)" in runner.invoke(args=["komtet", "register", "list"]).output
    assert (register.name, register.queue_id, register.extra_regions, register.secret) == ("Москва", 7, ["tver", "spb"],
                                                                                          SECRET)  # untouched

    new_secret = runner.invoke(args=["komtet", "register", "edit", "1", "--new-secret"], input="other\nother\n")
    assert new_secret.exit_code == 0, new_secret.output
    assert _registers(app)[0].secret == "other"

    disabled = runner.invoke(args=["komtet", "register", "disable", "1"])
    assert disabled.exit_code == 0 and "выключена" in disabled.output
    assert _registers(app)[0].is_active is False
    assert "#1 «Москва» регион msk + tver, spb: выключена" in runner.invoke(args=["komtet", "register", "list"]).output
    for output in (added.output, listed.output, edited.output, new_secret.output, disabled.output):
        assert SECRET not in output and "other" not in output


def test_refused_values_name_the_field_in_russian_and_save_nothing(make_app) -> None:
    app, db, kassa = make_app()
    runner = app.test_cli_runner()
    env = {"KOMTET_KASSA_SECRET": SECRET}
    result = runner.invoke(args=[*ADD, "--vat", "18", "--queue-id", "0", "--cashier-inn", "1234"], env=env)
    assert result.exit_code != 0
    assert "«Ставка налога» (--vat):" in result.output and "20%" in result.output  # the enum's own explanation
    assert "«ID очереди» (--queue-id): ID очереди — положительное целое число" in result.output
    assert "«ИНН кассира» (--cashier-inn):" in result.output
    assert _registers(app) == []
    assert SECRET not in result.output

    assert runner.invoke(args=ADD, env=env).exit_code == 0
    second = runner.invoke(args=[*ADD, "--name", "Вторая"], env=env)  # the admin's rule: one active per region
    assert second.exit_code != 0 and "«Регион» (--region): В регионе «msk» уже есть активная касса «Москва»" in second.output
    missing = runner.invoke(args=["komtet", "register", "edit", "9", "--vat", "10"])
    assert missing.exit_code != 0 and "кассы #9 нет" in missing.output


def test_the_secret_is_asked_hidden_when_not_in_the_environment(make_app) -> None:
    app, db, kassa = make_app()
    result = app.test_cli_runner().invoke(args=ADD, input=f"{SECRET}\n{SECRET}\n", env={"KOMTET_KASSA_SECRET": ""})
    assert result.exit_code == 0, result.output
    assert "Secret" in result.output and SECRET not in result.output  # the prompt echoes nothing
    assert _registers(app)[0].secret == SECRET
