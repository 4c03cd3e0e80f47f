"""Which register serves an order (pure rule), and the settings in force on a date."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest

from flask_komtet.enums import TaxSystem, VatRate
from flask_komtet.outbox import make_external_id
from flask_komtet.routing import choose_register, register_settings


@dataclass
class Reg:
    id: int
    region: str
    extra_regions: list[str] = field(default_factory=list)
    is_active: bool = True
    auto_fiscalize: bool = True
    name: str = "Касса"


def test_primary_region_wins_over_extra() -> None:
    route = choose_register([Reg(1, "spb", ["msk"]), Reg(2, "msk")], "msk", online=True)
    assert route.register.id == 2 and not route.held and "основной регион «msk»" in route.reason


def test_extra_region_only_for_online_payments() -> None:
    registers = [Reg(1, "msk", ["tver"])]
    assert choose_register(registers, "tver", online=True).register.id == 1
    offline = choose_register(registers, "tver", online=False)
    assert offline.register is None and "только при онлайн-оплате" in offline.reason


def test_inactive_registers_are_skipped() -> None:
    route = choose_register([Reg(1, "msk", is_active=False)], "msk", online=True)
    assert route.register is None and "«msk»" in route.reason


def test_auto_fiscalizing_register_preferred_else_held() -> None:
    assert choose_register([Reg(1, "msk", auto_fiscalize=False), Reg(2, "msk")], "msk", online=True).register.id == 2
    held = choose_register([Reg(1, "msk", auto_fiscalize=False)], "msk", online=True)
    assert held.register.id == 1 and held.held and "ручной отправки" in held.reason
    manual = choose_register([Reg(1, "msk", auto_fiscalize=False)], "msk", online=True, automatic=False)
    assert manual.register.id == 1 and not manual.held


def test_ties_go_to_the_oldest_register() -> None:
    assert choose_register([Reg(5, "msk"), Reg(3, "msk")], "msk", online=True).register.id == 3


def test_no_region() -> None:
    assert choose_register([Reg(1, "msk")], None, online=True).register.id == 1
    route = choose_register([Reg(1, "msk"), Reg(2, "spb")], None, online=True)
    assert route.register is None and "не указан регион" in route.reason


@dataclass
class FullReg:
    vat: str = "20"
    next_vat: str | None = "22"
    tax_system: int = 1
    next_tax_system: int | None = None
    tax_change_date: date | None = date(2026, 1, 1)
    payment_address: str = "https://shop.test"
    payment_method: str = "advance"
    payment_object: str = "product"
    top_up_payment_method: str = "advance"
    top_up_payment_object: str = "payment"
    top_up_name: str = "Пополнение баланса"
    delivery_vat: str | None = None
    print_receipt: bool = False
    place_address: str | None = None
    company_inn: str | None = None
    name_template: str | None = None
    cashier_name: str | None = None
    cashier_inn: str | None = None
    internet: bool = True
    settlement_scheme: str = "two"


def test_vat_in_force_on_the_receipt_date() -> None:
    register = FullReg()
    assert register_settings(register, date(2025, 12, 31)).vat is VatRate.RATE_20
    assert register_settings(register, date(2026, 1, 1)).vat is VatRate.RATE_22
    assert register_settings(register, date(2026, 1, 1)).tax_system is TaxSystem.SIMPLIFIED_IN


def test_obsolete_stored_values_are_refused_with_the_replacement() -> None:
    with pytest.raises(ValueError, match="20%"):
        register_settings(FullReg(vat="18", tax_change_date=None))


@pytest.mark.parametrize("args, expected", [
    (("", "sale", "1001", "", 1), "sale-1001-1"),
    (("shop1-", "refund", "1001", "all", 2), "shop1-refund-1001-all-2"),
])
def test_external_ids_are_deterministic(args, expected) -> None:
    assert make_external_id(*args) == expected
    assert make_external_id(*args) == make_external_id(*args)


def test_long_external_ids_are_hashed_under_128() -> None:
    external_id = make_external_id("", "sale", "x" * 200, "", 1)
    assert len(external_id) <= 128 and external_id.startswith("sale-") and external_id.endswith("-1")


def test_reasons_use_region_labels() -> None:
    route = choose_register([Reg(1, "msk")], "nsk", online=True, labels={"nsk": "Новосибирск"})
    assert route.reason == "Нет активной кассы для региона «Новосибирск»"
