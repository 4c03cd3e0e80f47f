"""A register's receipt settings, the cashier, and a refund line: the builder's plain inputs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ..enums import AgentType, PaymentMethod, PaymentObject, SettlementScheme, TaxSystem, TimeZone, VatRate

__all__ = ["CASHIER_LIMIT", "NAME_LIMIT", "ONE", "PLACEHOLDER_NAME", "QUANTITY_PLACES", "SKU_LIMIT", "TOTAL_LIMIT",
           "Cashier", "ReceiptSettings", "RefundLine"]

NAME_LIMIT = 128
PLACEHOLDER_NAME = "Товар"
CASHIER_LIMIT = 64
SKU_LIMIT = 64
TOTAL_LIMIT = 2 ** 48 - 1
QUANTITY_PLACES = 3
ONE = Decimal(1)


@dataclass(frozen=True)
class ReceiptSettings:
    """One cash register's receipt settings, as in force on ``receipt_date``.

    ``receipt_date`` is the day of the settlement the receipt is for (the payment's
    day, a correction's corrected day); VAT rates are checked against it. ``None``
    (settings made by hand) checks no dates. ``follow_up``: the receipt follows an
    earlier one of ``receipt_date`` (a refund), so its rates must be exactly those
    in force then, not only rates that have not ended. ``agent_type``: the register's
    default agent role, for lines that name a supplier without a role of their own
    (:mod:`.agents`). ``timezone``: the time zone of the place of settlement (tag 1011).
    """

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
    receipt_date: date | None = None
    follow_up: bool = False
    agent_type: AgentType | None = None
    timezone: TimeZone | None = None
    #: «Разрешительный режим»: a marked unit goes out only with its online check's result (tag 1265).
    permissive_mode: bool = False


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
    #: Marked goods: the codes of the units going back (default: the last ones sold).
    marks: tuple[str, ...] = ()
