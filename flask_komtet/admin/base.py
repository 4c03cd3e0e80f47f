"""What the extension's admin views share: the access rule, Russian texts, CSRF forms, formatters.

flask-admin's own texts (List, Create, Save, filters…) are shown in Russian from
flask-admin's bundled ``ru`` catalogue, read with the standard library's
``gettext`` so that the host needs no Flask-Babel; form errors come from
WTForms' ``ru`` catalogue.
"""

from __future__ import annotations

import gettext
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flask import abort, request, session
from flask_admin import translations as _admin_translations
from flask_admin.form import SecureForm
from markupsafe import Markup
from wtforms.meta import DefaultMeta

from ..enums import ReceiptState

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = [
    "ActionForm",
    "KassaView",
    "RussianSecureForm",
    "format_moment",
    "format_rub",
    "pretty_json",
    "ru_gettext",
    "ru_ngettext",
    "state_badge",
    "translate_flashes",
]

_CATALOGUE = gettext.translation("admin", _admin_translations.__path__[0], languages=["ru"], fallback=True)


def ru_gettext(string: str, **variables: Any) -> str:
    """flask-admin's ``_gettext`` in Russian."""
    text = _CATALOGUE.gettext(str(string))
    return text % variables if variables else text


def ru_ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    variables.setdefault("num", num)
    return _CATALOGUE.ngettext(singular, plural, num) % variables


# flask-admin flashes these from Python; they are translated as they are flashed.
_FLASHED = (
    "Record was successfully created.", "Record was successfully saved.", "Record was successfully deleted.",
    "Failed to create record.", "Failed to save record.", "Record does not exist.",
    "Failed to create record. %(error)s", "Failed to update record. %(error)s",
    "Failed to delete record. %(error)s", "Failed to perform action. %(error)s", "Integrity error. %(message)s",
)
# What flask-admin's catalogue leaves untranslated.
_OWN = {
    "Failed to create record.": "Запись не создана: исправьте ошибки в форме.",
    "Failed to save record.": "Запись не сохранена: исправьте ошибки в форме.",
    "Failed to perform action. %(error)s": "Действие не выполнено: %(error)s",
}
_FLASH_PREFIXES = sorted(((m.split("%(")[0], (_OWN.get(m) or ru_gettext(m)).split("%(")[0]) for m in _FLASHED),
                         key=lambda pair: -len(pair[0]))


def _russian(message: str) -> str:
    for english, russian in _FLASH_PREFIXES:
        if message == english or (english.endswith(" ") and message.startswith(english)):
            return russian + message[len(english):]
    return message


def translate_flashes(endpoints: set[str]) -> Any:
    """A ``message_flashed`` receiver that turns flask-admin's English flashes Russian on ``endpoints``."""

    def receiver(sender: Any, message: Any, category: str, **extra: Any) -> None:
        if request.blueprint not in endpoints or not isinstance(message, str):
            return
        flashes = session.get("_flashes") or []
        russian = _russian(message)
        if flashes and russian != message:
            flashes[-1] = (category, russian)
            session["_flashes"] = flashes

    return receiver


class RussianSecureForm(SecureForm):
    """flask-admin's CSRF-protected form with WTForms' Russian messages."""

    class Meta:
        locales = ("ru_RU", "ru")
        get_translations = DefaultMeta.get_translations


class ActionForm(RussianSecureForm):
    """An empty form: only the CSRF token of a POST button."""


class KassaView:
    """Mixin for the extension's views: bound to one app's state, guarded by the host's access rule.

    Access: ``admin_access()`` given to ``init_app`` if any, else the host
    Admin's own index view rule. Refused requests get the host index view's
    ``inaccessible_callback`` (flask-admin's default: 403).
    """

    admin: Any

    def __init__(self, state: KassaState, *args: Any, **kwargs: Any) -> None:
        self.kassa_state = state
        super().__init__(*args, **kwargs)

    def is_accessible(self) -> bool:
        if self.kassa_state.admin_access is not None:
            return bool(self.kassa_state.admin_access())
        index = self.admin.index_view
        return index is self or bool(index.is_accessible())

    def inaccessible_callback(self, name: Any, **kwargs: Any) -> Any:
        index = self.admin.index_view
        if index is not self:
            response = index.inaccessible_callback(name, **kwargs)
            if response is not None:
                return response
        abort(403)

    def render(self, template: str, **kwargs: Any) -> str:
        self._template_args.update(_gettext=ru_gettext, _ngettext=ru_ngettext)  # type: ignore[attr-defined]
        return super().render(template, **kwargs)  # type: ignore[misc]

    def csrf_form(self) -> ActionForm:
        """A CSRF-only form for the view's POST buttons (bound to the posted data on POST)."""
        return ActionForm(request.form if request.method == "POST" else None)


