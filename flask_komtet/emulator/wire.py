"""The emulator's own wire format: KOMTET's request signature and its JSON answers.

Written from komtet_api.md §2 and checked against its §9 test vectors, so the
emulator shares no code with the client it judges.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any

__all__ = ["answer_body", "expected_signature", "signature_matches", "split_json_array"]

_WHITESPACE = " \t\n\r"


def expected_signature(secret: str, method: str, url: str, body: bytes = b"") -> str:
    """``hex(HMAC-MD5(secret, METHOD + FULL_URL + BODY))`` (komtet_api.md §2): no separators, raw body bytes."""
    message = method.upper().encode("ascii") + url.encode("utf-8") + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.md5).hexdigest()


def signature_matches(secret: str, method: str, url: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the request's signature (constant-time; case-insensitive hex)."""
    if not header or not secret:
        return False
    expected = expected_signature(secret, method, url, body).encode("ascii")
    return hmac.compare_digest(expected, header.strip().lower().encode("utf-8", "replace"))


def answer_body(document: Any) -> bytes:
    """A JSON answer or callback body as KOMTET writes it: UTF-8, Cyrillic unescaped."""
    return json.dumps(document, ensure_ascii=False).encode("utf-8")


def _skip(text: str, index: int) -> int:
    while index < len(text) and text[index] in _WHITESPACE:
        index += 1
    return index


def split_json_array(body: bytes) -> list[tuple[Any, bytes]]:
    """Each item of a JSON array with its exact bytes (a ``multi-tasks`` body); ``ValueError`` if not an array.

    Numbers with a fraction become ``Decimal``, as for single tasks.
    """
    text = body.decode("utf-8")
    decoder = json.JSONDecoder(parse_float=Decimal)
    index = _skip(text, 0)
    if not text.startswith("[", index):
        raise ValueError("not a JSON array")
    index = _skip(text, index + 1)
    items: list[tuple[Any, bytes]] = []
    if text.startswith("]", index):
        index += 1
    else:
        while True:
            item, end = decoder.raw_decode(text, index)
            items.append((item, text[index:end].encode("utf-8")))
            index = _skip(text, end)
            if text.startswith(",", index):
                index = _skip(text, index + 1)
            elif text.startswith("]", index):
                index += 1
                break
            else:
                raise ValueError("expected ',' or ']' in the array")
    if _skip(text, index) != len(text):
        raise ValueError("extra data after the array")
    return items
