"""The success/failure URLs: signature first, then idempotent, ordered updates through the outbox."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flask_komtet.emulator import KomtetEmulator
from flask_komtet.models import utcnow
from flask_komtet.signing import sign
from tests.live_server import LateApp, LiveServer
from tests.shop_fixtures import (
    QUEUE,
    SECRET,
    SHOP_ID,
    add_register,
    make_order,
    wait_for,
)

FISCAL = {"fn": "9999078900001234", "i": "4521", "fp": "3216549870", "t": "20261122T1530", "s": "1060.00", "n": 1}


@pytest.fixture
def shop(make_app):
    """An app with one register and one sent receipt (``sale-42-1``); no emulator involved."""
    app, db, kassa = make_app(DISPATCH="worker", PUBLIC_URL="https://shop.example")
    with app.app_context():
        register = add_register(db, kassa.models)
        other = add_register(db, kassa.models, region="spb", secret="other-secret")
        receipt = kassa.fiscalize(make_order("42"))
        db.session.commit()
        receipt.state, receipt.task_id, receipt.sent_at = "sent", 7, utcnow()
        db.session.commit()
        app.register_id, app.other_id = register.id, other.id  # type: ignore[attr-defined]
    return app, db, kassa


def url_of(app, outcome: str = "success", register_id: int | None = None, base: str = "https://shop.example") -> str:
    return f"{base}/komtet/{register_id or app.register_id}/{outcome}"


def post(app, body: Any, *, outcome: str = "success", secret: str = SECRET, signed_url: str | None = None,
         register_id: int | None = None, headers: dict[str, str] | None = None, content_type="application/json"):
    raw = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    path = f"/komtet/{register_id or app.register_id}/{outcome}"
    all_headers = {"X-HMAC-Signature": sign(secret, "POST", signed_url or url_of(app, outcome, register_id), raw)}
    all_headers.update(headers or {})
    return app.test_client().post(path, data=raw, headers=all_headers, content_type=content_type)


def receipt_row(app, db, external_id: str = "sale-42-1") -> Any:
    with app.app_context():
        Receipt = app.extensions["komtet_kassa"].models.Receipt
        db.session.expire_all()
        return db.session.scalars(sa.select(Receipt).where(Receipt.external_id == external_id)).one()


def events(app, db) -> list[str]:
    with app.app_context():
        Event = app.extensions["komtet_kassa"].models.ReceiptEvent
        return db.session.scalars(sa.select(Event.action).order_by(Event.id)).all()


DONE = {"id": 7, "external_id": "sale-42-1", "state": "done", "error_description": None, "fiscal_data": FISCAL,
        "receipt_url": "https://check.example/7"}
ERROR = {"id": 7, "external_id": "sale-42-1", "state": "error", "error_description": "Ошибка открытия чека"}


def test_done_stores_fiscal_data(shop, recorded_signals) -> None:
    app, db, _ = shop
    assert post(app, DONE).status_code == 200
    receipt = receipt_row(app, db)
    assert receipt.state == "done"
    assert (receipt.fn, receipt.fd, receipt.fp) == ("9999078900001234", "4521", "3216549870")
    assert receipt.fiscal_time.strftime("%Y%m%dT%H%M") == "20261122T1530"
    assert receipt.receipt_url == "https://check.example/7"
    assert [n for n, _ in recorded_signals] == ["receipt-done"]
    assert events(app, db)[-1] == "callback"


def test_error_stores_the_description(shop, recorded_signals) -> None:
    app, db, _ = shop
    assert post(app, ERROR, outcome="failure").status_code == 200
    receipt = receipt_row(app, db)
    assert receipt.state == "error" and receipt.last_error == "Ошибка открытия чека"
    assert [(n, kw["error"]) for n, kw in recorded_signals] == [("receipt-failed", "Ошибка открытия чека")]


def test_duplicate_and_replayed_callbacks_change_nothing(shop, recorded_signals) -> None:
    app, db, _ = shop
    for _ in range(3):
        assert post(app, DONE).status_code == 200
    assert events(app, db).count("callback") == 1
    assert len(recorded_signals) == 1


def test_late_error_never_overwrites_done(shop) -> None:
    app, db, _ = shop
    assert post(app, DONE).status_code == 200
    assert post(app, ERROR, outcome="failure").status_code == 200
    receipt = receipt_row(app, db)
    assert receipt.state == "done" and receipt.last_error is None


def test_done_after_error_wins(shop) -> None:
    """Out of order: a stale error arrives first; the done that follows carries the fiscal data."""
    app, db, _ = shop
    post(app, ERROR, outcome="failure")
    post(app, DONE)
    assert receipt_row(app, db).state == "done"


@pytest.mark.parametrize("case", ["wrong secret", "tampered body", "wrong url", "other register's secret"])
def test_bad_signatures_are_refused_and_change_nothing(shop, case: str) -> None:
    app, db, _ = shop
    before = events(app, db)
    if case == "wrong secret":
        response = post(app, DONE, secret="not-the-secret")
    elif case == "tampered body":
        raw = json.dumps(DONE).encode()
        signature = sign(SECRET, "POST", url_of(app), raw)
        tampered = raw.replace(b"4521", b"4522")
        response = app.test_client().post(f"/komtet/{app.register_id}/success", data=tampered,
                                          headers={"X-HMAC-Signature": signature}, content_type="application/json")
    elif case == "wrong url":
        response = post(app, DONE, signed_url=url_of(app, "success", base="https://evil.example"))
    else:
        response = post(app, DONE, secret="other-secret")
    assert response.status_code == 403
    assert receipt_row(app, db).state == "sent" and events(app, db) == before


def test_missing_signature_is_401(shop) -> None:
    app, db, _ = shop
    response = app.test_client().post(f"/komtet/{app.register_id}/success", json=DONE)
    assert response.status_code == 401
    assert receipt_row(app, db).state == "sent"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_only_post_is_allowed(shop, method: str) -> None:
    app, _, _ = shop
    response = app.test_client().open(f"/komtet/{app.register_id}/success", method=method)
    assert response.status_code == 405 and response.headers["Allow"] == "POST"


def test_malformed_json_with_a_valid_signature_is_400(shop) -> None:
    app, db, _ = shop
    assert post(app, b"{not json").status_code == 400
    assert post(app, {"external_id": "sale-42-1"}).status_code == 400
    assert post(app, {"state": "done"}).status_code == 400
    assert post(app, [1, 2]).status_code == 400
    assert receipt_row(app, db).state == "sent"


def test_form_encoded_body_is_tolerated(shop) -> None:
    app, db, _ = shop
    body = b"external_id=sale-42-1&state=error&error_description=%D0%9E%D1%88%D0%B8%D0%B1%D0%BA%D0%B0"
    assert post(app, body, outcome="failure", content_type="application/x-www-form-urlencoded").status_code == 200
    receipt = receipt_row(app, db)
    assert receipt.state == "error" and receipt.last_error == "Ошибка"


def test_unknown_external_id_is_404_and_logged(shop, caplog) -> None:
    app, _, _ = shop
    response = post(app, dict(DONE, external_id="sale-999-1"))
    assert response.status_code == 404
    assert "sale-999-1" in caplog.text


def test_unknown_register_is_404(shop) -> None:
    app, _, _ = shop
    assert post(app, DONE, register_id=999).status_code == 404


def test_callback_for_another_registers_receipt_is_refused(shop) -> None:
    app, db, _ = shop
    response = post(app, DONE, secret="other-secret", register_id=app.other_id)
    assert response.status_code == 403
    assert receipt_row(app, db).state == "sent"


def test_behind_a_proxy_with_public_url(shop) -> None:
    """KOMTET signs https://shop.example/...; the app sees http://localhost/...: PUBLIC_URL makes it match."""
    app, db, _ = shop
    assert post(app, DONE).status_code == 200
    assert receipt_row(app, db).state == "done"


