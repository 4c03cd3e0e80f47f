"""The KOMTET client against a real HTTP server on loopback: signing, bodies, error mapping."""

from __future__ import annotations

import json
import logging
from decimal import Decimal

import pytest
import requests

from flask_komtet.client import KomtetClient, ascii_json, dumps, mask_headers
from flask_komtet.errors import (
    AlreadySubmitted,
    AuthenticationError,
    NotFound,
    RequestRejected,
    ServerError,
    TransportError,
)
from flask_komtet.posting import Poster
from flask_komtet.signing import sign
from tests.scripted_server import Reply, ScriptedServer


@pytest.fixture
def server():
    with ScriptedServer() as srv:
        yield srv


def client_for(server: ScriptedServer, **kwargs) -> KomtetClient:
    return KomtetClient("shop-7", "s3cret", api_url=server.url, **kwargs)


def test_create_task_signs_the_exact_body_it_sends(server: ScriptedServer) -> None:
    server.replies.append(Reply(200, {"id": 5, "external_id": "x", "print_queue_id": 3, "state": "new"}))
    payload = {"external_id": "x", "positions": [{"name": "Чай", "price": Decimal("350.00"), "quantity": Decimal("1.5")}]}
    task = client_for(server).create_task(3, payload)
    assert task["id"] == 5
    seen = server.seen[0]
    assert seen.method == "POST" and seen.path == "/api/shop/v2/queues/3/task"
    # ASCII-escaped, as both official SDKs send (json.dumps' default), with the Decimals written exactly
    assert seen.body == b'{"external_id":"x","positions":[{"name":"\\u0427\\u0430\\u0439","price":350.00,"quantity":1.5}]}'
    assert seen.body.isascii() and json.loads(seen.body)["positions"][0]["name"] == "Чай"
    assert seen.headers["Authorization"] == "shop-7"
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["X-HMAC-Signature"] == sign("s3cret", "POST", server.url + seen.path, seen.body)


def test_get_requests_sign_an_empty_body(server: ScriptedServer) -> None:
    server.replies += [Reply(200, {"id": 1, "name": "Очередь 1", "state": "passive"}),
                       Reply(200, {"id": 1, "name": "Очередь 1", "state": "active"})]
    client = client_for(server)
    assert client.queue_state(1) == "passive"
    assert client.is_queue_active(1) is True
    info = server.seen[0]
    assert info.method == "GET" and info.body == b"" and "Content-Type" not in info.headers
    assert info.headers["X-HMAC-Signature"] == sign("s3cret", "GET", server.url + "/api/shop/v2/queues/1")


def test_task_info(server: ScriptedServer) -> None:
    server.replies.append(Reply(200, {"id": 9, "state": "done", "fiscal_data": {"fn": "1"}}))
    assert client_for(server).task_info(9)["fiscal_data"] == {"fn": "1"}
    assert server.seen[0].path == "/api/shop/v2/tasks/9"


@pytest.mark.parametrize(
    "reply, error, retryable",
    [
        (Reply(500, {"title": "Внутренняя ошибка", "code": "SRV00", "description": "Повторите"}), ServerError, True),
        (Reply(502, b"<html>bad gateway</html>"), ServerError, True),
        (Reply(503, b""), ServerError, True),
        (Reply(401, {"title": "Ошибка авторизации", "code": "AUT00", "description": "Проверьте"}), AuthenticationError, False),
        (Reply(403, {"title": "Ошибка авторизации", "code": "AUT00", "description": "Проверьте"}), AuthenticationError, False),
        (Reply(404, {"title": "Не найдено", "code": "NF00", "description": "Очередь не найдена"}), NotFound, False),
        (Reply(422, {"title": "Ошибка валидации", "code": "VLD01",
                     "description": "positions->0->excise: None is not of type number"}), RequestRejected, False),
        (Reply(422, {"title": "Ошибка валидации", "code": "VLD09",
                     "description": "external_id: Чек с внешним идентификатором 42 уже существует"}), AlreadySubmitted, False),
        (Reply(400, {"title": "Bad request"}), RequestRejected, False),
        (Reply(429, {"title": "Too many"}), ServerError, True),
        (Reply(200, b"not json"), ServerError, True),
    ],
)
def test_error_mapping(server: ScriptedServer, reply: Reply, error: type, retryable: bool) -> None:
    server.replies.append(reply)
    with pytest.raises(error) as caught:
        client_for(server).create_task(1, {"external_id": "42"})
    assert caught.value.retryable is retryable
    assert caught.value.status == reply.status
    if isinstance(reply.body, dict):
        assert caught.value.code == reply.body.get("code")
        assert caught.value.title == reply.body.get("title")
        if reply.body.get("description"):
            assert reply.body["description"] in str(caught.value)


