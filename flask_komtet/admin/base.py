"""What the extension's admin views share: the access rule, Russian texts, CSRF forms, formatters.

flask-admin's own texts (List, Create, Save, the delete confirmation,
filters, flashes…) come from the Russian catalogue flask-admin ships, through
Flask-Babel: every request to these views runs under ``force_locale("ru")``
(the host's own Babel, if any, keeps its locale elsewhere). The few texts that
catalogue lacks (the page-size menu, three flashes) are given here. Form
errors come from WTForms' ``ru`` catalogue.

Access is closed by default: see :meth:`KassaView.is_accessible`.
"""

from __future__ import annotations

import gettext
import logging
import re
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from flask import abort, current_app, flash, request, session
from flask_admin import AdminIndexView, BaseView
from flask_admin import babel as admin_babel
from flask_admin import translations as admin_translations
from flask_admin.form import SecureForm
from flask_babel import force_locale  # type: ignore[import-untyped]  # Flask-Babel ships no type hints
from markupsafe import Markup
from wtforms.meta import DefaultMeta

from ..enums import ReceiptState
from ..moments import format_local
from ..state import get_state

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = [
    "ActionForm",
    "KassaView",
    "RussianSecureForm",
    "format_moment",
    "format_rub",
    "has_own_access_rule",
    "pretty_json",
    "ru_gettext",
    "state_badge",
    "translate_flashes",
]

log = logging.getLogger("flask_komtet.admin")

LOCALE = "ru"
OPEN_IN_DEBUG = ("Админка онлайн-касс открыта всем: приложение в режиме отладки, а правило доступа не задано "
                 "(KomtetKassa(admin_access=...) или is_accessible у AdminIndexView). Без отладки она закрыта.")


_CATALOGUE = gettext.translation("admin", admin_translations.__path__[0], languages=[LOCALE], fallback=True)


def ru_gettext(string: str, **variables: Any) -> str:
    """A text of flask-admin's in Russian from its shipped catalogue, also outside a request (filter names)."""
    text = _CATALOGUE.gettext(str(string))
    return text % variables if variables else text


# flask-admin flashes these; its Russian catalogue leaves them untranslated (fuzzy), so they are turned
# Russian as they are flashed on the extension's pages. Everything else comes from its catalogue.
_UNTRANSLATED = {
    "Failed to create record.": "Не удалось создать запись: исправьте ошибки в форме.",
    "Failed to save record.": "Не удалось сохранить запись: исправьте ошибки в форме.",
    "Failed to perform action. ": "Действие не выполнено: ",
}


def translate_flashes(endpoints: set[str]) -> Any:
    """A ``message_flashed`` receiver for the few flask-admin flashes its catalogue leaves English."""

    def receiver(sender: Any, message: Any, category: str, **extra: Any) -> None:
        if request.blueprint not in endpoints or not isinstance(message, str):
            return
        for english, russian in _UNTRANSLATED.items():
            if message == english or (english.endswith(" ") and message.startswith(english)):
                flashes = session.get("_flashes") or []
                if flashes:
                    flashes[-1] = (category, russian + message[len(english):])
                    session["_flashes"] = flashes
                return

    return receiver


_PAGE_SIZE = re.compile(r"\d+ items?")


def page_gettext(string: str, **variables: Any) -> str:
    """The templates' ``_gettext``: flask-admin's catalogue; its page-size toggle reads «50 на странице»."""
    return "на странице" if string == "items" else str(admin_babel.gettext(string, **variables))


def page_ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """The templates' ``_ngettext``: flask-admin's catalogue, except its untranslatable «20 items» menu."""
    if _PAGE_SIZE.fullmatch(plural):
        return f"{num} на странице"
    return str(admin_babel.ngettext(singular, plural, num, **variables))


def has_own_access_rule(view: Any) -> bool:
    """Whether ``view`` (the host's index view) overrides flask-admin's always-open ``is_accessible``."""
    rule = getattr(type(view), "is_accessible", None)
    return rule not in (None, BaseView.is_accessible, AdminIndexView.is_accessible) and not isinstance(view, KassaView)


class RussianSecureForm(SecureForm):  # type: ignore[misc]  # flask-admin is untyped
    """flask-admin's CSRF-protected form with WTForms' Russian messages."""

    class Meta:
        locales = ("ru_RU", "ru")
        get_translations = DefaultMeta.get_translations


class ActionForm(RussianSecureForm):
    """An empty form: only the CSRF token of a POST button."""


class KassaView:
    """Mixin for the extension's views: bound to one app's state, closed unless the host says who may enter.

    Access, in this order: ``admin_access()`` given to ``init_app``; else the
    host Admin's index view rule, if its class overrides ``is_accessible``
    (e.g. ``return current_user.is_authenticated``); else nobody, except in
    debug mode (``app.debug``), where the views open with a WARNING in the log
    and a banner on every page. Refused requests get the host index view's
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
        if has_own_access_rule(index):
            return bool(index.is_accessible())
        return bool(current_app.debug)

    def open_for_debug_only(self) -> bool:
        """Whether this request got in only because the app is in debug mode."""
        return (self.kassa_state.admin_access is None and not has_own_access_rule(self.admin.index_view)
                and bool(current_app.debug))

    def inaccessible_callback(self, name: Any, **kwargs: Any) -> Any:
        index = self.admin.index_view
        if index is not self:
            response = index.inaccessible_callback(name, **kwargs)
            if response is not None:
                return response
        abort(403)

    def _run_view(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        with force_locale(LOCALE):
            return super()._run_view(fn, *args, **kwargs)  # type: ignore[misc]

    def render(self, template: str, **kwargs: Any) -> str:
        if self.open_for_debug_only():
            log.warning("%s (%s)", OPEN_IN_DEBUG, request.path)
            flash(OPEN_IN_DEBUG, "error")
        self._template_args.update(_gettext=page_gettext, _ngettext=page_ngettext)  # type: ignore[attr-defined]
        return str(super().render(template, **kwargs))  # type: ignore[misc]

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
    """A stored (naive UTC) time in ``KOMTET_KASSA_TIMEZONE``, zone named: ``31.12.2025 14:03:07 MSK``."""
    return format_local(value, get_state().config.timezone, seconds=seconds)


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
