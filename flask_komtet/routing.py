"""Which cash register serves an order, and why.

The rule, as Parts-Soft's help describes registers bound to regions:

1. Only active registers are considered.
2. A register whose primary ``region`` is the order's region comes first; a
   register that lists the region among its ``extra_regions`` serves it only
   for online payments.
3. For automatic receipts, a register that auto-fiscalizes («Активен при
   онлайн оплатах») is preferred; if only registers that do not auto-fiscalize
   match, the receipt is kept ``held`` on the best of them for a manual send.
4. Ties go to the register created first (lowest id).
5. An order without a region goes to the only active register, if there is
   exactly one; otherwise, and when nothing matches, there is no register and
   the reason names the region.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from .enums import AgentType, PaymentMethod, PaymentObject, SettlementScheme, TaxSystem, TimeZone, VatRate
from .receipts import ReceiptSettings

__all__ = ["Route", "choose_register", "register_settings"]


@dataclass(frozen=True)
class Route:
    """The chosen register (or ``None``), whether the receipt waits for a manual send, and why."""

    register: Any | None
    held: bool
    reason: str


def choose_register(
    registers: Iterable[Any], region: str | None, *, online: bool, automatic: bool = True,
    labels: Mapping[str, str] | None = None,
) -> Route:
    """Pick the register for an order of ``region`` (see the module docstring for the rule).

    ``labels`` (region code → name, from ``KOMTET_KASSA_REGIONS``) make the reasons readable.
    """
    name = (labels or {}).get(region or "", region)
    active = sorted((r for r in registers if r.is_active), key=lambda r: r.id)
    if region is None:
        if len(active) == 1:
            return _route(active[0], automatic, "единственная активная касса (у заказа не указан регион)")
        return Route(None, False, "У заказа не указан регион, а активных касс несколько (или ни одной)")
    primary = [r for r in active if r.region == region]
    extra = [r for r in active if online and region in (r.extra_regions or [])]
    for tier, why in ((primary, f"основной регион «{name}»"), (extra, f"дополнительный регион «{name}» для онлайн-оплат")):
        if not tier:
            continue
        if automatic:
            auto = [r for r in tier if r.auto_fiscalize]
            if auto:
                return _route(auto[0], automatic, why)
        return _route(tier[0], automatic, why)
    if not online and any(region in (r.extra_regions or []) for r in active):
        return Route(None, False, f"Нет кассы для региона «{name}»: дополнительные регионы обслуживаются только при онлайн-оплате")
    return Route(None, False, f"Нет активной кассы для региона «{name}»")


def _route(register: Any, automatic: bool, why: str) -> Route:
    label = f"Касса «{register.name}» (№{register.id}): {why}"
    if automatic and not register.auto_fiscalize:
        return Route(register, True, label + "; касса не фискализирует автоматически — чек ждет ручной отправки")
    return Route(register, False, label)


def register_settings(register: Any, on: date | None = None) -> ReceiptSettings:
    """The register's receipt settings in force on ``on`` (default: today)."""
    on = on or date.today()
    scheduled = register.tax_change_date is not None and on >= register.tax_change_date
    vat = register.next_vat if scheduled and register.next_vat else register.vat
    tax_system = register.next_tax_system if scheduled and register.next_tax_system is not None else register.tax_system
    return ReceiptSettings(
        tax_system=TaxSystem.parse(tax_system),
        payment_address=register.payment_address or "",
        vat=VatRate.parse(vat),
        payment_method=PaymentMethod.parse(register.payment_method),
        payment_object=PaymentObject.parse(register.payment_object),
        top_up_payment_method=PaymentMethod.parse(register.top_up_payment_method),
        top_up_payment_object=PaymentObject.parse(register.top_up_payment_object),
        top_up_name=register.top_up_name or "Пополнение баланса",
        delivery_vat=VatRate.parse(register.delivery_vat) if register.delivery_vat else None,
        print_receipt=bool(register.print_receipt),
        place_address=register.place_address or None,
        company_inn=register.company_inn or None,
        name_template=register.name_template or None,
        cashier_name=register.cashier_name or None,
        cashier_inn=register.cashier_inn or None,
        internet=bool(register.internet),
        settlement_scheme=SettlementScheme.parse(register.settlement_scheme or SettlementScheme.TWO_RECEIPTS),
        receipt_date=on,
        agent_type=AgentType.parse(register.agent_type) if getattr(register, "agent_type", None) else None,
        timezone=TimeZone.parse(register.timezone) if getattr(register, "timezone", None) else None,
        permissive_mode=bool(getattr(register, "permissive_mode", False)),
    )
