"""Marking codes (Честный ЗНАК) as a shop gets them, normalised to what KOMTET takes (pure).

A marked unit's code reaches the shop in many forms; :func:`parse_mark` turns each into a :class:`Mark`
whose ``code`` is the text KOMTET expects and whose ``type`` is KOMTET's mark type
(SDK ``komtet_kassa_sdk.v2.MarkTypes``: ``unknown``, ``ean8``, ``ean13``, ``itf14``, ``gs10``, ``gs1m``,
``short``, ``fur``, ``egais20``, ``egais30``):

* a GS1 DataMatrix (``01`` GTIN, ``21`` serial, group separator ASCII 29, crypto tail ``91``/``92`` or
  ``93``) as scanned, with the separators lost (restored from the tail's fixed lengths) or written out as
  ``\\u001d``, ``\\x1d``, ``<GS>`` or ``␝``, with or without a scanner's FNC1 / ``]d2`` / ``]C1`` prefix;
* base64 of any of these;
* the JSON of KOMTET's scanning app (``{"code": …, "reqId": …, "reqTimestamp": …, "inst": …,
  "version": …}``), whose request id and timestamp are the online check's result (tag 1265).

The form sent is the raw text with real GS characters: KOMTET's Bitrix module 1.0.2 (2026-07-15,
``komtet.kassa/classes/general/KomtetKassa.php``, ``getMarkingProps``) base64-decodes a stored code,
reads the scanning app's JSON, and passes the plain code to ``new MarkCode(MarkCode::GS1M, $code)``;
KOMTET's api example sends ``{"gs1m": "0104600000000000215abcde\\u001d93ABCD"}`` (a GS escaped by JSON);
the PHP SDK's maintainer said the same for v1 (komtet-kassa-php-sdk issue #58). The register agent also
accepts base64, but no KOMTET module sends it, so neither do we.

Auto-detection accepts only codes a marked unit carries (``gs1m``, ``short``, ``fur``, ``egais20``,
``egais30``): a product's EAN-13 scanned instead of its DataMatrix is refused, unless the shop names
the type (``Mark(code, type="ean13")``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .errors import InvalidOrder

__all__ = ["GS", "MARKING_TYPES", "MARK_TYPES", "Mark", "describe", "mark_data", "parse_mark", "parse_marks",
           "readable", "scanned_lines"]

GS = "\x1d"
#: KOMTET's mark types (SDK ``MarkTypes``; api §4.3 ``mark_code``).
MARK_TYPES = ("unknown", "ean8", "ean13", "itf14", "gs10", "gs1m", "short", "fur", "egais20", "egais30")
#: Types that only a marked unit carries (the PHP SDK's ``MarkCode`` docstrings: «подлежащий маркировке», КиЗ, ЕГАИС).
MARKING_TYPES = frozenset(("gs1m", "short", "fur", "egais20", "egais30"))

# How scanners and databases write the group separator when they cannot keep ASCII 29.
_GS_SPELLINGS = ("\\u001d", "\\u001D", "\\x1d", "\\x1D", "<GS>", "<gs>", "{GS}", "[GS]", "\u241d")
# Symbology identifiers and FNC1 a scanner may put before the data (ISO/IEC 15424; FNC1 read as 0xE8).
_PREFIXES = ("]d2", "]D2", "]C1", "]Q3", "\xe8", GS)
# GS1 General Specifications, AI 21: up to 20 characters of the «AI encodable set 82».
_SERIAL = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
_GS1_HEAD = re.compile(r"01(\d{14})21")
# FFD 1.2 lengths (tags 1300-1307) and ЕГАИС stamps as scanned (PDF417 of 68, DataMatrix of 150).
_LIMITS = {"unknown": 32, "gs10": 38, "short": 38, "fur": 20, "egais20": 68, "egais30": 150, "gs1m": 255}
_DIGITS = {"ean8": 8, "ean13": 13, "itf14": 14}
_FUR = re.compile(r"[A-Z]{2}-\d{6}-[A-Z]{3}\d{7}")  # КиЗ of fur goods, e.g. RU-430302-AAA1234567
_SHORT = re.compile(r"\d{14}[!-~]{7}[!-~]{4}([!-~]{4})?")  # tobacco pack: GTIN, serial 7, (MRP 4), crypto 4
_ALNUM = re.compile(r"[0-9A-Za-z]+")
_TEXT_LIMIT = 64  # the check's request id / timestamp: a UUID and a number in practice


@dataclass(frozen=True, slots=True)
class Mark:
    """One unit's marking code.

    ``code`` is normalised by :func:`parse_mark` (which also accepts a ``Mark``); ``type`` is detected
    when not given. ``uuid`` and ``time`` are the online check's request id and timestamp (permissive
    mode, tag 1265); ``inst``/``version`` the scanning app's instance and version, sent after them as
    KOMTET's Bitrix module does. ``fraction`` (``"1/4"`` or ``(1, 4)``) is the part of a unit sold
    (tag 1291, ``mark_quantity``).
    """

    code: str
    type: str | None = None
    uuid: str | None = None
    time: str | None = None
    fraction: tuple[int, int] | None = None
    inst: str | None = None
    version: str | None = None

    def __post_init__(self) -> None:
        parsed = _parse(self.code, "code", self.type)
        set_ = object.__setattr__
        set_(self, "code", parsed.code)
        set_(self, "type", parsed.type)
        for name in ("uuid", "time", "inst", "version"):
            set_(self, name, _text(getattr(self, name), name) or getattr(parsed, name))
        set_(self, "fraction", _fraction(self.fraction, "fraction"))

    @property
    def checked(self) -> bool:
        """Whether the online check's result (request id and time) is known."""
        return bool(self.uuid and self.time)

    @property
    def check_value(self) -> str | None:
        """Tag 1265 as KOMTET's Bitrix module writes it: ``UUID=…&Time=…[&Inst=…&Ver=…]``."""
        if not self.checked:
            return None
        value = f"UUID={self.uuid}&Time={self.time}"
        if self.inst and self.version:
            value += f"&Inst={self.inst}&Ver={self.version}"
        return value


