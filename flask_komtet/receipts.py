"""Order → KOMTET v2 receipt payload: pure functions, Decimal money, exact to the kopeck.

The payload is a plain dict in KOMTET's v2 shape with ``Decimal`` amounts
(the client writes them exactly), enum wire values, and no ``None`` values.

Rules, where KOMTET leaves a choice:

* line gross = price × quantity rounded half up to kopecks; a line's own
  ``discount`` comes off that line; the order ``discount`` (coupon, bonus
  points) is spread over the goods lines in proportion to what is left
  (largest remainder, in kopecks) and never over delivery;
* every total stays within ``[0, gross]`` and the totals add up exactly;
* lines with a zero price (gifts) are left out; a line discounted to zero
  stays, with total 0;
* delivery is its own position (``service``), left out when free;
* on prepayment receipts (advance, 100 % or partial prepayment) VAT becomes the
  calculated rate (22 → 22/122) and the payment object is ``payment``, as
  KOMTET's own plugins send them;
* the buyer gets the receipt by email if known, else by phone (+7…); both are
  sent when both are known;
* text the shop supplies (names, the buyer's name, SKUs, the cashier) loses
  its control characters and extra whitespace and is cut to KOMTET's limits
  (names 128 characters, cashier 64); a position name with nothing visible
  left becomes «Товар» («Доставка» for delivery); every other Unicode
  character is sent as is. Bad numbers, contacts and INNs are
  :class:`~flask_komtet.errors.InvalidOrder` naming the field.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Iterable, Mapping, Sequence

from .contacts import check_inn, normalize_email, normalize_phone
from .enums import (
    CorrectionType,
    Intent,
    Measure,
    PaymentMethod,
    PaymentObject,
    PaymentType,
    SettlementScheme,
    TaxSystem,
    VatRate,
)
from .errors import InvalidOrder
from .money import allocate, kopecks, rubles, to_cents
from .orders import Customer, Order, OrderLine, Payment, _show, to_decimal

__all__ = [
    "Cashier",
    "ReceiptSettings",
    "RefundLine",
    "TEMPLATE_TAGS",
    "build_correction",
    "build_refund",
    "build_sale",
    "build_settlement",
    "build_top_up",
    "check_name_template",
    "receipt_total",
    "render_name",
]

NAME_LIMIT = 128
#: The position name when the shop's own has nothing visible (tag 1030 is required).
PLACEHOLDER_NAME = "Товар"
CASHIER_LIMIT = 64
SKU_LIMIT = 64
#: The most one position may cost, in kopecks: FFD writes sums in at most six bytes (VLN).
TOTAL_LIMIT = 2 ** 48 - 1
QUANTITY_PLACES = 3
_ONE = Decimal(1)


@dataclass(frozen=True)
class ReceiptSettings:
    """One cash register's receipt settings, as in force on the receipt's date."""

    tax_system: TaxSystem
    payment_address: str
    vat: VatRate = VatRate.NO
    payment_method: PaymentMethod = PaymentMethod.ADVANCE
    payment_object: PaymentObject = PaymentObject.PRODUCT
    top_up_payment_method: PaymentMethod = PaymentMethod.ADVANCE
    top_up_payment_object: PaymentObject = PaymentObject.PAYMENT
    top_up_name: str = "Пополнение баланса"
    delivery_vat: VatRate | None = None
    print_receipt: bool = False
    place_address: str | None = None
    company_inn: str | None = None
    name_template: str | None = None
    cashier_name: str | None = None
    cashier_inn: str | None = None
    internet: bool = True
    settlement_scheme: SettlementScheme = SettlementScheme.TWO_RECEIPTS


@dataclass(frozen=True)
class Cashier:
    """Who took the payment (tag 1021/1203)."""

    name: str
    inn: str | None = None


@dataclass(frozen=True)
class RefundLine:
    """Return ``quantity`` (default: all) of ``order.lines[index]``; ``index = "delivery"`` for delivery."""

    index: int | str
    quantity: Decimal | None = None


# -- position-name templates (AlfaCRM's «Детали») --------------------------------------

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


# -- positions --------------------------------------------------------------------------


@dataclass(slots=True)
class _Position:
    line: OrderLine
    name: str
    price: Decimal
    quantity: Decimal
    total: Decimal
    vat: VatRate
    payment_object: PaymentObject
    index: int | str


_MILLI = Decimal(1).scaleb(-QUANTITY_PLACES)


def _quantity(value: Decimal, field: str) -> Decimal:
    """A positive quantity with at most three decimals, without trailing zeros (``1.500`` → ``1.5``)."""
    if value <= 0:
        raise InvalidOrder("количество должно быть больше нуля", field=field)
    if value != value.quantize(_MILLI):
        raise InvalidOrder(f"не более {QUANTITY_PLACES} знаков после запятой в количестве", field=field)
    whole = value.to_integral_value()
    return whole.quantize(_ONE) if value == whole else value.normalize()


def _positions(order: Order, settings: ReceiptSettings, method: PaymentMethod) -> list[_Position]:
    prepay = method.is_prepayment
    goods: list[tuple[int, OrderLine, Decimal, Decimal, int]] = []
    for index, line in enumerate(order.lines):
        field = f"lines[{index}]"
        price = rubles(line.price)
        if price < 0:
            raise InvalidOrder("цена не может быть отрицательной", field=f"{field}.price")
        quantity = _quantity(line.quantity, f"{field}.quantity")
        if price == 0:
            continue  # a gift: nothing to fiscalize
        gross = to_cents(price * quantity)
        if gross > TOTAL_LIMIT:
            raise InvalidOrder(f"сумма позиции {kopecks(gross)} больше допустимой {kopecks(TOTAL_LIMIT)}", field=field)
        discount = to_cents(line.discount)
        if discount < 0 or discount > gross:
            raise InvalidOrder(f"скидка должна быть от 0 до {kopecks(gross)}", field=f"{field}.discount")
        goods.append((index, line, price, quantity, gross - discount))
    if not goods and not (order.delivery and order.delivery.price):
        raise InvalidOrder("в заказе нет позиций для чека", field="lines")
    nets = [net for *_, net in goods]
    coupon = to_cents(order.discount)
    if coupon < 0 or coupon > sum(nets):
        raise InvalidOrder(f"скидка на заказ должна быть от 0 до {kopecks(sum(nets))}", field="discount")
    shares = allocate(coupon, nets)
    positions = []
    template = settings.name_template
    for (index, line, price, quantity, net), share in zip(goods, shares):
        positions.append(_Position(
            line, render_name(template, line, order), price, quantity,
            kopecks(net - share), _VATS[line.vat or settings.vat, prepay],
            PaymentObject.PAYMENT if prepay else line.payment_object or settings.payment_object, index,
        ))
    delivery = order.delivery
    if delivery is not None and delivery.price:
        price, quantity = rubles(delivery.price), _quantity(delivery.quantity, "delivery.quantity")
        if price < 0:
            raise InvalidOrder("цена не может быть отрицательной", field="delivery.price")
        gross, discount = to_cents(price * quantity), to_cents(delivery.discount)
        if gross > TOTAL_LIMIT:
            raise InvalidOrder(f"сумма позиции {kopecks(gross)} больше допустимой {kopecks(TOTAL_LIMIT)}",
                               field="delivery")
        if discount < 0 or discount > gross:
            raise InvalidOrder(f"скидка должна быть от 0 до {kopecks(gross)}", field="delivery.discount")
        vat = delivery.vat or settings.delivery_vat or settings.vat
        positions.append(_Position(
            delivery, clean_text(delivery.name, NAME_LIMIT) or "Доставка", price, quantity,
            kopecks(gross - discount),
            _vat(vat, prepay), PaymentObject.PAYMENT if prepay else PaymentObject.SERVICE, "delivery",
        ))
    return positions


def _vat(rate: VatRate, prepayment: bool) -> VatRate:
    """The calculated rate (22/122) on prepayment receipts, the plain one (22) otherwise."""
    return _VATS[rate, prepayment]


_VATS = {(rate, prepay): rate.plain.calculated if prepay else rate.plain for rate in VatRate for prepay in (True, False)}


def _position_dict(p: _Position, method: PaymentMethod) -> dict[str, Any]:
    item: dict[str, Any] = {
        "name": p.name, "price": p.price, "quantity": p.quantity, "total": p.total, "vat": p.vat.value,
        "measure": int(p.line.measure), "payment_method": method.value, "payment_object": p.payment_object.value,
    }
    sku = clean_text(p.line.sku, SKU_LIMIT) if p.line.sku else ""
    if sku:
        item["id"] = sku
    return item


# -- the receipt ------------------------------------------------------------------------


def _client(customer: Customer) -> dict[str, Any]:
    client: dict[str, Any] = {}
    for key, normalize in (("email", normalize_email), ("phone", normalize_phone)):
        value = getattr(customer, key)
        if value:
            try:
                client[key] = normalize(value)
            except ValueError as exc:
                raise InvalidOrder(str(exc), field=f"customer.{key}") from None
    if not client:
        raise InvalidOrder("нужен email или телефон покупателя: на него придет электронный чек", field="customer")
    name = clean_text(customer.name, NAME_LIMIT) if customer.name else ""
    if name:
        client["name"] = name
    if customer.inn:
        try:
            client["inn"] = check_inn(customer.inn)
        except ValueError as exc:
            raise InvalidOrder(str(exc), field="customer.inn") from None
    return client


def _company(settings: ReceiptSettings) -> dict[str, Any]:
    if not settings.payment_address:
        raise InvalidOrder("не указано место расчетов (адрес сайта или магазина) в настройках кассы",
                           field="settings.payment_address")
    company: dict[str, Any] = {"sno": int(TaxSystem.parse(settings.tax_system)),
                               "payment_address": settings.payment_address}
    if settings.company_inn:
        company["inn"] = settings.company_inn
    if settings.place_address:
        company["place_address"] = settings.place_address
    return company


def _cashier(cashier: Cashier | None, settings: ReceiptSettings) -> dict[str, Any] | None:
    name = cashier.name if cashier else settings.cashier_name
    inn = cashier.inn if cashier else settings.cashier_inn
    name = clean_text(str(name), CASHIER_LIMIT) if name else ""
    if not name:
        return None
    result: dict[str, Any] = {"name": name}
    if inn:
        try:
            result["inn"] = check_inn(inn, person=True)
        except ValueError as exc:
            raise InvalidOrder(str(exc), field="cashier.inn") from None
    return result


def _payments(payments: Sequence[Payment], total: Decimal, default: PaymentType) -> list[dict[str, Any]]:
    if total <= 0:
        raise InvalidOrder("сумма чека равна нулю: фискализировать нечего", field="lines")
    if not payments:
        payments = [Payment(default, total)]
    result, paid = [], Decimal(0)
    for index, payment in enumerate(payments):
        amount = rubles(payment.amount)
        if amount != payment.amount.quantize(amount) or amount < 0:
            raise InvalidOrder("сумма оплаты: не больше двух знаков после запятой и не меньше нуля",
                               field=f"payments[{index}].amount")
        paid += amount
        if amount:
            result.append({"sum": amount, "type": payment.type.value})
    if paid != total:
        raise InvalidOrder(f"сумма оплат {paid} не равна сумме позиций {total}", field="payments")
    return result


def _receipt(external_id: str, intent: Intent, settings: ReceiptSettings, customer: Customer,
             positions: list[dict[str, Any]], payments: list[dict[str, Any]], cashier: Cashier | None,
             callback_url: str | None, extra: Mapping[str, Any] | None = None, *, online: bool = True
             ) -> dict[str, Any]:
    """The payload; ``online=False`` (paid at the counter) always prints and is never «расчет в Интернете»."""
    payload: dict[str, Any] = {
        "external_id": external_id, "intent": intent.value, "print": bool(settings.print_receipt) or not online,
        "client": _client(customer), "company": _company(settings), "positions": positions, "payments": payments,
    }
    cashier_dict = _cashier(cashier, settings)
    if cashier_dict:
        payload["cashier"] = cashier_dict
    if settings.internet and online:
        payload["internet"] = True
    if callback_url:
        payload["callback_url"] = callback_url
    if extra:
        payload.update(extra)
    _final_check(payload)
    return payload


def _final_check(payload: dict[str, Any]) -> None:
    """The same rules the emulator (and KOMTET) enforce, before anything leaves."""
    try:
        from .validation import validate_task
    except ImportError:  # pragma: no cover - validation ships with the emulator
        return
    problems = validate_task(payload)
    if problems:
        raise InvalidOrder(dict(problems))


def _default_type(order: Order) -> PaymentType:
    return PaymentType.CARD if order.is_online else PaymentType.CASH


def build_sale(order: Order, settings: ReceiptSettings, *, external_id: str, callback_url: str | None = None,
               cashier: Cashier | None = None, payment_method: PaymentMethod | None = None) -> dict[str, Any]:
    """The sale receipt (``sell``) of a paid order."""
    method = payment_method or settings.payment_method
    positions = _positions(order, settings, method)
    total = sum((p.total for p in positions), Decimal(0))
    payments = _payments(order.payments, total, _default_type(order))
    return _receipt(external_id, Intent.SELL, settings, order.customer,
                    [_position_dict(p, method) for p in positions], payments, cashier, callback_url,
                    online=order.is_online)


def build_refund(order: Order, settings: ReceiptSettings, *, external_id: str,
                 lines: Sequence[RefundLine | int | Mapping[str, Any]] | None = None,
                 callback_url: str | None = None, cashier: Cashier | None = None,
                 payment_method: PaymentMethod | None = None) -> dict[str, Any]:
    """The refund receipt (``sellReturn``): the whole order as sold, or some lines and quantities.

    A part of a line is refunded at that line's own discounted unit total, so a
    line refunded in parts never returns more than was paid for it.
    """
    method = payment_method or settings.payment_method
    sold = _positions(order, settings, method)
    if lines is None:
        chosen = [_position_dict(p, method) for p in sold]
        total = sum((p.total for p in sold), Decimal(0))
        payments = _payments(order.payments, total, _default_type(order))
    else:
        by_index = {p.index: p for p in sold}
        chosen = [_position_dict(position, method) | {"quantity": quantity, "total": total}
                  for position, quantity, total in _refund_parts(by_index, lines)]
        total = sum((item["total"] for item in chosen), Decimal(0))
        kind = next((p.type for p in order.payments if p.type is not PaymentType.PREPAYMENT), _default_type(order))
        payments = _payments([], total, kind)
    return _receipt(external_id, Intent.SELL_RETURN, settings, order.customer, chosen, payments, cashier,
                    callback_url, online=order.is_online)


def _refund_parts(by_index: Mapping[int | str, _Position], lines: Any) -> list[tuple[_Position, Decimal, Decimal]]:
    """``(position, quantity, total)`` per line refunded; lines naming the same position count together."""
    if isinstance(lines, (str, bytes, Mapping)) or not isinstance(lines, Iterable):
        raise InvalidOrder(f"ожидается список строк возврата, получено {_show(lines)}", field="refund_lines")
    merged: dict[int | str, list[Any]] = {}
    for n, raw in enumerate(lines):
        line = _refund_line(raw, n)
        index = line.index
        if isinstance(index, str) and index.strip().isdigit() and index.strip().isascii():
            index = int(index)
        valid = index == "delivery" or (isinstance(index, int) and not isinstance(index, bool))
        position = by_index.get(index) if valid else None
        if position is None:
            raise InvalidOrder("такой позиции нет в чеке продажи", field=f"refund_lines[{n}].index")
        field = f"refund_lines[{n}].quantity"
        quantity = position.quantity if line.quantity is None else _quantity(to_decimal(line.quantity, field), field)
        entry = merged.setdefault(position.index, [position, Decimal(0), n])
        entry[1] += quantity
        if entry[1] > position.quantity:
            raise InvalidOrder(f"нельзя вернуть больше, чем продано ({position.quantity})", field=field)
    return [_refund_part(position, quantity, n) for position, quantity, n in merged.values()]


def _refund_part(position: _Position, quantity: Decimal, n: int) -> tuple[_Position, Decimal, Decimal]:
    """``(position, quantity, total)``: part of a line at its own unit total."""
    if quantity == position.quantity:
        return position, quantity, position.total
    # Proportional, but both the returned part and what stays must fit price × quantity.
    low = position.total - rubles(position.price * (position.quantity - quantity))
    high = min(position.total, rubles(position.price * quantity))
    if low > high:
        raise InvalidOrder("эту часть позиции нельзя вернуть отдельно: сумма меньше копейки",
                           field=f"refund_lines[{n}].quantity")
    total = min(max(rubles(position.total * quantity / position.quantity), low), high)
    return position, quantity, total


def _refund_line(raw: RefundLine | int | Mapping[str, Any], n: int) -> RefundLine:
    if isinstance(raw, RefundLine):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        return RefundLine(raw)
    if isinstance(raw, Mapping):
        if "index" not in raw:
            raise InvalidOrder("обязательное поле (номер строки заказа или \"delivery\")",
                               field=f"refund_lines[{n}].index")
        quantity = raw.get("quantity")
        field = f"refund_lines[{n}].quantity"
        return RefundLine(raw["index"], to_decimal(quantity, field) if quantity not in (None, "") else None)
    raise InvalidOrder(f"непонятная строка возврата {_show(raw)}", field=f"refund_lines[{n}]")


def build_settlement(order: Order, settings: ReceiptSettings, *, external_id: str, prepaid: Decimal,
                     refunds: Sequence[Sequence[RefundLine | int | Mapping[str, Any]] | None] = (),
                     callback_url: str | None = None, cashier: Cashier | None = None) -> dict[str, Any]:
    """The settlement receipt («Полный расчет») after a prepayment receipt.

    Positions carry the real payment object and the plain VAT rate; what was
    refunded before (``refunds``: each refund's lines, ``None`` for a whole
    refund) is left out; ``prepaid`` is offset with payment type ``prepayment``
    and any remainder is paid by card (online) or cash.
    """
    method = PaymentMethod.FULL_PAYMENT
    remaining = {p.index: [p, p.quantity, p.total] for p in _positions(order, settings, method)}
    positions = {p[0].index: p[0] for p in remaining.values()}
    for refund in refunds:
        if refund is None:
            remaining = {}
            break
        for position, quantity, total in _refund_parts(positions, refund):
            entry = remaining.get(position.index)
            if entry is not None:
                entry[1] -= quantity
                entry[2] -= total
    items = [_position_dict(p, method) | {"quantity": q, "total": t} for p, q, t in remaining.values() if q > 0]
    total = sum((item["total"] for item in items), Decimal(0))
    if not items or total == 0:
        raise InvalidOrder("заказ полностью возвращен: закрывать нечего", field="order")
    prepaid = rubles(Decimal(prepaid))
    if prepaid > total:
        raise InvalidOrder(f"предоплата {prepaid} больше суммы позиций {total}", field="prepaid")
    payments = [Payment(PaymentType.PREPAYMENT, prepaid)] + (
        [Payment(_default_type(order), total - prepaid)] if total > prepaid else [])
    return _receipt(external_id, Intent.SELL, settings, order.customer, items,
                    _payments(payments, total, PaymentType.PREPAYMENT), cashier, callback_url)


def build_correction(order: Order, settings: ReceiptSettings, *, external_id: str, intent: Intent,
                     correction_type: CorrectionType, base_date: date, base_number: str | None = None,
                     callback_url: str | None = None, cashier: Cashier | None = None,
                     payment_method: PaymentMethod = PaymentMethod.FULL_PAYMENT) -> dict[str, Any]:
    """A correction receipt (``sellCorrection`` / ``sellReturnCorrection``) with KOMTET v2 ``correction_info``.

    ``correction_type`` is ``self`` (the shop found the mistake) or ``instruction``
    (the tax office ordered it); ``base_date`` and ``base_number`` name the
    document it rests on.
    """
    intent = Intent.parse(intent)
    if not intent.is_correction:
        raise InvalidOrder(f"{intent.value} не является чеком коррекции", field="intent")
    positions = _positions(order, settings, payment_method)
    total = sum((p.total for p in positions), Decimal(0))
    payments = _payments(order.payments, total, _default_type(order))
    info: dict[str, Any] = {"type": CorrectionType.parse(correction_type).value,
                            "base_date": base_date.strftime("%d.%m.%Y")}
    if base_number:
        info["base_number"] = str(base_number)[:32]
    payload = _receipt(external_id, intent, settings, order.customer,
                       [_position_dict(p, payment_method) for p in positions], payments, cashier, callback_url,
                       extra={"correction_info": info})
    return payload


def build_top_up(customer: Customer, amount: Decimal | int | str, settings: ReceiptSettings, *, external_id: str,
                 payment_type: PaymentType = PaymentType.CARD, callback_url: str | None = None,
                 cashier: Cashier | None = None) -> dict[str, Any]:
    """A balance top-up: one position named by the register («Пополнение баланса»)."""
    total = to_decimal(amount, "amount")
    if rubles(total) != total or total <= 0:
        raise InvalidOrder("сумма пополнения должна быть больше нуля, не больше двух знаков после запятой",
                           field="amount")
    method = settings.top_up_payment_method
    vat = _vat(settings.vat, method.is_prepayment)
    name = clean_text(settings.top_up_name or "", NAME_LIMIT) or "Пополнение баланса"
    position = {"name": name, "price": total, "quantity": Decimal(1), "total": total,
                "vat": vat.value, "measure": int(Measure.PIECE), "payment_method": method.value,
                "payment_object": settings.top_up_payment_object.value}
    return _receipt(external_id, Intent.SELL, settings, customer, [position],
                    _payments([Payment(payment_type, total)], total, payment_type), cashier, callback_url)


def receipt_total(payload: Mapping[str, Any]) -> Decimal:
    """What the buyer paid: the sum of the payload's payments."""
    return sum((Decimal(str(p["sum"])) for p in payload.get("payments", ())), Decimal(0))
