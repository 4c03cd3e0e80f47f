"""FFD 1.2 details of an order, as the shop gives them: agents and suppliers, receipt props.

Plain frozen dataclasses like :mod:`.orders` (which uses them): ``Agent`` and
``Supplier`` on an order line, ``UserProp``, ``SectoralProp`` and
``OperatingProp`` on the order. Each field is named as the official SDK
(``komtet_kassa_sdk.v2``, ``agent.py`` and ``check.py``) names it, and each
accepts a dict of the same shape in place of the dataclass. Only types are
coerced here (text, lists of phones, enums, dates), each error naming the field;
what the law and KOMTET ask of the values (INN check digits, phone format,
lengths, which agent may carry which details) is checked by the receipt builder
(:mod:`.receipts.agents`, :mod:`.receipts.props`), naming the field in the order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .enums import AgentType
from .errors import InvalidOrder
from .values import show, to_decimal, to_enum, to_text

__all__ = ["BUYER_DETAILS", "LINE_DETAILS", "ORDER_DETAILS", "PAYMENT_DETAILS", "Agent", "MoneyTransferOperator",
           "OperatingProp", "PayingAgent", "ReceivePaymentsOperator", "SectoralProp", "Supplier", "UserProp",
           "coerce", "coerce_all", "init_line_details", "plain_details", "to_day", "to_phones"]


#: The FFD 1.2 fields of ``OrderLine``, ``Customer``, ``Payment`` and ``Order``, by name (the default adapter reads them).
LINE_DETAILS = ("agent", "supplier", "excise", "country_code", "declaration_number", "user_data", "wholesale")
BUYER_DETAILS = ("birthdate", "citizenship", "document_code", "document_data", "address")
PAYMENT_DETAILS = ("cashless_method", "cashless_id", "cashless_info")
ORDER_DETAILS = ("additional_check_props", "additional_user_props", "sectoral_check_props", "operating_check_props")


Day = date  # the type of SectoralProp.date, a field named as the SDK names it


def to_phones(value: Any, name: str) -> tuple[str, ...]:
    """A list of phones as text (one phone alone is taken as a list of one)."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        value = [value]
    if isinstance(value, (bytes, Mapping)) or not isinstance(value, Iterable):
        raise InvalidOrder(f"ожидается список телефонов, получено {type(value).__name__}", field=name)
    phones = tuple(to_text(phone, f"{name}[{index}]") for index, phone in enumerate(value))
    return tuple(phone for phone in phones if phone)


