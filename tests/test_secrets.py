"""Secrets never reach logs, events, payloads, errors or HTML — checked after a full run of every path."""

from __future__ import annotations

import logging

import sqlalchemy as sa
from click.testing import CliRunner

from flask_komtet import outbox
from tests.shop_fixtures import SHOP_ID, add_register, make_order, wait_for
from tests.test_pipeline import _script_info, emulator, shop, state_of  # noqa: F401  (fixtures)

SECRET = "Sup3r-Secret-Key-42"


def test_secrets_never_leak(shop, emulator, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    emulator.shop(SHOP_ID).secret = SECRET
    app, db, kassa = shop("sync", TIMEOUT=(1.0, 0.5))
    with app.app_context():
        good = add_register(db, kassa.models, secret=SECRET)
        add_register(db, kassa.models, region="spb", secret=SECRET + "-wrong")
        good_id = good.id
        kassa.fiscalize(make_order("s-1"))
        kassa.fiscalize(make_order("s-2", region="spb"))
        db.session.commit()
    wait_for(lambda: state_of(app, db, "sale-s-1-1") == "done")
    emulator.set_faults(error_rate=1.0)
    with app.app_context():
        kassa.fiscalize(make_order("s-3"))
        db.session.commit()
        emulator.clear_faults()
        kassa.poll(older_than=0)
        state = app.extensions["komtet_kassa"]
        receipt = db.session.scalars(sa.select(kassa.models.Receipt).where(
            kassa.models.Receipt.order_ref == "s-2")).one()
        errors = [receipt.last_error or ""]
        try:
            outbox.resend(state, receipt)
        except Exception as exc:  # noqa: BLE001 — what matters is its text
            errors.append(f"{exc!r} {exc}")
        db.session.rollback()
    client = app.test_client()
    pages = [client.post(f"/komtet/{good_id}/success", data=b"{}", headers={"X-HMAC-Signature": "0" * 32}).get_data(as_text=True),
             client.get(f"/komtet/{good_id}/success").get_data(as_text=True)]
    cli = CliRunner().invoke(app.cli, ["komtet", "check"], obj=_script_info(app)).output
    with app.app_context():
        Receipt, Event = kassa.models.Receipt, kassa.models.ReceiptEvent
        rows = db.session.execute(sa.select(*Receipt.__table__.c)).all()
        events = db.session.execute(sa.select(*Event.__table__.c)).all()
        registers = [repr(r) + str(r) for r in db.session.scalars(sa.select(kassa.models.CashRegister))]
    haystack = "\n".join([caplog.text, cli, *errors, *pages, *map(str, rows), *map(str, events), *registers])
    assert "авторизации" in haystack  # the wrong secret's failure is there, named
    assert SECRET not in haystack
    assert SECRET + "-wrong" not in haystack
    assert "***" in caplog.text  # the client logged its headers, masked