def test_already_submitted_is_a_rejection_but_its_own_class(server: ScriptedServer) -> None:
    server.replies.append(Reply(422, {"title": "x", "description": "external_id: Чек с внешним идентификатором 1 уже существует"}))
    with pytest.raises(RequestRejected) as caught:
        client_for(server).create_task(1, {"external_id": "1"})
    assert isinstance(caught.value, AlreadySubmitted)


def test_read_timeout_is_a_retryable_transport_error(server: ScriptedServer) -> None:
    server.replies.append(Reply(200, {"id": 1}, delay=1.0))
    with pytest.raises(TransportError) as caught:
        client_for(server, timeout=(1, 0.2)).create_task(1, {"external_id": "1"})
    assert caught.value.retryable and caught.value.status is None


def test_dropped_connection_is_a_retryable_transport_error(server: ScriptedServer) -> None:
    server.replies.append(Reply(drop=True))
    with pytest.raises(TransportError):
        client_for(server).create_task(1, {"external_id": "1"})


def test_connection_refused_is_a_transport_error() -> None:
    client = KomtetClient("shop", "secret", api_url="http://127.0.0.1:9", timeout=(0.5, 0.5))
    with pytest.raises(TransportError):
        client.queue_state(1)


def test_pooled_session_is_reused(server: ScriptedServer) -> None:
    session = requests.Session()
    client = client_for(server, session=session)
    for _ in range(3):
        server.replies.append(Reply(200, {"state": "active"}))
        assert client.is_queue_active(1)
    assert client.session is session
    ports = {s.headers.get("Connection") for s in server.seen}
    assert ports == {"keep-alive"}


def test_secrets_are_masked_in_logs(server: ScriptedServer, caplog: pytest.LogCaptureFixture) -> None:
    server.replies.append(Reply(200, {"id": 1}))
    with caplog.at_level(logging.DEBUG, logger="flask_komtet"):
        client_for(server).create_task(1, {"external_id": "1"})
    text = caplog.text
    assert "***" in text
    assert "s3cret" not in text and "shop-7" not in text
    signature = server.seen[0].headers["X-HMAC-Signature"]
    assert signature not in text


def test_mask_headers() -> None:
    masked = mask_headers({"Authorization": "shop", "X-HMAC-Signature": "abc", "Accept": "application/json"})
    assert masked == {"Authorization": "***", "X-HMAC-Signature": "***", "Accept": "application/json"}


def test_client_refuses_empty_credentials() -> None:
    with pytest.raises(ValueError, match="shop id and a secret"):
        KomtetClient("", "secret")
    with pytest.raises(ValueError):
        KomtetClient("shop", "")


def test_dumps_writes_decimals_exactly_and_omits_nothing() -> None:
    body = dumps({"total": Decimal("13063.99"), "q": Decimal("0.001"), "big": Decimal("123456789012.34"),
                  "name": "Товар", "flag": True})
    assert body == b'{"total":13063.99,"q":0.001,"big":123456789012.34,"name":"\\u0422\\u043e\\u0432\\u0430\\u0440","flag":true}'

    assert json.loads(body, parse_float=Decimal)["big"] == Decimal("123456789012.34")


def test_dumps_refuses_a_string_that_imitates_a_number_marker() -> None:
    with pytest.raises(ValueError):
        dumps({"name": "\x1edec:5", "n": Decimal("1")})