# -- formatters (one of each) -----------------------------------------------------------

NBSP = "\u00a0"


def format_rub(value: Decimal | int | str | None) -> str:
    """``Decimal("1234.5")`` → ``1 234,50 ₽`` (non-breaking spaces)."""
    if value is None:
        return ""
    amount = Decimal(value).quantize(Decimal("0.01"))
    whole, _, cents = f"{abs(amount):,.2f}".partition(".")
    sign = "−" if amount < 0 else ""
    return f"{sign}{whole.replace(',', NBSP)},{cents}{NBSP}₽"


def format_moment(value: datetime | None, *, seconds: bool = True) -> str:
    """A stored (naive UTC) time in the server's local time: ``31.12.2025 14:03:07``."""
    if value is None:
        return ""
    local = value.replace(tzinfo=UTC).astimezone() if value.tzinfo is None else value.astimezone()
    return local.strftime("%d.%m.%Y %H:%M:%S" if seconds else "%d.%m.%Y %H:%M")


_BADGES = {
    ReceiptState.HELD: ("badge-secondary", ""),
    ReceiptState.QUEUED: ("badge-primary", ""),
    ReceiptState.SENDING: ("badge-primary", ""),
    ReceiptState.SENT: ("badge-info", ""),
    ReceiptState.DONE: ("badge-success", ""),
    ReceiptState.ERROR: ("badge-danger", ""),
    ReceiptState.FAILED: ("badge-danger", "background-color:#7a1111"),
}


def state_badge(state: str, title: str | None = None) -> Markup:
    """A receipt state as a coloured badge with its Russian label."""
    try:
        member = ReceiptState.parse(state)
    except ValueError:
        return Markup('<span class="badge badge-light">{}</span>').format(state)
    css, style = _BADGES[member]
    return Markup('<span class="badge {} komtet-state komtet-state-{}" style="{}" title="{}">{}</span>').format(
        css, member.value, style, title or "", member.label)


_ESCAPES = re.compile(r"(\\\\)|\\u(d[89ab][0-9a-f]{2})\\u(d[c-f][0-9a-f]{2})|\\u([0-9a-f]{4})", re.IGNORECASE)


def _readable(match: re.Match[str]) -> str:
    """``\\u0427`` → ``Ч`` (and surrogate pairs → one character); ASCII and control escapes stay as sent."""
    if match.group(1):
        return match.group(1)
    if match.group(2):
        char = chr(0x10000 + ((int(match.group(2), 16) - 0xD800) << 10) + int(match.group(3), 16) - 0xDC00)
    else:
        char = chr(int(match.group(4), 16))
    return char if ord(char) > 0x9F and char.isprintable() else match.group()


def pretty_json(text: str | bytes | None) -> str | None:
    """Indent compact JSON as it is, character for character (numbers stay exactly as sent); non-ASCII text
    sent escaped (``\\u0427\\u0430\\u0439``) is shown as the characters it stands for."""
    if text is None:
        return None
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    out: list[str] = []
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            out.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            out.append(char)
        elif char in "{[":
            depth += 1
            out.append(char + "\n" + "  " * depth)
        elif char in "}]":
            depth -= 1
            out.append("\n" + "  " * depth + char)
        elif char == ",":
            out.append(",\n" + "  " * depth)
        elif char == ":":
            out.append(": ")
        elif not char.isspace():
            out.append(char)
    return _ESCAPES.sub(_readable, re.sub(r"([{\[])\n\s*([}\]])", r"\1\2", "".join(out)))