def test_behind_a_proxy_with_proxyfix(make_app) -> None:
    from werkzeug.middleware.proxy_fix import ProxyFix

    app, db, kassa = make_app(DISPATCH="worker", PUBLIC_URL=None)
    app.wsgi_app = ProxyFix(app.wsgi_app, x_proto=1, x_host=1)  # type: ignore[method-assign]
    with app.app_context():
        register_id = add_register(db, kassa.models).id
        kassa.fiscalize(make_order("43"))
        db.session.commit()
    body = json.dumps(dict(DONE, external_id="sale-43-1")).encode()
    public = f"https://shop.example/komtet/{register_id}/success"
    headers = {"X-HMAC-Signature": sign(SECRET, "POST", public, body), "X-Forwarded-Proto": "https",
               "X-Forwarded-Host": "shop.example"}
    response = app.test_client().post(f"/komtet/{register_id}/success", data=body, headers=headers,
                                      content_type="application/json")
    assert response.status_code == 200
    # without the forwarded headers the URL the app sees is http://localhost/...: refused
    headers.pop("X-Forwarded-Proto")
    assert app.test_client().post(f"/komtet/{register_id}/success", data=body, headers=headers,
                                  content_type="application/json").status_code == 403


@pytest.mark.parametrize("order", ["csrf first", "kassa first"])
def test_exempt_from_host_csrf(make_app, order: str) -> None:
    from flask_wtf.csrf import CSRFProtect

    app, db, kassa = make_app(init=False, flask_config={"WTF_CSRF_ENABLED": True}, DISPATCH="worker",
                              PUBLIC_URL="https://shop.example")
    csrf = CSRFProtect()
    if order == "csrf first":
        csrf.init_app(app)
    kassa.init_app(app, db=db)
    if order == "kassa first":
        csrf.init_app(app)

    @app.post("/shop-form")
    def shop_form() -> str:
        return "ok"

    with app.app_context():
        db.create_all()
        register = add_register(db, kassa.models)
        kassa.fiscalize(make_order("44"))
        db.session.commit()
        app.register_id = register.id  # type: ignore[attr-defined]
    assert app.test_client().post("/shop-form").status_code == 400  # the host is protected
    assert post(app, dict(DONE, external_id="sale-44-1")).status_code == 200


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.one_of(st.binary(max_size=300), st.builds(lambda d: json.dumps(d).encode(), st.dictionaries(
        st.sampled_from(["external_id", "state", "id", "fiscal_data", "error_description", "x"]),
        st.one_of(st.none(), st.integers(), st.text(max_size=20), st.sampled_from(["done", "error", "sale-42-1"])),
    ))),
    signature=st.one_of(st.none(), st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255), max_size=40),
                        st.from_regex(r"[0-9a-f]{32}", fullmatch=True)),
    extra=st.dictionaries(st.sampled_from(["Content-Type", "X-Forwarded-Proto", "Host", "Authorization"]),
                          st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30)),
    method=st.sampled_from(["POST", "POST", "POST", "GET", "PUT"]),
)
def test_fuzz_never_500_and_never_changes_state_without_a_valid_signature(shop, body, signature, extra, method) -> None:
    app, db, _ = shop
    headers = dict(extra)
    if signature is not None:
        headers["X-HMAC-Signature"] = signature
    response = app.test_client().open(f"/komtet/{app.register_id}/success", method=method, data=body,
                                      headers=headers)
    assert response.status_code in (400, 401, 403, 404, 405)
    assert receipt_row(app, db).state == "sent"


