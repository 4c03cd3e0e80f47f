"""The emulator's own signature and JSON writing: komtet_api.md §9 vectors, exact multi-task bodies."""

from __future__ import annotations

from decimal import Decimal

import pytest

from flask_komtet.emulator.wire import answer_body, expected_signature, signature_matches, split_json_array

# komtet_api.md §9, every row (SDK 8.1.0, SDK tests, the Ruby gem spec, the encoding pair).
VECTORS = [
    ("secret", "POST", "https://kassa.komtet.ru/api/shop/v1/queues/123/task", '{"a": 1}',
     "4b2e006cdf461eff72a8182c3ed12b87"),
    ("secret", "GET", "https://kassa.komtet.ru/api/shop/v1/queues/123", "", "a72f7ab8a5561c25ce5497a4db2a2109"),
    ("secret-key", "POST", "https://kassa.komtet.ru/api/shop/v2/queues/3/task", '{"key": 10.0}',
     "d5aa2f6177ba2f4f94218ed9587454be"),
    ("secret-key", "GET", "https://kassa.komtet.ru/api/shop/v2/queues/1", "", "4f055e21e84b0d014b3e0b235e391c64"),
    ("secret-key", "GET", "https://kassa.komtet.ru/api/shop/v1/queues/1", "", "b72f98703ccaea912cdf06e364d81885"),
    ("key1234", "GET", "https://kassa.komtet.ru/api/shop/v1/queues/125", "", "cc30e8e8b031d6edc15d88268ee80052"),
    ("key1234", "POST", "https://kassa.komtet.ru/api/shop/v1/queues/125/task", '{"foo":"bar"}',
     "7e740fe94306fcabc244df0c09386709"),
    ("verySecrEt", "POST", "http://example.org/some/url", "body_here", "78dcc39222e66ad97eee2fd30a39c14d"),
    ("secret", "POST", "https://kassa.komtet.ru/api/shop/v1/queues/123/task", '{"name": "Товар"}',
     "ba5017eaa194d8f4f0d6c65670e3c5a6"),
    ("secret", "POST", "https://kassa.komtet.ru/api/shop/v1/queues/123/task",
     '{"name": "\\u0422\\u043e\\u0432\\u0430\\u0440"}', "81f88919ce0d92f98ee62830965dd075"),
    ("secret", "POST", "https://shop.example/komtet/callback?result=success",
     '{"id": 1, "external_id": "42", "state": "done"}', "cbc5afab8e5c5e37725640825113f886"),
]


@pytest.mark.parametrize("secret, method, url, body, signature", VECTORS)
def test_signature_vectors(secret: str, method: str, url: str, body: str, signature: str) -> None:
    assert expected_signature(secret, method, url, body.encode()) == signature
    assert signature_matches(secret, method, url, body.encode(), signature.upper())
    assert not signature_matches(secret, method, url, body.encode() + b" ", signature)
    assert not signature_matches(secret, method, url, body.encode(), None)


def test_answers_are_utf8_json() -> None:
    assert answer_body({"title": "Ошибка"}) == '{"title": "Ошибка"}'.encode()


def test_a_multi_task_body_splits_into_exact_items() -> None:
    body = b' [ {"external_id": "a", "sum": 1500.00} ,\n{"b": [1, 2]}] '
    items = split_json_array(body)
    assert [raw for _, raw in items] == [b'{"external_id": "a", "sum": 1500.00}', b'{"b": [1, 2]}']
    assert items[0][0]["sum"] == Decimal("1500.00")
    assert split_json_array(b"[]") == []
    for bad in (b"{}", b"[1 2]", b"[1] x"):
        with pytest.raises(ValueError):
            split_json_array(bad)
