"""init_app in the flask-sqlalchemy style: one extension, several apps, factories, config read once."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_komtet import KomtetKassa, get_state
from flask_komtet.config import DEFAULTS, load_config
from flask_komtet.errors import ConfigurationError


def test_single_app(make_app) -> None:
    app, db, kassa = make_app()
    state = app.extensions["komtet_kassa"]
    assert state.kassa is kassa and state.db is db
    assert not hasattr(kassa, "app")
    with app.app_context():
        assert kassa.state is state
        assert kassa.models.Receipt.__tablename__ == "komtet_receipt"
    assert "komtet_kassa" in app.blueprints
    assert "komtet" in app.cli.commands


def test_one_extension_serves_two_apps(make_app) -> None:
    kassa = KomtetKassa()
    app1, _, _ = make_app(kassa=kassa, URL_PREFIX="/kassa-one")
    app2, _, _ = make_app(kassa=kassa, URL_PREFIX="/kassa-two", EXTERNAL_ID_PREFIX="b-")
    with app1.app_context():
        assert kassa.state.config.url_prefix == "/kassa-one"
        assert kassa.state.app is app1
    with app2.app_context():
        assert kassa.state.config.url_prefix == "/kassa-two"
        assert kassa.state.config.external_id_prefix == "b-"
    rules1 = {r.rule for r in app1.url_map.iter_rules()}
    rules2 = {r.rule for r in app2.url_map.iter_rules()}
    assert any(r.startswith("/kassa-one/") for r in rules1) and not any(r.startswith("/kassa-two/") for r in rules1)
    assert any(r.startswith("/kassa-two/") for r in rules2)


def test_app_factory(database_url: str) -> None:
    db = SQLAlchemy()
    kassa = KomtetKassa(db=db)

    def create_app() -> Flask:
        app = Flask("factory_shop")
        app.config.update(SQLALCHEMY_DATABASE_URI=database_url, KOMTET_KASSA_DISPATCH="sync")
        db.init_app(app)
        kassa.init_app(app)
        return app

    app = create_app()
    with app.app_context():
        db.create_all()
        assert set(sa.inspect(db.engine).get_table_names()) >= {
            "komtet_cash_register", "komtet_receipt", "komtet_receipt_event"}
        db.drop_all()
        db.engine.dispose()


def test_constructor_with_app(database_url: str) -> None:
    app = Flask("eager")
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url
    db = SQLAlchemy(app)
    kassa = KomtetKassa(app, db=db)
    assert get_state(app).kassa is kassa
    with app.app_context():
        db.engine.dispose()


def test_double_init_raises(make_app) -> None:
    app, db, kassa = make_app()
    with pytest.raises(RuntimeError, match="already been registered"):
        kassa.init_app(app, db=db)
    with pytest.raises(RuntimeError, match="already been registered"):
        KomtetKassa().init_app(app, db=db)


def test_use_before_init_raises(make_app) -> None:
    app, _, _ = make_app(init=False)
    kassa = KomtetKassa()
    with app.app_context():
        with pytest.raises(RuntimeError, match="init_app"):
            kassa.fiscalize(object())
        with pytest.raises(RuntimeError, match="init_app"):
            get_state()


def test_db_is_required() -> None:
    with pytest.raises(ConfigurationError, match="Flask-SQLAlchemy"):
        KomtetKassa().init_app(Flask("nodb"))


def test_db_found_in_app_extensions(database_url: str) -> None:
    app = Flask("implicit_db")
    app.config["SQLALCHEMY_DATABASE_URI"] = database_url
    db = SQLAlchemy(app)
    assert KomtetKassa().init_app(app).db is db
    with app.app_context():
        db.engine.dispose()


def test_config_defaults_and_read_once(make_app) -> None:
    app, _, _ = make_app()
    state = get_state(app)
    assert state.config.api_url == DEFAULTS["API_URL"]
    assert state.config.url_prefix == "/komtet"
    app.config["KOMTET_KASSA_URL_PREFIX"] = "/changed"
    assert get_state(app).config.url_prefix == "/komtet"


@pytest.mark.parametrize(
    "key, value, message",
    [("DISPATCH", "carrier-pigeon", "DISPATCH must be one of"), ("MAX_ATTEMPTS", 0, "at least 1")],
)
def test_bad_config_is_refused(key: str, value: object, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_config({f"KOMTET_KASSA_{key}": value})


def test_config_normalisation() -> None:
    config = load_config({"KOMTET_KASSA_API_URL": "http://127.0.0.1:8765/", "KOMTET_KASSA_URL_PREFIX": "kassa/",
                          "KOMTET_KASSA_TIMEOUT": 5, "KOMTET_KASSA_REGIONS": {"msk": "Москва"}})
    assert config.api_url == "http://127.0.0.1:8765"
    assert config.url_prefix == "/kassa"
    assert config.timeout == (5.0, 5.0)
    assert config.region_choices() == [("msk", "Москва")]
    assert load_config({"KOMTET_KASSA_REGIONS": lambda: {"spb": "СПб"}}).region_choices() == [("spb", "СПб")]
    assert load_config({"KOMTET_KASSA_REGIONS": ["Москва", ("nsk", "Новосибирск")]}).region_choices() == [
        ("Москва", "Москва"), ("nsk", "Новосибирск")]


def test_models_have_prefixed_tables_and_indexes(make_app) -> None:
    app, db, _ = make_app()
    with app.app_context():
        inspector = sa.inspect(db.engine)
        indexed = {tuple(i["column_names"]) for i in inspector.get_indexes("komtet_receipt")}
        unique = {tuple(c["column_names"]) for c in inspector.get_unique_constraints("komtet_receipt")}
        unique |= {tuple(i["column_names"]) for i in inspector.get_indexes("komtet_receipt") if i["unique"]}
    assert ("state",) in indexed
    assert ("created_at",) in indexed
    assert ("register_id", "created_at") in indexed
    assert ("state", "next_attempt_at") in indexed
    assert ("external_id",) in unique


def test_models_are_built_once_per_db(make_app) -> None:
    kassa = KomtetKassa()
    app1, db1, _ = make_app(kassa=kassa)
    app2, db2, _ = make_app(kassa=kassa)
    assert get_state(app1).models is not get_state(app2).models
    from flask_komtet.models import get_models

    assert get_models(db1) is get_state(app1).models


def test_alembic_autogenerate_sees_the_tables(make_app) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    app, db, _ = make_app(init=False)
    KomtetKassa().init_app(app, db=db)  # tables not created: autogenerate must propose them
    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    added = {d[1].name for d in diff if d[0] == "add_table"}
    assert added == {"komtet_cash_register", "komtet_receipt", "komtet_receipt_event", "komtet_installation"}


def test_money_is_stored_exactly(make_app) -> None:
    from decimal import Decimal

    app, db, _ = make_app()
    with app.app_context():
        Receipt = get_state(app).models.Receipt
        db.session.add(Receipt(external_id="x", order_ref="1", intent="sell", total=Decimal("13063.99")))
        db.session.commit()
        db.session.expire_all()
        assert db.session.scalar(sa.select(Receipt.total)) == Decimal("13063.99")
        with pytest.raises(Exception, match="two decimal places"):
            db.session.add(Receipt(external_id="y", order_ref="1", intent="sell", total=Decimal("0.001")))
            db.session.flush()


def test_register_settings_are_checked_when_saved(make_app) -> None:
    app, db, _ = make_app()
    with app.app_context():
        Register = get_state(app).models.CashRegister
        register = Register(name="Москва", region="msk", shop_id="s", secret="x", queue_id=1, vat=20, tax_system="УСН доход",
                            name_template="{legal} за обучение {customer} - {custom_predmet}")
        assert (register.vat, register.tax_system) == ("20", 1)
        with pytest.raises(ValueError, match=r"\{client\}"):
            register.name_template = "{client} за обучение"
        with pytest.raises(ValueError, match="20%"):
            register.vat = "18"
        with pytest.raises(ValueError, match="ЕНВД"):
            register.tax_system = 3
        with pytest.raises(ValueError, match="20/120"):
            register.next_vat = "118"


def test_an_unknown_option_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match=r"unknown options \['order_adaptor'\]"):
        KomtetKassa(order_adaptor=lambda order: order)
