"""Demo data: a tea shop's catalogue, customers, coupons and two cash registers.

Every case is visible at once: Москва has a register that fiscalizes online
payments by itself (ОСН, НДС 22%), Санкт-Петербург one that waits for a manual
send (УСН доход, без НДС), and Новосибирск none at all. ``seed()`` is
idempotent: it adds only what is missing.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Flask

from flask_komtet.enums import Measure, PaymentObject, SettlementScheme, TaxSystem

from .extensions import db, kassa
from .models import Coupon, Customer, Product

__all__ = ["DEMO_REGISTERS", "install", "seed"]

D = Decimal
KG, SERVICE = int(Measure.KILOGRAM), PaymentObject.SERVICE.value

PRODUCTS = [
    # name, price, vat (None: the register's), measure, payment object, colour, description
    ("Да Хун Пао, улун на развес", D("4800.00"), None, KG, None, "#8b4a2b",
     "Утесный улун из Уишаня с нотами печеного хлеба и сухофруктов. Цена за килограмм: отвесим от 50 г."),
    ("Те Гуань Инь, 100 г", D("650.00"), None, None, None, "#6f9a4c",
     "Светлый аньсийский улун: сирень, сливки, долгое сладкое послевкусие."),
    ("Шу пуэр «Гунтин», блин 357 г", D("2900.00"), None, None, None, "#4a2f22",
     "Выдержанный пуэр из Мэнхая. Глубокий, бархатный, без сырости."),
    ("Сенча «Утренняя», 100 г", D("540.00"), None, None, None, "#7fae3c",
     "Японский зеленый чай пропаривания: свежая трава, морской бриз."),
    ("Исинский чайник, 200 мл", D("3200.00"), None, None, None, "#a0522d",
     "Ручная работа из цзыша. Для улунов и пуэров."),
    ("Гайвань фарфоровая, 150 мл", D("1250.00"), None, None, None, "#5b7fa6",
     "Классическая чашка с крышкой и блюдцем — для любого чая."),
    ("Книга «Путь чая»", D("890.00"), "10", None, None, "#b08d57",
     "История, сорта и заваривание. Книги облагаются НДС 10%."),
    ("Заварочный мастер-класс", D("2500.00"), None, None, SERVICE, "#c26d3a",
     "Два часа в нашей чайной: учимся заваривать улуны и пуэры. Это услуга — так и в чеке."),
]

#: A partner's goods the shop sells as commissionaire (agent lines beside its own): supplier name, INN, phone.
PARTNER_PRODUCTS = [
    ("Пиала мастера Ли (товар партнера)", D("1800.00"), "#9c6b3f",
     "Ручная керамика из Цзиндэчжэня. Продаем по договору комиссии: в чеке — поставщик и его ИНН.",
     "ООО «Керамика Ли»", "5001007329", "+7 495 123-45-67"),
]

CUSTOMERS = [
    ("Анна Смирнова", "anna@example.com", None, "msk"),
    ("Петр Иванов", None, "+7 921 555-12-34", "spb"),
    ("Ольга Кузнецова", "olga@example.com", "+7 913 700-00-11", "nsk"),
]
#: A company that buys for its office (B2B): its INN and name go on the receipt.
COMPANY_CUSTOMERS = [("ООО «Чайный клуб»", "office@teaclub.example", None, "msk", "7801123455")]

COUPONS = [("ЧАЙ10", 10, None), ("ПОДАРОК300", None, D("300.00"))]

#: The registers and the KOMTET shops (ShopID, Secret, queue) the emulator is started with.
DEMO_REGISTERS: list[dict[str, Any]] = [
    dict(name="Москва, Тверская", region="msk", shop_id="demo-msk", secret="demo-msk-secret", queue_id=1,
         tax_system=int(TaxSystem.COMMON), vat="22", auto_fiscalize=True, print_receipt=True,
         cashier_name="Кассир Смирнова А. В."),
    dict(name="Санкт-Петербург, Невский", region="spb", shop_id="demo-spb", secret="demo-spb-secret",
         queue_id=1, tax_system=int(TaxSystem.SIMPLIFIED_IN), vat="no", auto_fiscalize=False,
         print_receipt=False),
]


def seed(shop_url: str | None = None, *, registers: bool = True) -> list[Any]:
    """Add the demo rows that are missing (inside an app context); returns the demo registers.

    ``shop_url`` is the place of settlement printed on receipts (the shop's address).
    ``registers=False`` leaves the cash registers to be entered in the admin (real KOMTET).
    """
    if db.session.scalar(db.select(db.func.count()).select_from(Product)) == 0:
        for name, price, vat, measure, payment_object, color, description in PRODUCTS:
            db.session.add(Product(name=name, price=price, vat=vat, measure=measure or int(Measure.PIECE),
                                   payment_object=payment_object or PaymentObject.PRODUCT.value, color=color,
                                   description=description))
        for name, price, color, description, supplier, inn, phone in PARTNER_PRODUCTS:
            db.session.add(Product(name=name, price=price, color=color, description=description,
                                   supplier_name=supplier, supplier_inn=inn, supplier_phone=phone))
    if db.session.scalar(db.select(db.func.count()).select_from(Customer)) == 0:
        for name, email, phone, region in CUSTOMERS:
            db.session.add(Customer(name=name, email=email, phone=phone, region=region))
        for name, email, phone, region, inn in COMPANY_CUSTOMERS:
            db.session.add(Customer(name=name, email=email, phone=phone, region=region, inn=inn))
    for code, percent, amount in COUPONS:
        if db.session.scalar(db.select(Coupon).filter_by(code=code)) is None:
            db.session.add(Coupon(code=code, percent=percent, amount=amount))
    result = []
    if registers:
        CashRegister = kassa.models.CashRegister
        for fields in DEMO_REGISTERS:
            register = db.session.scalar(db.select(CashRegister).filter_by(shop_id=fields["shop_id"]))
            if register is None:
                register = CashRegister(**fields, payment_method="full_payment",
                                        settlement_scheme=SettlementScheme.SINGLE.value)
                db.session.add(register)
            register.payment_address = shop_url or register.payment_address or "http://127.0.0.1"
            result.append(register)
    db.session.commit()
    return result


def install(app: Flask, shop_url: str, emulator: Any = None, *, reset: bool = False, history: bool = False) -> None:
    """Create the tables and the demo data; with a ``KomtetEmulator``, also the demo registers and their
    KOMTET shops in the emulator (with the registers' webhook URLs). ``history``: six weeks of past
    receipts for «Сводка» (:mod:`.history`)."""
    with app.app_context():
        if reset:
            db.drop_all()
        db.create_all()
        registers = seed(shop_url, registers=emulator is not None)
        for register in registers:
            emulator.add_shop(register.shop_id, register.secret, (register.queue_id,),
                              success_url=kassa.state.webhook_url(register.id, "success"),
                              failure_url=kassa.state.webhook_url(register.id, "failure"))
        if history and registers:
            from .history import seed_history

            seed_history(db, kassa.models, registers)
