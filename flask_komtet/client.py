"""The KOMTET Kassa shop API v2 client: the only code that talks HTTP to KOMTET.

One pooled :class:`requests.Session` (shared, injectable), explicit connect
and read timeouts, the body serialized once and signed as sent, and every
failure mapped to a :mod:`flask_komtet.errors` class::

    client = KomtetClient("shop-id", "secret", api_url="https://kassa.komtet.ru")
    task = client.create_task(queue_id, payload)      # {"id": 1, "state": "new", ...}
    info = client.task_info(task["id"])
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import requests

from .errors import (
    AlreadySubmitted,
    APIError,
    AuthenticationError,
    NotFound,
    RequestRejected,
    ServerError,
    TransportError,
)
from .signing import sign

__all__ = ["DEFAULT_API_URL", "KomtetClient", "ascii_json", "dumps", "mask_headers", "match_tasks"]

DEFAULT_API_URL = "https://kassa.komtet.ru"
API_PATH = "/api/shop/v2"
SECRET_HEADERS = ("authorization", "x-hmac-signature")

log = logging.getLogger("flask_komtet.client")

_DECIMAL_MARK = "\x1edec:"
_DECIMAL_RE = re.compile(r'"\\u001edec:(-?[0-9]+(?:\.[0-9]+)?)"')
_NOT_ASCII = re.compile("[\x7f-\U0010ffff]")


def dumps(payload: Mapping[str, Any] | list[Any]) -> bytes:
    """Serialize a payload to compact ASCII-escaped JSON (``"\\u0427\\u0430\\u0439"``, as both official SDKs
    send it), writing Decimals exactly (``1500.00``, not ``1500.0``)."""
    count = 0

    def default(value: Any) -> Any:
        nonlocal count
        if isinstance(value, Decimal):
            count += 1
            return _DECIMAL_MARK + format(value, "f")
        raise TypeError(f"{type(value).__name__} is not JSON serializable")

    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"), default=default)
    if count:
        text, replaced = _DECIMAL_RE.subn(r"\1", text)
        if replaced != count:  # a string in the payload imitated the marker
            raise ValueError("payload strings must not contain control characters")
    return text.encode("ascii")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code > 0xFFFF:  # a surrogate pair, as json.dumps(ensure_ascii=True) writes it
        code -= 0x10000
        return f"\\u{0xD800 | code >> 10:04x}\\u{0xDC00 | code & 0x3FF:04x}"
    return f"\\u{code:04x}"


def ascii_json(body: bytes) -> bytes:
    """UTF-8 JSON bytes as ASCII-escaped JSON: the same document, byte for byte what :func:`dumps` writes.

    Outside strings JSON is ASCII, so escaping every non-ASCII character changes no value
    (bodies stored by earlier versions as raw UTF-8 go out like new ones).
    """
    if body.isascii():
        return body
    return _NOT_ASCII.sub(_escape, body.decode("utf-8")).encode("ascii")


_LEADING_ID = re.compile(rb'\{"external_id":("(?:[^"\\]|\\.)*"|-?[0-9]+)[,}]')


def _external_id(body: bytes) -> str | None:
    """The body's ``external_id``: read from the front where the builder puts it, else from the whole body."""
    try:
        leading = _LEADING_ID.match(body)
        data = {"external_id": json.loads(leading.group(1))} if leading else json.loads(body)
    except ValueError:
        return None
    value = data.get("external_id") if isinstance(data, dict) else None
    return None if value is None else str(value)


