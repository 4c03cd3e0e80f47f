"""The success and failure URLs KOMTET calls back, one pair per cash register.

``POST {URL_PREFIX}/<register id>/success`` and ``.../failure``. The view
checks the method (405), the signature header (401) and the HMAC-MD5 over
``"POST" + URL + raw body`` with the register's secret (403) before it reads
anything; then it needs ``external_id`` and ``state`` (400), finds the receipt
(404), refuses a receipt of another register (403) and hands the result to the
outbox. Duplicates and replays answer 200 and change nothing. A body over
``MAX_BODY`` gets 413 unread; a database outage gets 503, and KOMTET's retries
or polling bring the result later.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app, request

from . import statements
from .outbox import apply_result
from .signing import is_valid_signature
from .state import KassaState, get_state

__all__ = ["blueprint", "register_webhooks"]

log = logging.getLogger("flask_komtet.webhooks")

blueprint = Blueprint("komtet_kassa", __name__)
OUTCOMES = ("success", "failure")
MAX_BODY = 256 * 1024


def register_webhooks(app: Flask, state: KassaState) -> None:
    """Mount the blueprint under ``URL_PREFIX`` and keep it out of Flask-WTF's CSRF check."""
    app.register_blueprint(blueprint, url_prefix=state.config.url_prefix or None)
    _exempt_from_csrf(app)
    app.before_request(lambda: _exempt_from_csrf(current_app))


def _exempt_from_csrf(app: Flask) -> None:
    csrf = app.extensions.get("csrf")
    if csrf is not None and blueprint not in getattr(csrf, "_exempt_blueprints", ()):
        csrf.exempt(blueprint)


def _answer(status: int, message: str, **headers: str) -> Response:
    return Response(message, status=status, mimetype="text/plain", headers=headers)


@blueprint.route("/<int:register_id>/<any(success, failure):outcome>",
                 methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def callback(register_id: int, outcome: str) -> Response:
    try:
        return _handle(register_id, outcome)
    except sa.exc.DBAPIError:  # the database is away for a moment: KOMTET (or polling) will try again
        log.exception("KOMTET callback for register %s: the database is unavailable", register_id)
        get_state().session.rollback()
        return _answer(503, "Database unavailable, retry later", **{"Retry-After": "5"})


def _handle(register_id: int, outcome: str) -> Response:
    if request.method != "POST":
        return _answer(405, "Method Not Allowed", Allow="POST")
    signature = request.headers.get("X-HMAC-Signature")
    if not signature:
        return _answer(401, "X-HMAC-Signature required")
    state = get_state()
    registers, receipts = state.models.CashRegister.__table__, state.models.Receipt.__table__
    connection = state.session.connection()
    secret = connection.execute(statements.register_secret(registers), {"register_id": register_id}).scalar()
    if secret is None:
        log.warning("KOMTET callback for unknown register %s", register_id)
        return _answer(404, "Unknown cash register")
    body = _body()
    if body is None:
        return _answer(413, f"Body over {MAX_BODY} bytes")
    if not any(is_valid_signature(secret, "POST", url, body, signature) for url in _urls(state, register_id, outcome)):
        log.warning("KOMTET callback with a bad signature for register %s", register_id)
        return _answer(403, "Bad signature")
    info = _parse(body)
    if not isinstance(info, dict) or not info.get("external_id") or not info.get("state"):
        return _answer(400, "external_id and state are required")
    receipt = connection.execute(statements.receipt_for_result(receipts),  # one indexed lookup
                                 {"external_id": str(info["external_id"])}).first()
    if receipt is None:
        log.warning("KOMTET callback for unknown external_id %r (register %s)", info["external_id"], register_id)
        return _answer(404, "Unknown external_id")
    if receipt.register_id != register_id:
        log.warning("KOMTET callback for %s arrived at register %s", receipt.external_id, register_id)
        return _answer(403, "The receipt belongs to another cash register")
    log.debug("KOMTET callback for %s (register %s): %s", receipt.external_id, register_id, info.get("state"))
    apply_result(state, receipt, info, source="callback")
    return _answer(200, "OK")


def _urls(state: KassaState, register_id: int, outcome: str) -> Iterator[str]:
    """The URLs KOMTET may have signed: the configured public one, then the one we were called at."""
    if state.config.public_url:
        yield f"{state.config.public_url}{state.config.url_prefix}/{register_id}/{outcome}"
    yield request.url


def _body() -> bytes | None:
    """The raw body, or ``None`` past ``MAX_BODY`` (read no further: KOMTET's callbacks are a few KB)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        return None
    body = request.stream.read(MAX_BODY + 1)
    return None if len(body) > MAX_BODY else body


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        pass
    try:
        return dict(parse_qsl(body.decode("utf-8"), strict_parsing=True))
    except (UnicodeDecodeError, ValueError):
        return None
