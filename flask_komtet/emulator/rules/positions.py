"""One v2 position: the required fields, its amounts, VAT against the tax system, the optional details.

Sources: api §4.3 «v2 position fields», §4.5 «Money, rounding and totals»,
§6 «Limits»; fiscal_2026.md «Rates and tax systems»; SDK ``Position``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .agents import check_agents
from .catalog import MEASURES, OBSOLETE_VAT, PAYMENT_METHODS, PAYMENT_OBJECTS, USN_ONLY_VAT, USN_TAX_SYSTEMS, VAT_RATES
from .fields import CENT, Problems, check_choice, check_digits, check_money, check_text, to_number
from .marks import check_marking

__all__ = ["ReceiptContext", "check_positions"]

# api §4.3: the fields every v2 position carries.
REQUIRED = ("price", "quantity", "total", "vat", "measure", "payment_method", "payment_object")
_REQUIRED_SET = frozenset(REQUIRED)
# Tag 1023 is FVLN; KOMTET's register (ATOL driver) takes at most 6 decimals of quantity.
QUANTITY_STEP = Decimal("0.000001")


@dataclass(frozen=True)
class ReceiptContext:
    """What a position's rules need to know of its receipt."""

    intent: Any
    sno: int | None
    today: date


def _quantity(value: Any, field: str, out: Problems) -> Decimal | None:
    quantity = to_number(value)
    if quantity is None:
        out.append((field, f"{value!r} is not of type number"))
    elif quantity <= 0:
        out.append((field, "должно быть больше нуля"))
    elif quantity != quantity.quantize(QUANTITY_STEP):
        out.append((field, f"{quantity:f}: не больше 6 знаков после запятой"))
    else:
        return quantity
    return None


def _amounts(item: Mapping[str, Any], field: str, out: Problems) -> Decimal | None:
    """price, quantity and total; ``total ≤ price × quantity`` (a discount lowers total). Returns the total."""
    price = check_money(item["price"], f"{field}.price", out) if "price" in item else None
    quantity = _quantity(item["quantity"], f"{field}.quantity", out) if "quantity" in item else None
    total = check_money(item["total"], f"{field}.total", out) if "total" in item else None
    if price is not None and quantity is not None and total is not None:
        ceiling = (price * quantity).quantize(CENT, ROUND_HALF_UP)
        if total > ceiling:
            out.append((f"{field}.total", f"сумма позиции {total} больше цены × количество ({ceiling})"))
    return total


def _vat(value: Any, field: str, context: ReceiptContext, out: Problems) -> None:
    if not check_choice(value, VAT_RATES, field, out, OBSOLETE_VAT):
        return
    if value in USN_ONLY_VAT and context.sno is not None and context.sno not in USN_TAX_SYSTEMS:
        out.append((field, f"НДС {value} применяют только на УСН (company.sno 1 или 2, НК РФ ст. 164 п. 8), "
                           f"а company.sno = {context.sno}"))


def _details(item: Mapping[str, Any], field: str, out: Problems) -> None:
    """Optional line details; lengths are FFD's: 1191 user_data 64, 1231 declaration number 32."""
    if "id" in item and type(item["id"]) not in (str, int):
        out.append((f"{field}.id", "строка или целое число"))
    if "user_data" in item:
        check_text(item["user_data"], f"{field}.user_data", out, 64)
    if "excise" in item:
        check_money(item["excise"], f"{field}.excise", out)
    if "country_code" in item:  # tag 1230: the 3-digit OKSM code, e.g. "056" (api §4.2)
        check_digits(item["country_code"], f"{field}.country_code", out, 3, "цифровой код страны ОКСМ")
    if "declaration_number" in item:
        check_text(item["declaration_number"], f"{field}.declaration_number", out, 32)
    if "wholesale" in item and type(item["wholesale"]) is not bool:
        out.append((f"{field}.wholesale", "должно быть true или false"))


def _position(item: Any, field: str, context: ReceiptContext, out: Problems) -> Decimal | None:
    if not isinstance(item, Mapping):
        out.append((field, "позиция должна быть объектом"))
        return None
    check_text(item.get("name"), f"{field}.name", out, 128)  # tag 1030, api §6
    if not _REQUIRED_SET <= item.keys():
        out.extend((f"{field}.{key}", "обязательное поле") for key in REQUIRED if key not in item)
    total = _amounts(item, field, out)
    if "vat" in item:
        _vat(item["vat"], f"{field}.vat", context, out)
    if "measure" in item:
        check_choice(item["measure"], MEASURES, f"{field}.measure", out)
    if "payment_method" in item:
        check_choice(item["payment_method"], PAYMENT_METHODS, f"{field}.payment_method", out)
    if "payment_object" in item:
        check_choice(item["payment_object"], PAYMENT_OBJECTS, f"{field}.payment_object", out)
    _details(item, field, out)
    check_marking(item, field, context.intent, context.today, out)
    check_agents(item, field, out)
    return total


def check_positions(positions: Any, context: ReceiptContext, out: Problems) -> Decimal | None:
    """Every position; the sum of their totals, or ``None`` when one of them is unusable."""
    if type(positions) is not list or not positions:
        out.append(("positions", "нужна хотя бы одна позиция"))
        return None
    total: Decimal | None = Decimal(0)
    for index, item in enumerate(positions):
        line = _position(item, f"positions[{index}]", context, out)
        total = None if line is None or total is None else total + line
    return total
