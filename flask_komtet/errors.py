"""The exceptions flask_komtet raises.

``KomtetError`` is the root. API failures carry ``retryable`` so the outbox
knows whether to try again; input problems name the field they are about.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AlreadySubmitted",
    "APIError",
    "AuthenticationError",
    "ConfigurationError",
    "InvalidOrder",
    "MarksHeld",
    "KomtetError",
    "NotFound",
    "RequestRejected",
    "ServerError",
    "SignatureError",
    "TransportError",
]


class KomtetError(Exception):
    """Base class of every flask_komtet error."""

    retryable: bool = False


class ConfigurationError(KomtetError, ValueError):
    """A setting or a cash register is missing or wrong."""


class InvalidOrder(KomtetError, ValueError):
    """The order cannot become a receipt; ``errors`` maps field paths to messages.

    Field paths look like ``lines[2].price`` or ``customer.email``.
    """

    #: A message longer than this is cut (it may quote the shop's input).
    MESSAGE_LIMIT = 400
    #: ``str(error)`` is cut to this, so it fits the receipt's columns (``routing`` is 512 characters).
    TEXT_LIMIT = 440

    def __init__(self, errors: dict[str, str] | str, field: str | None = None) -> None:
        if isinstance(errors, str):
            errors = {field or "order": errors}
        self.errors: dict[str, str] = {_clean(str(name), 128): _clean(str(message), self.MESSAGE_LIMIT)
                                       for name, message in dict(errors).items()}
        text = "; ".join(f"{name}: {message}" for name, message in self.errors.items())
        super().__init__(_cut(text, self.TEXT_LIMIT))

    @property
    def field(self) -> str:
        """The first field named (handy when there is one)."""
        return next(iter(self.errors))


class MarksHeld(InvalidOrder):
    """The receipt waits for marking codes (or their online check's result): kept ``held``, never sent without.

    ``errors`` names each line (``lines[0].marks``) and says which units lack what.
    """

    @property
    def reason(self) -> str:
        return _cut("; ".join(self.errors.values()), self.TEXT_LIMIT)


def _clean(text: str, limit: int) -> str:
    """Printable text: control characters and lone surrogates escaped (``\\x00``), at most ``limit`` characters."""
    if not text.isprintable():
        text = "".join(ch if ch.isprintable() or ch == " " else ascii(ch)[1:-1] for ch in text)
    return _cut(text, limit)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SignatureError(KomtetError):
    """A callback's ``X-HMAC-Signature`` is missing or does not match."""


class APIError(KomtetError):
    """KOMTET answered with an error status (or did not answer at all).

    ``status`` is the HTTP status (``None`` for transport errors); ``title``,
    ``code`` and ``description`` come from KOMTET's JSON error body.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        title: str | None = None,
        code: str | None = None,
        description: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.code = code
        self.description = description
        self.body = body

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, message={str(self)!r})"


class TransportError(APIError):
    """No answer: connection refused or dropped, DNS, timeout. Retryable."""

    retryable = True


class ServerError(APIError):
    """KOMTET answered 5xx. Retryable."""

    retryable = True


class AuthenticationError(APIError):
    """401/403: wrong shop id or secret. Not retryable until someone fixes the register."""


class NotFound(APIError):
    """404: unknown queue or task."""


class RequestRejected(APIError):
    """422 (or another 4xx): KOMTET refused the receipt's data. Not retryable."""


class AlreadySubmitted(RequestRejected):
    """422 "Чек с внешним идентификатором … уже существует": the receipt is already in KOMTET.

    This means an earlier attempt got through; it is not a failure.
    """
