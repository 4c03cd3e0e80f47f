"""Marked goods on receipts: one position per unit with its code, planned status and check result (pure).

* **One position per unit** (fiscal_2026.md «Marked goods»; KOMTET's Bitrix module adds one position per
  code, ``KomtetKassa.php``): a marked line of quantity N becomes N positions of quantity 1, keyed
  ``"<line>.<unit>"`` (``"0.1"``, ``"0.2"``…) so follow-ups find each unit. The line's total (its own
  discount and its share of the coupon already off) is spread over the units to the kopeck, in proportion
  to their quantities (largest remainder): the units add up to exactly the line.
* A piece line with a fractional quantity (2.5 packs) ends with a part of a unit: quantity 0.5 and
  ``mark_quantity`` {1, 2} (tag 1291, SDK ``set_mark_quantity``). A weighed line (kg, l…) keeps its quantity
  as one position with its one code (``mark_quantity`` only if the shop gave the unit's fraction).
* Payment object ``tm`` (marked goods with a code), ``atm`` for excise goods (``product_practical``, ``atm``,
  ``atnm``) — SDK ``PaymentObject``.
* Planned status (tag 2003, SDK ``PlannedStatus``): 1 a piece sold, 2 measured goods / a part of a unit; on a
  refund 3 (a piece returned) and 4 (measured goods returned).
* Permissive mode (tag 1265): a unit whose online check is known carries ``sectoral_item_props``
  ``[{federal_id "030", date "21.11.2023", number "1944", value "UUID=…&Time=…"}]``, the constants of
  KOMTET's Bitrix module 1.0.2 (``DEFAULT_FEDERAL_ID``, ``DEFAULT_DATE``, ``DEFAULT_NUMBER``; the
  government act of 21.11.2023 № 1944). With the register's ``permissive_mode`` a unit without it waits.
* Prepayments carry no codes (the goods are not handed over; the Bitrix module adds codes only to
  ``full_payment``): the settlement splits the prepaid line into its units then (:func:`settled_units`).
* A missing code (``OrderLine(marked=True)`` or fewer codes than units) raises :class:`MarksHeld`: the
  receipt is kept ``held`` with «нет кода маркировки для …», never sent without them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

from ..enums import Measure, PaymentMethod, PaymentObject
from ..errors import InvalidOrder, MarksHeld
from ..marks import GS, Mark, parse_mark
from ..orders import OrderLine
from .followups import Index, Refunded, Sold
from .money import allocate, kopecks, to_cents
from .positions import Position
from .settings import ReceiptSettings, RefundLine

__all__ = ["RETURNED", "SECTORAL", "is_unit", "line_of", "returned", "settled_units", "unit_positions",
           "unit_request", "units_missing"]

#: Tag 1260 of permissive mode as KOMTET's Bitrix module 1.0.2 sends it (value: UUID=…&Time=…).
SECTORAL = {"federal_id": "030", "date": "21.11.2023", "number": "1944"}
SOLD_PIECE, SOLD_MEASURED = 1, 2  # PlannedStatus 1 «штучный товар реализован», 2 «мерный товар в стадии реализации»
#: Sale status → refund status: 3 «штучный товар возвращен», 4 «часть товара возвращена» (measured).
RETURNED = {1: 3, 5: 3, 2: 4, 6: 4}
_EXCISE = (PaymentObject.PRODUCT_PRACTICAL, PaymentObject.ATM, PaymentObject.ATNM)
_ONE = Decimal(1)


def line_of(key: Index) -> Index:
    """The order line a position key belongs to: ``"2.3"`` → ``2``; other keys are their own line."""
    if is_unit(key):
        return int(str(key).partition(".")[0])
    return key


def is_unit(key: Any) -> bool:
    return isinstance(key, str) and "." in key and key.partition(".")[0].isdigit()


def _needs_marks(line: OrderLine) -> bool:
    return bool(line.marks) or line.marked


def _unit_quantities(line: OrderLine, quantity: Decimal) -> list[Decimal]:
    if line.measure is not Measure.PIECE:
        return [quantity]  # weighed goods: one code, the whole quantity
    whole = int(quantity)
    part = quantity - whole
    return [_ONE] * whole + ([part] if part else [])


def units_missing(line: OrderLine, quantity: Decimal) -> int:
    """How many units of a marked line have no code yet."""
    return max(len(_unit_quantities(line, quantity)) - len(line.marks), 0) if _needs_marks(line) else 0


def unit_positions(positions: Sequence[Position], settings: ReceiptSettings, method: PaymentMethod) -> list[Position]:
    """The positions with each marked line split into its units (see the module's docstring).

    Raises :class:`MarksHeld` naming every line that lacks codes (or, in permissive mode, check results),
    and :class:`InvalidOrder` for more codes than units or one code twice.
    """
    result: list[Position] = []
    missing: dict[str, str] = {}
    seen: dict[str, str] = {}
    for p in positions:
        line = p.line
        if p.index == "delivery" or not _needs_marks(line) or method.is_prepayment:
            result.append(p)
            continue
        field = f"lines[{p.index}].marks"
        quantities = _unit_quantities(line, p.quantity)
        if len(line.marks) > len(quantities):
            what = ("весовой товар: один код на строку заказа" if line.measure is not Measure.PIECE
                    else f"кодов ({len(line.marks)}) больше, чем единиц товара ({len(quantities)})")
            raise InvalidOrder(what, field=field)
        for n, mark in enumerate(line.marks):
            if mark.code in seen:
                raise InvalidOrder(f"код уже указан в {seen[mark.code]}: у каждой единицы свой код",
                                   field=f"{field}[{n}]")
            seen[mark.code] = f"{field}[{n}]"
        problem = _missing(line, p.index, quantities, settings.permissive_mode)
        if problem:
            missing[field] = problem
            continue
        shares = allocate(to_cents(p.total), [to_cents(p.price * q) for q in quantities])
        for n, (mark, quantity, share) in enumerate(zip(line.marks, quantities, shares, strict=True), start=1):
            result.append(replace(p, quantity=quantity, total=kopecks(share), index=f"{p.index}.{n}",
                                  payment_object=PaymentObject.ATM if p.payment_object in _EXCISE else PaymentObject.TM,
                                  marking=_keys(mark, quantity, line, f"{field}[{n - 1}]")))
    if missing:
        raise MarksHeld(missing)
    return result


def _missing(line: OrderLine, index: Any, quantities: Sequence[Decimal], permissive: bool) -> str | None:
    where = f"«{line.name}» (строка {int(index) + 1})" if isinstance(index, int) else f"«{line.name}»"
    lacking = list(range(len(line.marks) + 1, len(quantities) + 1))
    if lacking:
        return f"нет кода маркировки для {where}: {_units(lacking)} из {len(quantities)}"
    unchecked = [n for n, mark in enumerate(line.marks, start=1) if not mark.checked]
    if permissive and unchecked:
        return (f"нет результата проверки кода маркировки (разрешительный режим) для {where}: "
                f"{_units(unchecked)} из {len(quantities)}")
    return None


def _units(numbers: Sequence[int]) -> str:
    return ("единица " if len(numbers) == 1 else "единицы ") + ", ".join(map(str, numbers))


def _keys(mark: Mark, quantity: Decimal, line: OrderLine, field: str) -> dict[str, Any]:
    """A unit's marking keys: ``mark_code``, ``mark_quantity``, ``planned_status``, ``sectoral_item_props``."""
    keys: dict[str, Any] = {"mark_code": {mark.type: mark.code}}
    fraction: Fraction | None = Fraction(*mark.fraction) if mark.fraction else None
    if line.measure is Measure.PIECE and quantity != _ONE:
        fraction = fraction or Fraction(str(quantity))
    elif line.measure is Measure.PIECE and fraction is not None:
        raise InvalidOrder(f"доля {fraction} у целой единицы: укажите количество строки дробным",
                           field=f"{field}.fraction")
    if fraction is not None:
        keys["mark_quantity"] = {"numerator": fraction.numerator, "denominator": fraction.denominator}
    measured = line.measure is not Measure.PIECE or fraction is not None
    keys["planned_status"] = SOLD_MEASURED if measured else SOLD_PIECE
    if mark.checked:
        keys["sectoral_item_props"] = [SECTORAL | {"value": mark.check_value}]
    return keys


def unit_request(sold: Sold, request: Sequence[RefundLine] | None, done: Refunded) -> list[RefundLine] | None:
    """A refund's lines with each marked line turned into the units going back.

    ``RefundLine(i, quantity)`` takes the last units sold that are not returned yet;
    ``RefundLine(i, marks=[code, …])`` the units with those codes. Other lines pass as they are.
    """
    if request is None:
        return None
    units: dict[Index, list[Index]] = {}
    for key in sold:
        if is_unit(key):
            units.setdefault(line_of(key), []).append(key)
    if not units:
        return list(request)
    taken: dict[Index, Decimal] = {}
    result: list[RefundLine] = []
    for n, line in enumerate(request):
        keys = units.get(line.index)
        if keys is None:
            result.append(line)
            continue
        field = f"refund_lines[{n}]"
        left = {key: _left(sold[key], done.get(key)) - taken.get(key, Decimal(0)) for key in keys}
        chosen = (_by_codes(sold, keys, left, line.marks, field) if line.marks
                  else _last_units(sold, keys, left, line, field))
        for key, quantity in chosen:
            taken[key] = taken.get(key, Decimal(0)) + quantity
            result.append(RefundLine(key, quantity))
    return result


def _left(item: Mapping[str, Any], done: tuple[Decimal, Decimal] | None) -> Decimal:
    return Decimal(str(item["quantity"])) - (done[0] if done else Decimal(0))


def _last_units(sold: Sold, keys: Sequence[Index], left: Mapping[Index, Decimal], line: RefundLine,
                field: str) -> list[tuple[Index, Decimal]]:
    available = sum(left.values(), Decimal(0))
    wanted = available if line.quantity is None else line.quantity
    if wanted > available or wanted <= 0:
        if line.quantity is None:
            raise InvalidOrder("все единицы этой строки уже возвращены", field=field)
        total = sum((Decimal(str(sold[key]["quantity"])) for key in keys), Decimal(0))
        raise InvalidOrder(f"нельзя вернуть больше, чем продано: продано {_num(total)}, уже возвращено "
                           f"{_num(total - available)}, запрошено {_num(wanted)}", field=f"{field}.quantity")
    chosen = []
    for key in reversed(keys):
        if wanted <= 0:
            break
        part = min(left[key], wanted)
        if part > 0:
            chosen.append((key, part))
            wanted -= part
    return chosen


def _by_codes(sold: Sold, keys: Sequence[Index], left: Mapping[Index, Decimal], codes: Sequence[str],
              field: str) -> list[tuple[Index, Decimal]]:
    by_code = {code: key for key in keys for code in (sold[key].get("mark_code") or {}).values()}
    chosen: list[tuple[Index, Decimal]] = []
    for n, raw in enumerate(codes):
        try:
            code = parse_mark(raw, f"{field}.marks[{n}]").code
        except InvalidOrder:
            code = str(raw)
        key = by_code.get(code)
        if key is None:
            raise InvalidOrder(f"кода {code.replace(GS, '<GS>')[:60]} нет среди проданных единиц этой строки",
                               field=f"{field}.marks[{n}]")
        if left[key] <= 0 or any(key == k for k, _ in chosen):
            raise InvalidOrder("эта единица уже возвращена", field=f"{field}.marks[{n}]")
        chosen.append((key, left[key]))
    return chosen


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f")


def returned(chosen: Sequence[tuple[Index, dict[str, Any]]]) -> list[tuple[Index, dict[str, Any]]]:
    """A refund's positions with each unit's planned status turned into its return status (3 or 4)."""
    result = []
    for key, item in chosen:
        status = item.get("planned_status")
        if status in RETURNED:
            item = item | {"planned_status": RETURNED[status]}
            quantity = Decimal(str(item["quantity"]))
            if "mark_quantity" in item and quantity < 1:
                part = Fraction(str(quantity))
                item["mark_quantity"] = {"numerator": part.numerator, "denominator": part.denominator}
        result.append((key, item))
    return result


def settled_units(chosen: Sequence[tuple[Index, dict[str, Any]]], current: Sold) -> list[tuple[Index, dict[str, Any]]]:
    """A settlement's positions with each prepaid marked line split into the units priced from the order now.

    The prepayment had one position per line (no codes); what is left of it is spread over the units
    the order has now (their codes, ``tm``/``atm``, planned status), first units first.
    """
    units: dict[Index, list[Index]] = {}
    for key in current:
        if is_unit(key):
            units.setdefault(line_of(key), []).append(key)
    result: list[tuple[Index, dict[str, Any]]] = []
    for index, item in chosen:
        keys = units.get(index)
        if not keys or is_unit(index):
            result.append((index, item))
            continue
        wanted, picked = Decimal(str(item["quantity"])), []
        for key in keys:
            if wanted <= 0:
                break
            quantity = min(Decimal(str(current[key]["quantity"])), wanted)
            picked.append((key, quantity))
            wanted -= quantity
        price = Decimal(str(item["price"]))
        shares = allocate(to_cents(Decimal(str(item["total"]))), [to_cents(price * q) for _, q in picked])
        for (key, quantity), share in zip(picked, shares, strict=True):
            unit = current[key]
            marking = {k: unit[k] for k in ("mark_code", "mark_quantity", "planned_status", "sectoral_item_props")
                       if k in unit}
            result.append((key, item | marking | {"quantity": quantity, "total": kopecks(share),
                                                  "payment_object": unit["payment_object"]}))
    return result
