"""Position names: the register's template (AlfaCRM's «Детали») filled from the order, and text cleaning."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from ..orders import Order, OrderLine
from .settings import NAME_LIMIT, PLACEHOLDER_NAME

__all__ = ["TEMPLATE_TAGS", "check_name_template", "clean_text", "render_name"]

TEMPLATE_TAGS: Mapping[str, str] = {
    "name": "наименование товара или услуги в заказе",
    "customer": "ФИО клиента",
    "legal": "заказчик (плательщик)",
    "note": "комментарий к платежу",
    "sku": "артикул товара",
    "order": "номер заказа",
    "custom_<поле>": "значение дополнительного поля заказа, например {custom_predmet}",
    "pay.ctt.tariff_name": "название абонемента",
    "pay.ctt.subjects": "предметы абонемента",
    "pay.ctt.b_date": "дата начала абонемента",
    "pay.ctt.e_date": "дата окончания абонемента",
}

_TAG = re.compile(r"\{([^{}]*)\}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_FIXED_TAGS = {tag for tag in TEMPLATE_TAGS if not tag.endswith(">")}


def clean_text(text: str, limit: int) -> str:
    """Text for the receipt: control characters become spaces, runs of whitespace one space, cut to ``limit``.

    ``""`` when nothing visible is left (only spaces, control or format characters such as RTL marks).
    """
    if _CONTROL.search(text):
        text = _CONTROL.sub(" ", text)
    text = " ".join(text.split())[:limit].rstrip()
    return text if any(ch.isalnum() or unicodedata.category(ch)[0] in "PS" for ch in text) else ""


def _tags(template: str) -> list[str]:
    stripped = _TAG.sub("", template)
    if "{" in stripped or "}" in stripped:
        raise ValueError("в шаблоне наименования непарная фигурная скобка")
    return _TAG.findall(template)


def check_name_template(template: str) -> None:
    """Raise ``ValueError`` naming every unknown tag (used when the register is saved)."""
    unknown = [t for t in _tags(template) if t not in _FIXED_TAGS and not re.fullmatch(r"custom_\w+", t)]
    if unknown:
        names = ", ".join("{" + t + "}" for t in unknown)
        raise ValueError(f"Неизвестный тег {names} в шаблоне наименования. Допустимы: "
                         + ", ".join("{" + t + "}" for t in TEMPLATE_TAGS))


def render_name(template: str | None, line: OrderLine, order: Order) -> str:
    """The position name: the template filled from the line and ``order.fields``, cut to 128 characters.

    Control characters become spaces and runs of whitespace one space (see
    :func:`clean_text`); a name with nothing visible becomes «Товар».
    """
    if not template:
        return clean_text(line.name, NAME_LIMIT) or PLACEHOLDER_NAME
    else:
        fields = order.fields
        customer = order.customer.name or ""
        values = {"name": line.name, "customer": fields.get("customer", customer),
                  "legal": fields.get("legal", customer), "note": fields.get("note", ""),
                  "sku": line.sku or "", "order": order.ref}

        def fill(match: re.Match[str]) -> str:
            tag = match.group(1)
            if tag in values:
                return _field_text(values[tag])
            if tag.startswith("custom_"):
                return _field_text(fields.get(tag, fields.get(tag[7:], "")))
            return _field_text(fields.get(tag, ""))

        name = _TAG.sub(fill, template)
    return clean_text(name, NAME_LIMIT) or clean_text(line.name, NAME_LIMIT) or PLACEHOLDER_NAME


def _field_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_field_text(v) for v in value if v not in (None, ""))
    return str(value or "")
