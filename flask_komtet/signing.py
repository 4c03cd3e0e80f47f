"""KOMTET's request and callback signature, as pure functions.

``X-HMAC-Signature = hex(HMAC-MD5(secret, METHOD + FULL_URL + BODY))``: no
separators, the URL with scheme, host and query string, the body as the exact
bytes sent.
"""

from __future__ import annotations

import hashlib
import hmac

from .errors import SignatureError

__all__ = ["is_valid_signature", "sign", "verify_signature"]


def _bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def sign(secret: str | bytes, method: str, url: str, body: str | bytes = b"") -> str:
    """Return the lowercase hex signature of one request."""
    message = method.upper().encode("ascii") + _bytes(url) + _bytes(body or b"")
    return hmac.new(_bytes(secret), message, hashlib.md5).hexdigest()


def is_valid_signature(
    secret: str | bytes, method: str, url: str, body: str | bytes, signature: str | None
) -> bool:
    """Constant-time check of ``signature`` against the expected one."""
    if not signature or not secret:
        return False
    expected = sign(secret, method, url, body).encode("ascii")
    return hmac.compare_digest(expected, signature.strip().lower().encode("utf-8", "replace"))


def verify_signature(
    secret: str | bytes, method: str, url: str, body: str | bytes, signature: str | None
) -> None:
    """Raise :class:`SignatureError` unless ``signature`` is right."""
    if not signature:
        raise SignatureError("X-HMAC-Signature header is missing")
    if not is_valid_signature(secret, method, url, body, signature):
        raise SignatureError("X-HMAC-Signature does not match")