@dataclass(frozen=True, slots=True)
class _Parsed:
    code: str
    type: str
    uuid: str | None = None
    time: str | None = None
    inst: str | None = None
    version: str | None = None


def parse_mark(value: Any, field: str = "mark") -> Mark:
    """A :class:`Mark` from a string, a ``Mark`` or a dict of its fields; :class:`InvalidOrder` naming ``field``."""
    try:
        if isinstance(value, Mark):
            return value
        if isinstance(value, str):
            return Mark(value)
        if isinstance(value, Mapping):
            data = dict(value)
            if "code" not in data:
                raise InvalidOrder("нет кода маркировки (code)", field="code")
            return Mark(**{k: data[k] for k in ("code", "type", "uuid", "time", "fraction", "inst", "version")
                           if data.get(k) is not None})
    except InvalidOrder as exc:
        errors = {field if key in ("code", "order") else f"{field}.{key}": text for key, text in exc.errors.items()}
        raise InvalidOrder(errors) from None
    except TypeError as exc:
        raise InvalidOrder(str(exc), field=field) from None
    raise InvalidOrder(f"код маркировки: строка или Mark, получено {type(value).__name__}", field=field)


def parse_marks(values: Any, field: str = "marks") -> tuple[Mark, ...]:
    """Each unit's mark (``None``, a list, a tuple); empty strings are units without a code yet: refused."""
    if values is None:
        return ()
    if isinstance(values, (str, bytes, Mapping)) or not isinstance(values, Iterable):
        raise InvalidOrder("ожидается список кодов маркировки, по одному на единицу товара", field=field)
    marks = tuple(parse_mark(value, f"{field}[{n}]") for n, value in enumerate(values))
    seen: dict[str, int] = {}
    for n, mark in enumerate(marks):
        if mark.code in seen:
            raise InvalidOrder(f"тот же код, что и у единицы {seen[mark.code]}: у каждой единицы свой код",
                               field=f"{field}[{n}]")
        seen[mark.code] = n
    return marks