def test_dumps_escapes_like_json_dumps_ensure_ascii_astral_characters_as_surrogate_pairs() -> None:
    data = {"name": "Чай «Эрл Грей» 🍵 \x7f", "n": 1}
    expected = json.dumps(data, separators=(",", ":")).encode("ascii")  # ensure_ascii=True, the SDKs' choice
    assert dumps(data) == expected
    assert b"\\ud83c\\udf75" in expected
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert ascii_json(raw) == expected and ascii_json(expected) is expected


def test_a_stored_utf8_body_goes_out_ascii_escaped_and_signed_as_sent(server: ScriptedServer) -> None:
    server.replies.append(Reply(200, {"id": 6, "external_id": "y", "state": "new"}))
    stored = '{"external_id":"y","positions":[{"name":"Кофе"}]}'.encode()
    client_for(server).create_task(3, stored)
    seen = server.seen[0]
    assert seen.body == b'{"external_id":"y","positions":[{"name":"\\u041a\\u043e\\u0444\\u0435"}]}'
    assert seen.headers["X-HMAC-Signature"] == sign("s3cret", "POST", server.url + seen.path, seen.body)


def _bodies(*ids: str) -> list[bytes]:
    return [dumps({"external_id": external_id, "intent": "sell", "client": {"email": "a@b.ru"}}) for external_id in ids]


def test_multi_tasks_are_matched_by_external_id_whatever_the_keys(server: ScriptedServer) -> None:
    # keys that are not "0".."n-1" and tasks in another order: the SDK reads result.values()
    server.replies.append(Reply(200, {"b": {"id": 12, "external_id": "s-2", "state": "new"},
                                      "a": {"id": 11, "external_id": "s-1", "state": "new"},
                                      "c": {"id": 13, "external_id": "s-3", "state": "new"}}))
    tasks = client_for(server).create_tasks(3, _bodies("s-1", "s-2", "s-3"))
    assert [task["id"] for task in tasks] == [11, 12, 13]
    seen = server.seen[0]
    assert seen.path == "/api/shop/v2/queues/3/multi-tasks"
    assert [item["external_id"] for item in json.loads(seen.body)] == ["s-1", "s-2", "s-3"]
    assert seen.headers["X-HMAC-Signature"] == sign("s3cret", "POST", server.url + seen.path, seen.body)


def test_multi_tasks_without_external_ids_are_matched_by_order(server: ScriptedServer) -> None:
    server.replies.append(Reply(200, {"1": {"id": 22, "state": "new"}, "0": {"id": 21, "state": "new"}}))
    assert [t["id"] for t in client_for(server).create_tasks(3, _bodies("s-1", "s-2"))] == [21, 22]
    server.replies.append(Reply(200, {"x": {"id": 31}, "y": {"id": 32}}))
    assert [t["id"] for t in client_for(server).create_tasks(3, _bodies("s-1", "s-2"))] == [31, 32]


def test_a_receipt_the_multi_tasks_answer_has_no_task_for_gets_none_not_another_task(server: ScriptedServer) -> None:
    server.replies.append(Reply(200, {"0": {"id": 41, "external_id": "s-2", "state": "new"}}))
    assert client_for(server).create_tasks(3, _bodies("s-1", "s-2")) == [None, {"id": 41, "external_id": "s-2",
                                                                                "state": "new"}]
    server.replies.append(Reply(200, {}))
    with pytest.raises(ServerError) as caught:
        client_for(server).create_tasks(3, _bodies("s-1", "s-2"))
    assert caught.value.retryable


def test_poster_retries_a_receipt_the_answer_left_out_and_keeps_the_others_task(server: ScriptedServer) -> None:
    server.replies.append(Reply(200, {"k": {"id": 51, "external_id": "s-1", "state": "new"}}))
    client = client_for(server)
    poster = Poster()
    try:
        results = poster.post_all([(client, 3, body) for body in _bodies("s-1", "s-2")])
    finally:
        poster.stop()
    (task, error), (missing, retry) = results
    assert task == {"id": 51, "external_id": "s-1", "state": "new"} and error is None
    assert missing is None and isinstance(retry, ServerError) and retry.retryable
