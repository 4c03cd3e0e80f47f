"""The ``komtet_emulator`` fixture: callbacks reach the app under test, never ``KOMTET_KASSA_PUBLIC_URL``."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from flask_komtet import Customer, Order, OrderLine, Payment
from flask_komtet.state import get_state
from flask_komtet.testing import TestKassa
from tests.live_server import LiveServer

# komtet_emulator comes from the plugin the installed package registers (entry point pytest11)



class _Recorder:
    """Stands for a developer's running server at the shop's PUBLIC_URL: records whatever reaches it."""

    def __init__(self) -> None:
        self.hits: list[str] = []

    def __call__(self, environ, start_response):
        self.hits.append(environ["PATH_INFO"])
        start_response("403 FORBIDDEN", [("Content-Type", "text/plain")])
        return [b"not this server"]


def _order(ref: str) -> Order:
    return Order(ref=ref, region="msk", customer=Customer(email="buyer@example.com"),
                 lines=[OrderLine("Чай", Decimal("650.00"), 2, vat="22")], payments=[Payment("card", Decimal("1300"))])


@pytest.mark.parametrize("dispatch", ["sync", "thread"])
def test_callbacks_reach_the_app_under_test_and_receipts_end_done(make_app, komtet_emulator: TestKassa,
                                                                   dispatch: str) -> None:
    recorder = _Recorder()
    with LiveServer(recorder) as developers_server:
        app, db, kassa = make_app(PUBLIC_URL=developers_server.url, DISPATCH=dispatch)
        komtet_emulator.add_register(app, region="msk", tax_system=0, vat="22", payment_method="full_payment")
        with app.app_context():
            kassa.fiscalize(_order("42"))
            kassa.fiscalize(_order("43"))
            db.session.commit()
        receipts = komtet_emulator.complete_all(app)
        komtet_emulator.wait_idle()
    assert recorder.hits == []  # nothing went to the PUBLIC_URL
    assert [(r.external_id, r.state) for r in receipts] == [("sale-42-1", "done"), ("sale-43-1", "done")]
    assert all(r.fn and r.fd and r.fp for r in receipts)
    with app.app_context():
        Event = get_state(app).models.ReceiptEvent
        sources = db.session.scalars(sa.select(Event.action).where(Event.to_state == "done")).all()
    assert sources == ["callback", "callback"]  # delivered into the app, through its webhook


def test_complete_all_names_the_receipts_that_are_not_done(make_app, komtet_emulator: TestKassa) -> None:
    app, db, kassa = make_app()
    komtet_emulator.add_register(app, region="msk", tax_system=0, vat="22", payment_method="full_payment")
    komtet_emulator.fail_external_ids("sale-13", "Касса не в сети")
    with app.app_context():
        kassa.fiscalize(_order("13"))
        db.session.commit()
    with pytest.raises(AssertionError, match="sale-13-1: error .*Касса не в сети"):
        komtet_emulator.complete_all(app)
    [receipt] = komtet_emulator.complete_all(app, check=False)
    assert receipt.state == "error"


def test_with_delay_none_receipts_wait_as_sent_until_complete_all(make_app) -> None:
    with TestKassa(delay=None) as emulator:
        app, db, kassa = make_app()
        emulator.add_register(app, region="msk", tax_system=0, vat="22", payment_method="full_payment")
        with app.app_context():
            kassa.fiscalize(_order("7"))
            db.session.commit()
            assert db.session.scalar(sa.select(get_state(app).models.Receipt.state)) == "sent"
        [receipt] = emulator.complete_all(app)
    assert (receipt.external_id, receipt.state) == ("sale-7-1", "done")