def to_day(value: Any, name: str) -> date | None:
    """A date from a ``date``, a ``datetime``, ``dd.mm.yyyy`` or ISO ``yyyy-mm-dd``; the value is never echoed."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        for pattern in ("%d.%m.%Y", "%Y-%m-%d"):
            try:
                return datetime.strptime(text, pattern).date()
            except ValueError:
                continue
    raise InvalidOrder("ожидается дата: date, «дд.мм.гггг» или «гггг-мм-дд»", field=name)


def coerce(value: Any, cls: type, name: str) -> Any:
    """``value`` as ``cls`` (an instance, a dict of its fields, or ``None``), errors prefixed with ``name``."""
    if value is None or isinstance(value, cls):
        return value
    if not isinstance(value, Mapping):
        raise InvalidOrder(f"ожидается {cls.__name__} или словарь, получено {type(value).__name__} {show(value)}",
                           field=name)
    try:
        return cls(**value)
    except InvalidOrder as exc:
        raise InvalidOrder({f"{name}.{key}" if key != "order" else name: message
                            for key, message in exc.errors.items()}) from None
    except TypeError as exc:  # unknown or missing keys
        raise InvalidOrder(str(exc), field=name) from None


def coerce_all(value: Any, cls: type, name: str) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise InvalidOrder(f"ожидается список, получено {type(value).__name__}", field=name)
    return tuple(coerce(item, cls, f"{name}[{index}]") for index, item in enumerate(value))


def _texts(obj: Any, *names: str) -> None:
    for name in names:
        object.__setattr__(obj, name, to_text(getattr(obj, name), name))


@dataclass(frozen=True, slots=True)
class Supplier:
    """The supplier (principal) of an agent's line: tags 1224 (1225 name, 1171 phones) and 1226 (INN).

    SDK ``Agent.set_supplier_info(name, phones, inn)``. Its INN is required on an agent's line.
    """

    name: str | None = None
    inn: str | None = None
    phones: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _texts(self, "name", "inn")
        object.__setattr__(self, "phones", to_phones(self.phones, "phones"))


@dataclass(frozen=True, slots=True)
class PayingAgent:
    """SDK ``Agent.set_paying_agent_info(phones, operation)``: tags 1073 (phones) and 1044 (operation, ≤ 24)."""

    phones: tuple[str, ...] = ()
    operation: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "phones", to_phones(self.phones, "phones"))
        _texts(self, "operation")


@dataclass(frozen=True, slots=True)
class ReceivePaymentsOperator:
    """SDK ``Agent.set_receive_payments_operator(phones)``: tag 1074."""

    phones: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "phones", to_phones(self.phones, "phones"))


@dataclass(frozen=True, slots=True)
class MoneyTransferOperator:
    """SDK ``Agent.set_money_transfer_operator(name, phones, address, inn)``: tags 1026, 1075, 1005, 1016."""

    name: str | None = None
    phones: tuple[str, ...] = ()
    address: str | None = None
    inn: str | None = None

    def __post_init__(self) -> None:
        _texts(self, "name", "address", "inn")
        object.__setattr__(self, "phones", to_phones(self.phones, "phones"))


@dataclass(frozen=True, slots=True)
class Agent:
    """The agent's role on a line (tag 1222, SDK ``AgentType``) and the details that role may carry.

    ``paying_agent`` is for (bank) payment agents and subagents, ``receive_payments_operator``
    for payment agents and subagents, ``money_transfer_operator`` for bank payment agents and
    subagents (FFD 1.2). Each accepts a dict in the SDK's shape (``{"phones": [...]}``).
    """

    type: AgentType
    paying_agent: PayingAgent | None = None
    receive_payments_operator: ReceivePaymentsOperator | None = None
    money_transfer_operator: MoneyTransferOperator | None = None

    def __post_init__(self) -> None:
        kind = to_enum(AgentType, self.type, "type")
        if kind is None:
            raise InvalidOrder("обязательное поле: роль агента (" + ", ".join(m.value for m in AgentType) + ")",
                               field="type")
        set_ = object.__setattr__
        set_(self, "type", kind)
        set_(self, "paying_agent", coerce(self.paying_agent, PayingAgent, "paying_agent"))
        set_(self, "receive_payments_operator",
             coerce(self.receive_payments_operator, ReceivePaymentsOperator, "receive_payments_operator"))
        set_(self, "money_transfer_operator",
             coerce(self.money_transfer_operator, MoneyTransferOperator, "money_transfer_operator"))


@dataclass(frozen=True, slots=True)
class UserProp:
    """Additional user prop (tag 1084): name (1085, ≤ 64) and value (1086, ≤ 234). SDK ``set_additional_user_props``."""

    name: str
    value: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", to_text(self.name, "name", required=True))
        object.__setattr__(self, "value", to_text(self.value, "value", required=True))


@dataclass(frozen=True, slots=True)
class SectoralProp:
    """Sectoral check prop (tag 1261): ФОИВ id (3 digits), the act's date and number, the value.

    SDK ``Check.add_sectoral_check_props(federal_id, date, number, value)``.
    """

    federal_id: str
    date: Day
    number: str
    value: str

    def __post_init__(self) -> None:
        for name in ("federal_id", "number", "value"):
            object.__setattr__(self, name, to_text(getattr(self, name), name, required=True))
        day = to_day(self.date, "date")
        if day is None:
            raise InvalidOrder("is required", field="date")
        object.__setattr__(self, "date", day)


@dataclass(frozen=True, slots=True)
class OperatingProp:
    """Operating check prop (tag 1270): operation id (1271), data (1272), time (1273).

    SDK ``Check.set_operating_check_props(name, value, timestamp)``; ``timestamp`` a ``datetime``
    or «дд.мм.гггг ЧЧ:ММ:СС».
    """

    name: str | int
    value: str
    timestamp: datetime | str

    def __post_init__(self) -> None:
        if not (isinstance(self.name, int) and not isinstance(self.name, bool)):
            object.__setattr__(self, "name", to_text(self.name, "name", required=True))
        object.__setattr__(self, "value", to_text(self.value, "value", required=True))
        stamp: Any = self.timestamp
        if isinstance(stamp, str):
            try:
                stamp = datetime.strptime(stamp.strip(), "%d.%m.%Y %H:%M:%S")
            except ValueError:
                raise InvalidOrder("ожидается «дд.мм.гггг ЧЧ:ММ:СС» или datetime", field="timestamp") from None
        if not isinstance(stamp, datetime):
            raise InvalidOrder("ожидается «дд.мм.гггг ЧЧ:ММ:СС» или datetime", field="timestamp")
        object.__setattr__(self, "timestamp", stamp)


def init_line_details(line: Any) -> None:
    """Coerce an ``OrderLine``'s FFD 1.2 fields in place (its ``__post_init__`` calls this)."""
    set_ = object.__setattr__
    set_(line, "agent", coerce(line.agent, Agent, "agent"))
    set_(line, "supplier", coerce(line.supplier, Supplier, "supplier"))
    if line.excise is not None and line.excise != "":
        set_(line, "excise", to_decimal(line.excise, "excise"))
    else:
        set_(line, "excise", None)
    code = line.country_code
    if isinstance(code, int) and not isinstance(code, bool) and 0 < code < 1000:
        code = f"{code:03d}"  # OKSM codes are written with leading zeros: 56 → "056"
    set_(line, "country_code", to_text(code, "country_code"))
    set_(line, "declaration_number", to_text(line.declaration_number, "declaration_number"))
    set_(line, "user_data", to_text(line.user_data, "user_data"))
    if not isinstance(line.wholesale, bool):
        raise InvalidOrder(f"ожидается true или false, получено {show(line.wholesale)}", field="wholesale")


def plain_details(value: Any) -> Any:
    """One of this module's dataclasses (or a tuple of them) as JSON-ready data that the classes read back."""
    if isinstance(value, tuple):
        return [plain_details(item) for item in value]
    if hasattr(value, "__dataclass_fields__"):
        data = {}
        for f in fields(value):
            item = getattr(value, f.name)
            if item is None or item == ():
                continue
            data[f.name] = plain_details(item)
        return data
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, AgentType):
        return value.value
    return value