def _parse(raw: Any, field: str, kind: Any) -> _Parsed:
    if not isinstance(raw, str):
        raise InvalidOrder(f"код маркировки: строка, получено {type(raw).__name__}", field=field)
    text = raw.strip(" \t\r\n")
    if not text:
        raise InvalidOrder("пустой код маркировки", field=field)
    decoded = _base64_text(text)
    if decoded is not None and (decoded.lstrip().startswith("{") or _detect(_clean(decoded)) is not None):
        text = decoded.strip(" \t\r\n")
    extra: dict[str, str | None] = {}
    if text.startswith("{"):  # KOMTET's scanning app
        text, extra = _scanner_json(text, field)
    code = _clean(text)
    if kind is not None:
        if kind not in MARK_TYPES:
            raise InvalidOrder(f"тип кода {kind!r} не из {', '.join(MARK_TYPES)}", field="type")
        problem = _shape(str(kind), code)
        if problem:
            raise InvalidOrder(f"не код типа {kind}: {problem}", field=field)
        return _parsed(code, str(kind), extra)
    detected = _detect(code)
    if detected is None:
        raise InvalidOrder(_why_not(code), field=field)
    return _parsed(code, detected, extra)


def _parsed(code: str, kind: str, extra: dict[str, str | None]) -> _Parsed:
    return _Parsed(code, kind, extra.get("uuid"), extra.get("time"), extra.get("inst"), extra.get("version"))


