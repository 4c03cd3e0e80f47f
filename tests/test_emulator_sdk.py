"""What KOMTET's own SDK (komtet-kassa-sdk 8.1.0, v2) builds, the emulator accepts: the SDK signs, sends and reads."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from flask_komtet.emulator import KomtetEmulator
from tests.test_emulator_support import GS, GS1M, SECRET, SHOP

sdk = pytest.importorskip("komtet_kassa_sdk.v2")
INN10, INN12 = "7707083893", "500100732259"
PHONE = "+79991234567"


@pytest.fixture
def client() -> Iterator[tuple[Any, KomtetEmulator]]:
    with KomtetEmulator(delay=0.01, seed=1) as emulator:
        emulator.add_shop(SHOP, SECRET, (1,))
        api = sdk.Client(SHOP, SECRET)
        api.set_host(emulator.url)
        yield api, emulator


def position(name: str, price: str, quantity: Any = 1, **kwargs: Any) -> Any:
    kwargs.setdefault("measure", sdk.MeasureTypes.PIECE)
    kwargs.setdefault("payment_object", sdk.PaymentObject.PRODUCT)
    kwargs.setdefault("payment_method", sdk.PaymentMethod.FULL_PAYMENT)
    return sdk.Position(name=name, price=Decimal(price), quantity=quantity, **kwargs)


def pay_in_full(check: Any) -> Any:
    check.add_payment(sum(Decimal(str(p["total"])) for p in check["positions"]))
    return check


def marked_goods_check(oid: str) -> Any:
    check = sdk.Check(oid, sdk.Intent.SELL)
    check.set_client(email="b@example.com", phone=PHONE, name="ООО Покупатель", inn=INN10, birthdate="01.02.1990",
                     citizenship="643", document_code="21", document_data="4507 443564", address="Москва")
    check.set_company(payment_address="https://shop.example", tax_system=sdk.TaxSystem.SIMPLIFIED_IN, inn=INN10,
                      place_address="Москва, ул. Тверская, 1")
    check.set_cashier("Иванов", INN12)
    check.set_internet(True)
    check.set_timezone(sdk.TimeZone.TIME_ZONE_2)
    check.set_callback_url("https://shop.example/komtet")
    check.set_additional_check_props("доп. реквизит")
    check.set_additional_user_props("Бонус", "100")
    check.add_sectoral_check_props("030", "21.11.2023", "1944", "UUID=4f0a&Time=1700000000")
    check.set_operating_check_props("0", "данные", "01.12.2026 10:00:00")
    shoes = position("Кроссовки", "4990", vat=sdk.VatRate.RATE_5, payment_object=sdk.PaymentObject.TM)
    shoes.set_mark_code(sdk.MarkTypes.GS1M, GS1M)
    shoes.set_planned_status(sdk.PlannedStatus.PLANNED_STATUS_1)
    shoes.add_sectoral_item_props("030", "21.11.2023", "1944", "UUID=4f0a&Time=1700000000")
    check.add_position(shoes)
    cigarettes = position("Сигареты, 1/10 блока", "190", vat=sdk.VatRate.RATE_5, payment_object=sdk.PaymentObject.ATM)
    cigarettes.set_mark_code(sdk.MarkTypes.GS1M, "0104600439931256" + "21JgXJ5.T" + GS + "8005112000" + GS + "930000")
    cigarettes.set_mark_quantity(1, 10)
    check.add_position(cigarettes)
    cheese = position("Сыр весовой", "900", Decimal("0.35"), measure=sdk.MeasureTypes.KILOGRAMM,
                      payment_object=sdk.PaymentObject.TM, vat="5")
    cheese.set_mark_code(sdk.MarkTypes.GS1M, "0104607001234563" + "21ab12cd" + GS + "93dGVz")
    cheese.set_planned_status(sdk.PlannedStatus.PLANNED_STATUS_2)
    check.add_position(cheese)
    wholesale = position("Вода, короб", "600", 12, total=Decimal("7200"), excise=Decimal("0"), country_code="056",
                         declaration_number="10702070/010120/0000001", user_data="партия 7", id="sku-7")
    wholesale.set_mark_code(sdk.MarkTypes.ITF14, "14600000000005")
    wholesale.set_wholesale(True)
    check.add_position(wholesale)
    check.apply_discount(Decimal("100"))
    pay_in_full(check)
    total = sum(p["sum"] for p in check["payments"])
    check.add_cashless_payment(total, 1, "tx-1", "Оплата по СБП")
    return check


def agents_check(oid: str) -> Any:
    check = sdk.Check(oid, sdk.Intent.SELL)
    check.set_client(email="b@example.com")
    check.set_company(payment_address="https://shop.example", tax_system=sdk.TaxSystem.COMMON)
    commission = position("Книга комитента", "500", vat=sdk.VatRate.RATE_22)
    commission.set_agent(sdk.Agent(sdk.AgentType.COMMISSIONAIRE, PHONE, "ООО Комитент", INN10))
    check.add_position(commission)
    payment_agent = sdk.Agent(sdk.AgentType.PAYMENT_AGENT, PHONE, "ООО Поставщик", INN10)
    payment_agent.set_paying_agent_info([PHONE], "Оплата услуг")
    payment_agent.set_receive_payments_operator(["+79990001122"])
    service = position("Услуга связи", "300", payment_object=sdk.PaymentObject.SERVICE)
    service.set_agent(payment_agent)
    check.add_position(service)
    bank_agent = sdk.Agent(sdk.AgentType.BANK_PAYMENT_AGENT)
    bank_agent.set_money_transfer_operator("АО Банк", [PHONE], "Москва", INN10)
    transfer = position("Перевод", "1000", payment_object=sdk.PaymentObject.PAYMENT_OF_THE_MONEY)
    transfer.set_agent(bank_agent)
    check.add_position(transfer)
    return pay_in_full(check)


def walk_in_check(oid: str) -> Any:
    check = sdk.Check(oid, sdk.Intent.SELL).set_print(True)  # no set_client: the SDK still sends "client": {}
    check.set_company(payment_address="Москва, ул. Тверская, 1", tax_system=sdk.TaxSystem.PATENT)
    check.add_position(position("Кофе", "150"))
    check.add_payment(Decimal("150"), sdk.PaymentType.CASH)
    return check


def correction_check(oid: str) -> Any:
    check = sdk.CorrectionCheck(oid, sdk.Intent.SELL_CORRECTION)
    check.set_correction_info(sdk.CorrectionType.INSTRUCTION, "01.12.2025", "12-09/345")
    check.set_authorised_person("Петров Петр", INN12)
    check.set_company(payment_address="https://shop.example", tax_system=sdk.TaxSystem.COMMON)
    check.set_client(email="b@example.com")
    check.set_timezone(sdk.TimeZone.TIME_ZONE_2)
    check.add_position(position("Чай", "350", 2, vat=sdk.VatRate.RATE_20))  # 20 % was in force on 01.12.2025
    return pay_in_full(check)


BUILDERS = {"marks, client details, cashless, timezone": marked_goods_check, "agents": agents_check,
            "printed walk-in": walk_in_check, "correction with authorised person": correction_check}


@pytest.mark.parametrize("build", BUILDERS.values(), ids=BUILDERS.keys())
def test_sdk_receipts_are_accepted_and_fiscalized(client: tuple[Any, KomtetEmulator], build: Any) -> None:
    api, emulator = client
    check = build(f"sdk-{build.__name__}")
    task = api.create_task(check, 1)
    assert task.state == "new"
    assert emulator.wait_idle(5)
    info = api.get_task_info(task.id)
    assert info.state == "done", info.error_description
    assert Decimal(info.fiscal_data["s"]) == sum(Decimal(str(p["sum"])) for p in check["payments"])


def test_sdk_batch_is_accepted(client: tuple[Any, KomtetEmulator]) -> None:
    api, emulator = client
    tasks = api.create_tasks([builder(f"batch-{name}") for name, builder in BUILDERS.items()], 1)
    assert [t.state for t in tasks] == ["new"] * len(BUILDERS)
    assert emulator.wait_idle(5)
    assert {emulator.task(t.id).state for t in tasks} == {"done"}
