"""External ids that two databases on one KOMTET account cannot share, and ``flask komtet check`` naming the prefix."""

from __future__ import annotations

import re

import sqlalchemy as sa
from click.testing import CliRunner

from tests.shop_fixtures import add_register, make_order, wait_for
from tests.test_pipeline import _script_info, emulator, shop, state_of  # noqa: F401  (fixtures)

INSTALLED = re.compile(r"^([0-9a-f]{8})-sale-1001-1$")


def check(app) -> str:
    return CliRunner().invoke(app.cli, ["komtet", "check"], obj=_script_info(app)).output


def test_two_databases_on_one_account_never_share_an_external_id(shop, emulator, tmp_path) -> None:
    production = shop("sync", EXTERNAL_ID_PREFIX=None)
    staging = shop("sync", EXTERNAL_ID_PREFIX=None,
                   flask_config={"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'staging.sqlite'}"})
    made = []
    for app, db, kassa in (production, staging):
        with app.app_context():
            add_register(db, kassa.models)
            made.append(kassa.fiscalize(make_order("1001")).external_id)
            db.session.commit()
    assert all(INSTALLED.match(external_id) for external_id in made), made
    assert made[0] != made[1]
    for (app, db, _), external_id in zip((production, staging), made, strict=True):
        wait_for(lambda app=app, db=db, external_id=external_id: state_of(app, db, external_id) == "done")
    assert sorted(t.external_id for t in emulator.tasks()) == sorted(made)  # two receipts, neither "already there"
    app, db, kassa = production
    with app.app_context():  # the prefix is made once: the next receipt of this database has the same one
        again = kassa.fiscalize(make_order("1002")).external_id
        db.session.commit()
    assert again == made[0].replace("1001", "1002")
    assert f"Внешние id чеков: «{INSTALLED.match(made[0]).group(1)}-» (идентификатор этой базы данных)" in check(app)


def test_a_restored_copy_is_noticed_and_gets_an_id_of_its_own(shop, emulator, tmp_path) -> None:
    app, db, kassa = shop("sync", EXTERNAL_ID_PREFIX=None)
    with app.app_context():
        add_register(db, kassa.models)
        first = kassa.fiscalize(make_order("1001")).external_id
        db.session.commit()
        table = app.extensions["komtet_kassa"].installation
        with db.engine.begin() as connection:  # as if the row had been made on another server
            connection.execute(sa.update(table).values(origin="postgresql://production.example:5432/shop"))
    shown = check(app)
    assert "идентификатор создан для базы postgresql://production.example:5432/shop" in shown
    assert "flask komtet installation --renew" in shown
    renewed = CliRunner().invoke(app.cli, ["komtet", "installation", "--renew"], obj=_script_info(app)).output
    assert "Новый идентификатор базы" in renewed
    fresh_app, fresh_db, fresh_kassa = app, db, kassa
    state = fresh_app.extensions["komtet_kassa"]
    state._prefix = None  # another process of the restored copy, started after the renewal
    with fresh_app.app_context():
        second = fresh_kassa.fiscalize(make_order("1002")).external_id
        fresh_db.session.commit()
    assert INSTALLED.match(second.replace("1002", "1001")) and second.split("-")[0] != first.split("-")[0]
    assert "Внимание" not in check(fresh_app)


def test_a_configured_prefix_wins_and_check_says_so(shop, emulator) -> None:
    app, db, kassa = shop("sync", EXTERNAL_ID_PREFIX="shop1-")
    with app.app_context():
        add_register(db, kassa.models)
        assert kassa.fiscalize(make_order("1001")).external_id == "shop1-sale-1001-1"
        db.session.commit()
    assert "Внешние id чеков: «shop1-» (KOMTET_KASSA_EXTERNAL_ID_PREFIX)" in check(app)
    bare, *_ = shop("sync")  # the tests' own apps: configured empty on purpose
    assert "Внешние id чеков: без префикса (KOMTET_KASSA_EXTERNAL_ID_PREFIX)" in check(bare)


def test_check_names_the_api_each_register_talks_to(shop, emulator) -> None:
    app, db, kassa = shop("sync")
    with app.app_context():
        add_register(db, kassa.models, name="Боевая")
        add_register(db, kassa.models, region="spb", name="Тестовая", api_url="http://127.0.0.1:9")
    lines = check(app).splitlines()
    apis = [line.strip() for line in lines if line.strip().startswith("API: ") and "dispatch" not in line]
    assert apis == [f"API: {app.config['KOMTET_KASSA_API_URL']}", "API: http://127.0.0.1:9"]