def _base64_text(text: str) -> str | None:
    """The text behind strict base64 (as the Bitrix module's ``base64_decode($code, true)``), if it is text."""
    if len(text) % 4 or len(text) < 8 or not re.fullmatch(r"[A-Za-z0-9+/]+={0,2}", text):
        return None
    try:
        decoded = base64.b64decode(text, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded if decoded and all(ch.isprintable() or ch in (GS, "\n", "\r", "\t") for ch in decoded) else None


def _scanner_json(text: str, field: str) -> tuple[str, dict[str, str | None]]:
    """KOMTET's scanning app: ``{"code", "reqId", "reqTimestamp", "inst", "version"}`` (Bitrix 1.0.2)."""
    try:
        data = json.loads(text)
    except ValueError:
        raise InvalidOrder("не JSON приложения сканирования: ожидается {\"code\": …}", field=field) from None
    if not isinstance(data, dict) or not isinstance(data.get("code"), str):
        raise InvalidOrder("в JSON приложения сканирования нет строки code", field=field)
    extra = {"uuid": data.get("reqId"), "time": data.get("reqTimestamp"), "inst": data.get("inst"),
             "version": data.get("version")}
    return data["code"], {k: _text(v, f"{field}.{k}") for k, v in extra.items()}


def _clean(text: str) -> str:
    for spelling in _GS_SPELLINGS:
        text = text.replace(spelling, GS)
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if text.startswith(prefix):
                text, changed = text[len(prefix):], True
    text = text.rstrip(GS)
    if _GS1_HEAD.match(text) and GS not in text:
        text = _restore_separators(text)
    return text


def _restore_separators(code: str) -> str:
    """A GS1 DataMatrix whose separators were lost: the crypto tail has fixed lengths at the end.

    ``91`` + 4 (key id) + ``92`` + 44 (signature), or ``93`` + 4 (crypto code) — Честный ЗНАК's codes
    for shoes, clothes, tyres, perfume (91/92) and dairy, water, beer, tobacco blocks (93).
    """
    tail52 = code[-52:]
    if len(code) >= 18 + 1 + 52 and tail52.startswith("91") and tail52[6:8] == "92":
        return f"{code[:-52]}{GS}{tail52[:6]}{GS}{tail52[6:]}"
    if len(code) >= 18 + 1 + 6 and code[-6:-4] == "93" and len(code) - 6 - 18 <= 20:
        return f"{code[:-6]}{GS}{code[-6:]}"
    return code


def _detect(code: str) -> str | None:
    if _GS1_HEAD.match(code):
        return "gs1m" if _gs1m_problem(code) is None else None
    if _FUR.fullmatch(code):
        return "fur"
    if _SHORT.fullmatch(code) and len(code) in (25, 29):
        return "short"
    if _ALNUM.fullmatch(code) and len(code) == 68:
        return "egais20"
    if len(code) == 150 and code.isascii() and code.isprintable():
        return "egais30"
    return None


def _why_not(code: str) -> str:
    if _GS1_HEAD.match(code):
        return f"не код маркировки GS1 DataMatrix: {_gs1m_problem(code)}"
    if code.isascii() and code.isdigit() and len(code) in (8, 13, 14):
        return (f"это штрихкод товара ({len(code)} цифр), а не код маркировки: отсканируйте DataMatrix "
                f"(или укажите тип явно, Mark(code, type=\"ean13\"))")
    shown = code[:40].replace(GS, "<GS>")
    return f"не похоже на код маркировки (GS1 DataMatrix, КиЗ, ЕГАИС, код пачки): «{shown}»"


def _gs1m_problem(code: str) -> str | None:
    serial, separator, tail = code[18:].partition(GS)
    if not 1 <= len(serial) <= 20:
        return f"серийный номер (21) длиной {len(serial)}, а не от 1 до 20 символов (потерян разделитель GS?)"
    if not _SERIAL.issuperset(serial):
        return f"недопустимый символ {next(ch for ch in serial if ch not in _SERIAL)!r} в серийном номере"
    if not separator:
        return "нет крипто-хвоста (91/92 или 93) после серийного номера"
    elements = tail.split(GS)
    if not all(len(e) > 2 and e[:2].isascii() and e[:2].isdigit() and e.isprintable() for e in elements):
        return "после разделителя GS ожидаются элементы GS1 (идентификатор из цифр и значение)"
    if not any(e[:2] in ("91", "92", "93") for e in elements):
        return "нет крипто-хвоста: элемента 91/92 или 93"
    return None


def _shape(kind: str, code: str) -> str | None:
    if len(code) > _LIMITS.get(kind, 255):
        return f"длина {len(code)} больше {_LIMITS.get(kind, 255)}"
    if kind in _DIGITS:
        return None if len(code) == _DIGITS[kind] and code.isascii() and code.isdigit() else f"{_DIGITS[kind]} цифр"
    if kind == "gs1m":
        return None if _GS1_HEAD.match(code) and _gs1m_problem(code) is None else \
            (_gs1m_problem(code) if _GS1_HEAD.match(code) else "начинается с 01 + GTIN (14 цифр) + 21")
    if kind == "fur" and not _FUR.fullmatch(code):
        return "КиЗ вида RU-430302-AAA1234567"
    return None if all(ch.isprintable() or ch == GS for ch in code) else "непечатные символы"


def _text(value: Any, field: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidOrder(f"строка или число, получено {type(value).__name__}", field=field)
    text = str(value).strip()
    if not text or len(text) > _TEXT_LIMIT or not text.isprintable() or "&" in text or "=" in text:
        raise InvalidOrder(f"не более {_TEXT_LIMIT} печатных символов без & и =", field=field)
    return text


def _fraction(value: Any, field: str) -> tuple[int, int] | None:
    if value is None or value == "":
        return None
    try:
        if isinstance(value, str):
            numerator, _, denominator = value.partition("/")
            pair = (int(numerator), int(denominator))
        elif isinstance(value, Fraction):
            pair = (value.numerator, value.denominator)
        else:
            numerator, denominator = value
            if isinstance(numerator, bool) or isinstance(denominator, bool):
                raise TypeError
            pair = (int(numerator), int(denominator))
    except (TypeError, ValueError):
        raise InvalidOrder("доля единицы: \"1/4\" или (1, 4)", field=field) from None
    if not 0 < pair[0] < pair[1]:
        raise InvalidOrder("доля единицы: числитель больше нуля и меньше знаменателя", field=field)
    return pair


def scanned_lines(text: str | None) -> list[str]:
    """A scanner's input, one code per line; not ``str.splitlines``, which also splits at GS (ASCII 29)."""
    return [line.strip(" \t\r") for line in (text or "").split("\n") if line.strip(" \t\r")]


def mark_data(mark: Mark) -> dict[str, Any]:
    """A JSON-ready dict that :func:`parse_mark` reads back."""
    data: dict[str, Any] = {"code": mark.code, "type": mark.type}
    for name in ("uuid", "time", "inst", "version"):
        if getattr(mark, name):
            data[name] = getattr(mark, name)
    if mark.fraction:
        data["fraction"] = f"{mark.fraction[0]}/{mark.fraction[1]}"
    return data


def readable(code: str) -> str:
    """The code for people: GS shown as ``<GS>``."""
    return code.replace(GS, "<GS>")


def describe(kind: str, code: str) -> dict[str, str]:
    """What a person reads off a code: its type, the GTIN and serial of a GS1 DataMatrix, the code itself."""
    info = {"type": kind, "code": readable(code)}
    head = _GS1_HEAD.match(code)
    if kind == "gs1m" and head:
        info["gtin"] = head.group(1)
        info["serial"] = code[18:].partition(GS)[0]
    elif kind == "short" and len(code) >= 21:
        info["gtin"], info["serial"] = code[:14], code[14:21]
    return info
