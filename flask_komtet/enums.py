"""KOMTET Kassa enumerations with the Russian labels that shop owners know.

Every enum member carries ``.label`` (shown in the admin) and every enum has
``choices()`` (pairs for select fields) and ``parse(value)``, which accepts the
member, its wire value or its label and refuses obsolete codes with a message
that says what replaced them.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Self

__all__ = [
    "AgentType",
    "CorrectionType",
    "Intent",
    "Measure",
    "PaymentMethod",
    "PaymentObject",
    "PaymentType",
    "ReceiptKind",
    "ReceiptState",
    "SettlementScheme",
    "TaxSystem",
    "TimeZone",
    "VatRate",
]


_PARSED: dict[tuple[type, type, Any], Any] = {}  # (enum, type, input) -> member, for the hot paths
_PARSED_MAX = 4096


class _Labeled(Enum):
    """An enum whose members are declared as ``(wire value, Russian label)``."""

    label: str

    def __new__(cls, value: Any, label: str) -> Self:
        base = int if isinstance(value, int) else str
        new: Any = base.__new__  # int's or str's, for the mixin
        obj: Self = new(cls, value)
        obj._value_ = value
        obj.label = label
        return obj

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def choices(cls) -> list[tuple[Any, str]]:
        return [(m.value, m.label) for m in cls]

    @classmethod
    def parse(cls, value: Any) -> Self:
        """Return the member for ``value`` (member, wire value or label)."""
        if isinstance(value, cls):
            return value
        key = (cls, type(value), value) if type(value) in (int, str) else None
        member = _PARSED.get(key) if key is not None else None
        if member is None:
            member = cls._parse(value)
            if key is not None and len(_PARSED) < _PARSED_MAX:
                _PARSED[key] = member
        return member

    @classmethod
    def _parse(cls, value: Any) -> Self:
        obsolete = cls._obsolete_message(value)
        if obsolete:
            raise ValueError(obsolete)
        for member in cls:
            if value == member.value or str(value) == str(member.value) or value == member.label:
                return member
        allowed = ", ".join(str(m.value) for m in cls)
        raise ValueError(f"{cls.__name__}: unknown value {value!r}; expected one of: {allowed}")

    @classmethod
    def _obsolete_message(cls, value: Any) -> str | None:
        return None


class TaxSystem(int, _Labeled):
    """Система налогообложения (СНО), ``company.sno``."""

    COMMON = 0, "ОСН"
    SIMPLIFIED_IN = 1, "УСН доход"
    SIMPLIFIED_IN_OUT = 2, "УСН доход − расход"
    UST = 4, "ЕСХН"
    PATENT = 5, "Патент"

    @classmethod
    def _obsolete_message(cls, value: Any) -> str | None:
        if str(value).strip().upper() in {"3", "ЕНВД", "UTOII"}:
            return (
                "Система налогообложения ЕНВД отменена с 1 января 2021 года и больше не "
                "принимается КОМТЕТ Кассой: выберите УСН, Патент или ОСН."
            )
        return None


class VatRate(str, _Labeled):
    """Ставка НДС позиции, ``positions[].vat``."""

    NO = "no", "Без НДС"
    RATE_0 = "0", "НДС 0%"
    RATE_5 = "5", "НДС 5%"
    RATE_7 = "7", "НДС 7%"
    RATE_10 = "10", "НДС 10%"
    RATE_20 = "20", "НДС 20%"
    RATE_22 = "22", "НДС 22%"
    RATE_105 = "105", "НДС 5/105"
    RATE_107 = "107", "НДС 7/107"
    RATE_110 = "110", "НДС 10/110"
    RATE_120 = "120", "НДС 20/120"
    RATE_122 = "122", "НДС 22/122"

    @property
    def calculated(self) -> VatRate:
        """The calculated rate used on prepayment receipts (20 → 20/120)."""
        return _CALCULATED.get(self, self)

    @property
    def plain(self) -> VatRate:
        """The plain rate behind a calculated one (20/120 → 20)."""
        return _PLAIN.get(self, self)

    @property
    def is_calculated(self) -> bool:
        return self in _PLAIN

    @property
    def percent(self) -> int:
        """The rate in percent (0 for «Без НДС»)."""
        return 0 if self is VatRate.NO else int(self.plain.value)

    @classmethod
    def _parse(cls, value: Any) -> VatRate:
        """Accept ``20``, ``"20"``, ``"20%"``, ``0.2``, ``"20/120"``, ``"no"``, ``None`` (no VAT)."""
        if value is None:
            return cls.NO
        text = str(value).strip().lower().replace(" ", "").replace("%", "").replace("ндс", "")
        if text in {"", "none", "no", "безндс", "без"}:
            return cls.NO
        if "/" in text:
            text = text.split("/", 1)[1]
        else:
            try:
                number = float(text)
            except ValueError:
                number = None
            if number is not None and 0 < number < 1:
                text = str(round(number * 100))
            elif number is not None and number == int(number):
                text = str(int(number))
        if text in {"18", "118"}:
            return _refuse_vat18(text)
        return super()._parse(text)

    @classmethod
    def _obsolete_message(cls, value: Any) -> str | None:
        return None


def _refuse_vat18(text: str) -> VatRate:
    replacement = "20%" if text == "18" else "20/120"
    raise ValueError(
        f"Ставка НДС {'18%' if text == '18' else '18/118'} отменена с 1 января 2019 года и "
        f"больше не принимается КОМТЕТ Кассой: используйте {replacement} "
        f"(с 1 января 2026 года — {'22%' if text == '18' else '22/122'})."
    )


_CALCULATED = {
    VatRate.RATE_5: VatRate.RATE_105,
    VatRate.RATE_7: VatRate.RATE_107,
    VatRate.RATE_10: VatRate.RATE_110,
    VatRate.RATE_20: VatRate.RATE_120,
    VatRate.RATE_22: VatRate.RATE_122,
}
_PLAIN = {calculated: plain for plain, calculated in _CALCULATED.items()}


class PaymentMethod(str, _Labeled):
    """Способ расчета (tag 1214), ``positions[].payment_method``."""

    ADVANCE = "advance", "Аванс"
    FULL_PAYMENT = "full_payment", "Полный расчет"
    PRE_PAYMENT_FULL = "pre_payment_full", "Предоплата 100%"
    PRE_PAYMENT_PART = "pre_payment_part", "Предоплата частичная"
    CREDIT_PART = "credit_part", "Частичный расчет и кредит"
    CREDIT_PAY = "credit_pay", "Оплата кредита"
    CREDIT = "credit", "Передача в кредит"

    @property
    def is_prepayment(self) -> bool:
        """Advance and prepayment receipts: calculated VAT, a settlement receipt later."""
        return self in (PaymentMethod.ADVANCE, PaymentMethod.PRE_PAYMENT_FULL, PaymentMethod.PRE_PAYMENT_PART)


class PaymentObject(str, _Labeled):
    """Предмет расчета (tag 1212), ``positions[].payment_object``."""

    PRODUCT = "product", "Товар"
    PRODUCT_PRACTICAL = "product_practical", "Подакцизный товар"
    WORK = "work", "Работа"
    SERVICE = "service", "Услуга"
    GAMBLING_BET = "gambling_bet", "Ставка азартной игры"
    GAMBLING_WIN = "gambling_win", "Выигрыш азартной игры"
    LOTTERY_BET = "lottery_bet", "Лотерейный билет"
    LOTTERY_WIN = "lottery_win", "Выигрыш лотереи"
    RID = "rid", "Предоставление РИД"
    PAYMENT = "payment", "Платеж"
    COMMISSION = "commission", "Агентское вознаграждение"
    COMPOSITE = "composite", "Составной предмет расчета"
    PAY = "pay", "Выплата"
    OTHER = "other", "Иной предмет расчета"
    PROPERTY_RIGHT = "property_right", "Имущественное право"
    NON_OPERATING = "non_operating", "Внереализационный доход"
    INSURANCE = "insurance", "Страховые взносы"
    SALES_TAX = "sales_tax", "Торговый сбор"
    RESORT_FEE = "resort_fee", "Курортный сбор"
    DEPOSIT = "deposit", "Залог"
    CONSUMPTION = "consumption", "Расход"
    SOLE_PROPRIETOR_CPI_CONTRIBUTINS = "sole_proprietor_cpi_contributins", "Взносы на ОПС ИП"
    CPI_CONTRIBUTINS = "cpi_contributins", "Взносы на ОПС"
    SOLE_PROPRIETOR_CMI_CONTRIBUTINS = "sole_proprietor_cmi_contributins", "Взносы на ОМС ИП"
    CMI_CONTRIBUTINS = "cmi_contributins", "Взносы на ОМС"
    CSI_CONTRIBUTINS = "csi_contributins", "Взносы на ОСС"
    CASINO_PAYMENT = "casino_payment", "Платеж казино"
    PAYMENT_OF_THE_MONEY = "payment_of_the_money", "Выдача денежных средств"
    ATNM = "atnm", "Подакцизный маркированный товар без кода"
    ATM = "atm", "Подакцизный маркированный товар с кодом"
    TNM = "tnm", "Маркированный товар без кода"
    TM = "tm", "Маркированный товар с кодом"


class PaymentType(str, _Labeled):
    """Вид оплаты, ``payments[].type``."""

    CARD = "card", "Безналичными"
    CASH = "cash", "Наличными"
    PREPAYMENT = "prepayment", "Зачет аванса (предоплаты)"
    CREDIT = "credit", "Постоплата (кредит)"
    COUNTER_PROVISIONING = "counter_provisioning", "Встречное предоставление"


class AgentType(str, _Labeled):
    """Признак агента по предмету расчета (tag 1222), ``positions[].agent_info.type`` (SDK ``AgentType``)."""

    BANK_PAYMENT_AGENT = "bank_payment_agent", "Банковский платежный агент"
    BANK_PAYMENT_SUBAGENT = "bank_payment_subagent", "Банковский платежный субагент"
    PAYMENT_AGENT = "payment_agent", "Платежный агент"
    PAYMENT_SUBAGENT = "payment_subagent", "Платежный субагент"
    SOLICITOR = "solicitor", "Поверенный"
    COMMISSIONAIRE = "commissionaire", "Комиссионер"
    AGENT = "agent", "Агент"

    @property
    def is_payment_agent(self) -> bool:
        """A (bank) payment agent or subagent: the ones that may carry paying-agent and operator details."""
        return "payment" in str(self.value)

    @property
    def is_bank_agent(self) -> bool:
        return str(self.value).startswith("bank_")


class TimeZone(int, _Labeled):
    """Часовая зона места расчетов (tag 1011), ``timezone`` (SDK ``TimeZone``: 1..11 = UTC+2..UTC+12)."""

    UTC2 = 1, "UTC+2 (МСК−1, Калининград)"
    UTC3 = 2, "UTC+3 (МСК, Москва)"
    UTC4 = 3, "UTC+4 (МСК+1, Самара)"
    UTC5 = 4, "UTC+5 (МСК+2, Екатеринбург)"
    UTC6 = 5, "UTC+6 (МСК+3, Омск)"
    UTC7 = 6, "UTC+7 (МСК+4, Красноярск)"
    UTC8 = 7, "UTC+8 (МСК+5, Иркутск)"
    UTC9 = 8, "UTC+9 (МСК+6, Якутск)"
    UTC10 = 9, "UTC+10 (МСК+7, Владивосток)"
    UTC11 = 10, "UTC+11 (МСК+8, Магадан)"
    UTC12 = 11, "UTC+12 (МСК+9, Камчатка)"


class Intent(str, _Labeled):
    """Признак расчета, ``intent``."""

    SELL = "sell", "Приход"
    SELL_RETURN = "sellReturn", "Возврат прихода"
    BUY = "buy", "Расход"
    BUY_RETURN = "buyReturn", "Возврат расхода"
    SELL_CORRECTION = "sellCorrection", "Коррекция прихода"
    SELL_RETURN_CORRECTION = "sellReturnCorrection", "Коррекция возврата прихода"
    BUY_CORRECTION = "buyCorrection", "Коррекция расхода"
    BUY_RETURN_CORRECTION = "buyReturnCorrection", "Коррекция возврата расхода"

    @property
    def is_correction(self) -> bool:
        return str(self.value).endswith("Correction")


class Measure(int, _Labeled):
    """Мера количества (tag 2108), ``positions[].measure``."""

    PIECE = 0, "шт"
    GRAM = 10, "г"
    KILOGRAM = 11, "кг"
    TON = 12, "т"
    CENTIMETER = 20, "см"
    DECIMETER = 21, "дм"
    METER = 22, "м"
    SQUARE_CENTIMETER = 30, "кв. см"
    SQUARE_DECIMETER = 31, "кв. дм"
    SQUARE_METER = 32, "кв. м"
    MILLILITER = 40, "мл"
    LITER = 41, "л"
    CUBIC_METER = 42, "куб. м"
    KILOWATT_HOUR = 50, "кВт·ч"
    GIGACALORIE = 51, "Гкал"
    DAY = 70, "сутки"
    HOUR = 71, "час"
    MINUTE = 72, "мин"
    SECOND = 73, "с"
    KILOBYTE = 80, "Кбайт"
    MEGABYTE = 81, "Мбайт"
    GIGABYTE = 82, "Гбайт"
    TERABYTE = 83, "Тбайт"
    OTHER = 255, "иная единица"


class CorrectionType(str, _Labeled):
    """Тип коррекции, ``correction_info.type``."""

    SELF = "self", "Самостоятельно"
    INSTRUCTION = "instruction", "По предписанию"


class ReceiptState(str, _Labeled):
    """Where a receipt is in its life; only the outbox moves it."""

    HELD = "held", "Ожидает ручной отправки"
    QUEUED = "queued", "В очереди"
    SENDING = "sending", "Отправляется"
    SENT = "sent", "Отправлен"
    DONE = "done", "Выполнен"
    ERROR = "error", "Ошибка"
    FAILED = "failed", "Не отправлен"

    @property
    def is_final(self) -> bool:
        return self in (ReceiptState.DONE, ReceiptState.ERROR, ReceiptState.FAILED)


class ReceiptKind(str, _Labeled):
    """Why a receipt exists; part of its external id."""

    SALE = "sale", "Продажа"
    REFUND = "refund", "Возврат"
    TOP_UP = "topup", "Пополнение баланса"
    MANUAL = "manual", "Ручной чек"
    SETTLEMENT = "settle", "Полный расчет"
    CORRECTION = "correction", "Коррекция"


class SettlementScheme(str, _Labeled):
    """One receipt at payment, or a prepayment receipt and a settlement at shipment."""

    SINGLE = "single", "Один чек (полный расчет при оплате)"
    TWO_RECEIPTS = "two", "Два чека (предоплата, затем полный расчет при отгрузке)"
