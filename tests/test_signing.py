"""The signature test vectors of komtet_api.md §9."""

from __future__ import annotations

import pytest

from flask_komtet.errors import SignatureError
from flask_komtet.signing import is_valid_signature, sign, verify_signature

VECTORS = [
    ("secret", "POST", "https://kassa.komtet.ru/api/shop/v1/queues/123/task", '{"a": 1}', "4b2e006cdf461eff72a8182c3ed12b87"),
    ("secret", "GET", "https://kassa.komtet.ru/api/shop/v1/queues/123", "", "a72f7ab8a5561c25ce5497a4db2a2109"),
    ("secret-key", "POST", "https://kassa.komtet.ru/api/shop/v2/queues/3/task", '{"key": 10.0}', "d5aa2f6177ba2f4f94218ed9587454be"),
    ("secret-key", "GET", "https://kassa.komtet.ru/api/shop/v2/queues/1", "", "4f055e21e84b0d014b3e0b235e391c64"),
    ("secret-key", "GET", "https://kassa.komtet.ru/api/shop/v1/queues/1", "", "b72f98703ccaea912cdf06e364d81885"),
    ("key1234", "GET", "https://kassa.komtet.ru/api/shop/v1/queues/125", "", "cc30e8e8b031d6edc15d88268ee80052"),
    ("key1234", "POST", "https://kassa.komtet.ru/api/shop/v1/queues/125/task", '{"foo":"bar"}', "7e740fe94306fcabc244df0c09386709"),
    ("verySecrEt", "POST", "http://example.org/some/url", "body_here", "78dcc39222e66ad97eee2fd30a39c14d"),
    ("secret", "POST", "https://kassa.komtet.ru/api/shop/v1/queues/123/task", '{"name": "Товар"}', "ba5017eaa194d8f4f0d6c65670e3c5a6"),
    ("secret", "POST", "https://kassa.komtet.ru/api/shop/v1/queues/123/task",
     '{"name": "\\u0422\\u043e\\u0432\\u0430\\u0440"}', "81f88919ce0d92f98ee62830965dd075"),
    ("secret", "POST", "https://shop.example/komtet/callback?result=success",
     '{"id": 1, "external_id": "42", "state": "done"}', "cbc5afab8e5c5e37725640825113f886"),
]


@pytest.mark.parametrize("secret, method, url, body, expected", VECTORS)
def test_vectors(secret: str, method: str, url: str, body: str, expected: str) -> None:
    assert sign(secret, method, url, body) == expected
    assert sign(secret, method, url, body.encode("utf-8")) == expected
    assert is_valid_signature(secret, method, url, body, expected)
    assert is_valid_signature(secret, method, url, body, expected.upper())


def test_lowercase_method_is_normalised() -> None:
    assert sign("secret", "get", VECTORS[1][2]) == VECTORS[1][4]


@pytest.mark.parametrize("change", ["secret", "url", "body", "method"])
def test_any_change_breaks_the_signature(change: str) -> None:
    secret, method, url, body, expected = VECTORS[0]
    args = {"secret": secret, "method": method, "url": url, "body": body}
    args[change] = {"secret": "Secret", "url": url + "/", "body": body + " ", "method": "PUT"}[change]
    assert not is_valid_signature(args["secret"], args["method"], args["url"], args["body"], expected)


def test_verify_raises_for_missing_and_wrong() -> None:
    secret, method, url, body, expected = VECTORS[0]
    verify_signature(secret, method, url, body, expected)
    with pytest.raises(SignatureError, match="missing"):
        verify_signature(secret, method, url, body, None)
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(secret, method, url, body, "0" * 32)
    assert not is_valid_signature("", method, url, body, expected)