def match_tasks(answer: Mapping[str, Any] | list[Any], bodies: list[bytes]) -> list[dict[str, Any] | None]:
    """The ``multi-tasks`` answer's task for each body sent (``None`` where the answer has none).

    KOMTET answers an object whose values are the tasks (the SDK reads ``result.values()``);
    a task is matched to its receipt by ``external_id`` when it carries one, else by position
    (keys ``"0"``…``"n-1"`` in number order, other keys in the answer's order).
    """
    if isinstance(answer, Mapping):
        keys = list(answer)
        if sorted(keys) == sorted(str(i) for i in range(len(keys))):
            keys.sort(key=int)
        values = [answer[key] for key in keys]
    else:
        values = list(answer)
    tasks = [task if isinstance(task, dict) else None for task in values]
    ids = [_external_id(body) for body in bodies]
    by_id = {str(task["external_id"]): task for task in tasks if task is not None and "external_id" in task}
    matched: list[dict[str, Any] | None] = []
    for index, external_id in enumerate(ids):
        task = by_id.get(external_id) if external_id is not None else None
        if task is None and len(tasks) == len(bodies):
            candidate = tasks[index]
            if candidate is not None and str(candidate.get("external_id", external_id)) == str(external_id):
                task = candidate
        matched.append(task)
    return matched


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``headers`` fit for logs: the shop id and signature masked."""
    return {k: ("***" if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}


class _KomtetAuth(requests.auth.AuthBase):
    """Signs the prepared request: HMAC-MD5 over method + final URL + body bytes."""

    def __init__(self, shop_id: str, secret: str) -> None:
        self.shop_id = shop_id
        self.secret = secret

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        request.headers["Authorization"] = self.shop_id
        request.headers["X-HMAC-Signature"] = sign(self.secret, request.method or "GET", request.url or "", body)
        return request


class KomtetClient:
    """A client for one KOMTET shop (one shop id and secret)."""

    def __init__(
        self,
        shop_id: str,
        secret: str,
        *,
        api_url: str = DEFAULT_API_URL,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = (3.05, 10.0),
    ) -> None:
        if not shop_id or not secret:
            raise ValueError("KomtetClient needs a shop id and a secret (check the cash register's settings)")
        self.shop_id = str(shop_id)
        self.api_url = api_url.rstrip("/")
        self.session = session or requests.Session()
        self.timeout = timeout
        self._auth = _KomtetAuth(self.shop_id, secret)

    def __repr__(self) -> str:
        return f"<KomtetClient shop={self.shop_id!r} api_url={self.api_url!r}>"

    # -- endpoints -----------------------------------------------------------------

    def queue_state(self, queue_id: int | str) -> str:
        """``"active"`` or ``"passive"``."""
        return str(self._request("GET", f"/queues/{queue_id}").get("state", ""))

    def is_queue_active(self, queue_id: int | str) -> bool:
        return self.queue_state(queue_id) == "active"

    def create_task(self, queue_id: int | str, payload: Mapping[str, Any] | bytes) -> dict[str, Any]:
        """Submit one receipt; ``payload`` is a dict or its JSON bytes (sent ASCII-escaped, signed as sent)."""
        body = ascii_json(payload) if isinstance(payload, bytes) else dumps(payload)
        return self._request("POST", f"/queues/{queue_id}/task", body)

    def create_tasks(self, queue_id: int | str, payloads: list[bytes]) -> list[dict[str, Any] | None]:
        """Submit several receipts in one request (``multi-tasks``): each one's task (see :func:`match_tasks`).

        ``None`` for a receipt the answer has no task for; an answer with none at all is a
        (retryable) :class:`ServerError`.
        """
        bodies = [ascii_json(body) for body in payloads]
        result = self._request("POST", f"/queues/{queue_id}/multi-tasks", b"[" + b",".join(bodies) + b"]")
        tasks = match_tasks(result, bodies)
        if all(task is None for task in tasks):
            raise ServerError("multi-tasks answer lists no task for the receipts sent", status=200, body=result)
        return tasks

    def task_info(self, task_id: int | str) -> dict[str, Any]:
        """The task's state, ``fiscal_data`` and ``error_description``."""
        return self._request("GET", f"/tasks/{task_id}")

    # -- transport -----------------------------------------------------------------

    def _request(self, method: str, path: str, body: bytes | None = None) -> dict[str, Any]:
        url = f"{self.api_url}{API_PATH}{path}"
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        try:
            response = self.session.request(
                method, url, data=body, headers=headers, auth=self._auth, timeout=self.timeout
            )
        except requests.RequestException as exc:
            log.warning("KOMTET %s %s failed: %s", method, url, type(exc).__name__)
            raise TransportError(f"{method} {url}: {type(exc).__name__}: {_safe(exc)}") from None
        elapsed = (time.perf_counter() - started) * 1000
        log.debug(
            "KOMTET %s %s -> %s in %.1f ms (headers %s)",
            method, url, response.status_code, elapsed, mask_headers(response.request.headers),
        )
        return self._result(method, url, response)

    @staticmethod
    def _result(method: str, url: str, response: requests.Response) -> dict[str, Any]:
        status = response.status_code
        try:
            data = response.json() if response.content else {}
        except ValueError:
            data = None
        if status == 200 and isinstance(data, dict):
            return data
        if status == 200:
            raise ServerError(f"{method} {url}: 200 with a body that is not a JSON object", status=status,
                              body=response.text[:2000])
        error = data if isinstance(data, dict) else {}
        title, code, description = error.get("title"), error.get("code"), error.get("description")
        message = f"{method} {url}: {status} " + " — ".join(str(x) for x in (title, description) if x)
        kwargs: dict[str, Any] = dict(status=status, title=title, code=code, description=description,
                      body=data if data is not None else response.text[:2000])
        if status >= 500:
            raise ServerError(message, **kwargs)
        if status in (401, 403):
            raise AuthenticationError(message, **kwargs)
        if status == 404:
            raise NotFound(message, **kwargs)
        if status == 422 and _is_duplicate(description, title):
            raise AlreadySubmitted(message, **kwargs)
        if status in (408, 429):
            raise ServerError(message, **kwargs)
        if 400 <= status < 500:
            raise RequestRejected(message, **kwargs)
        raise APIError(message, **kwargs)


def _is_duplicate(*texts: Any) -> bool:
    text = " ".join(str(t) for t in texts if t).lower()
    return "уже существует" in text and ("внешним идентификатором" in text or "external_id" in text)


def _safe(exc: Exception) -> str:
    """An exception's text without anything that could carry a header value."""
    return str(exc).split("\n", 1)[0][:300]