# -- with the emulator's own callbacks, over real HTTP ---------------------------------


@pytest.fixture
def live_shop(make_app) -> Iterator[Any]:
    late = LateApp()
    with KomtetEmulator(delay=0.02, seed=3) as emu, LiveServer(late) as server:
        emu.add_shop(shop_id=SHOP_ID, secret=SECRET, queues=(QUEUE,))
        app, db, kassa = make_app(API_URL=emu.url, PUBLIC_URL=server.url, DISPATCH="sync")
        late.app = app
        with app.app_context():
            add_register(db, kassa.models)
        yield app, db, kassa, emu


def _fiscalize(app, db, kassa, refs: list[str]) -> None:
    with app.app_context():
        for ref in refs:
            kassa.fiscalize(make_order(ref))
        db.session.commit()


def test_emulator_callbacks_done_and_error(live_shop) -> None:
    app, db, kassa, emu = live_shop
    emu.fail_external_ids(r"sale-51-1", description="Отсутствует email(телефон) клиента для режима Интернет")
    _fiscalize(app, db, kassa, ["50", "51"])
    wait_for(lambda: receipt_row(app, db, "sale-50-1").state == "done")
    wait_for(lambda: receipt_row(app, db, "sale-51-1").state == "error")
    assert "Интернет" in receipt_row(app, db, "sale-51-1").last_error
    emu.wait_idle(5)
    assert {c.status for c in emu.callbacks()} == {200}


def test_emulator_duplicated_and_reordered_callbacks(live_shop, recorded_signals) -> None:
    app, db, kassa, emu = live_shop
    emu.set_faults(callback_duplicate_rate=1.0, callback_reorder=True)
    refs = [str(60 + n) for n in range(6)]
    _fiscalize(app, db, kassa, refs)
    for ref in refs:
        wait_for(lambda ref=ref: receipt_row(app, db, f"sale-{ref}-1").state == "done")
    emu.wait_idle(5)
    assert len(emu.callbacks()) >= 12
    assert [n for n, _ in recorded_signals].count("receipt-done") == 6
