"""A position's FFD 1.2 details: the agent and its supplier, excise, origin, declaration, user data, wholesale.

:func:`line_details` turns an order line's details into the position keys the
SDK's ``Position`` and ``Agent`` send (``agent_info``, ``supplier_info``,
``excise``, ``country_code``, ``declaration_number``, ``user_data``,
``wholesale``), checked by FFD 1.2 and KOMTET's limits; a bad value is
:class:`~flask_komtet.errors.InvalidOrder` naming the field in the order
(``lines[2].supplier.inn``).

Rules where the law decides:

* a line sold for someone else carries the agent's role (tag 1222) and its
  supplier (1224) with the supplier's INN (1226), which has 10 or 12 digits and
  valid check digits; a supplier without a role is refused (KOMTET refuses
  ``supplier_info`` without ``agent_info``), unless the register sets a default
  role (``settings.agent_type``), which then applies to every line that names a
  supplier; lines without a supplier are the shop's own (its commission among them);
* the paying agent's details (1044 operation, 1073 phones) belong to (bank)
  payment agents and subagents, the payment operator's phones (1074) to payment
  agents and subagents, the money transfer operator (1005, 1016, 1026, 1075)
  to bank payment agents and subagents;
* phones are written ``+7…`` (:func:`.contacts.normalize_phone`); text over its
  tag's length is refused, never cut (it identifies someone).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..details import Agent, Supplier
from ..enums import AgentType
from ..errors import InvalidOrder
from ..orders import OrderLine
from .contacts import check_inn, normalize_phone
from .money import rubles
from .names import clean_text

__all__ = ["agent_dict", "checked_text", "line_details", "phones_list", "supplier_dict"]

OPERATION_LIMIT = 24  # tag 1044 (SDK set_paying_agent_info)
OPERATOR_NAME_LIMIT = 64  # tag 1026
ADDRESS_LIMIT = 256  # tag 1005
SUPPLIER_NAME_LIMIT = 256  # tag 1225
USER_DATA_LIMIT = 64  # tag 1191
DECLARATION_LIMIT = 32  # tag 1231


def checked_text(value: str | None, limit: int, field: str) -> str | None:
    """Shop text for a tag: cleaned of control characters, ``None`` if nothing is left, refused over ``limit``."""
    if value is None:
        return None
    text = clean_text(value, limit + 1)
    if not text:
        return None
    if len(text) > limit:
        raise InvalidOrder(f"не длиннее {limit} символов", field=field)
    return text


def phones_list(phones: Sequence[str], field: str) -> list[str]:
    result = []
    for index, phone in enumerate(phones):
        try:
            result.append(normalize_phone(phone))
        except ValueError as exc:
            raise InvalidOrder(str(exc), field=f"{field}[{index}]") from None
    return result


def _inn(value: str, field: str) -> str:
    try:
        return check_inn(value)
    except ValueError as exc:
        raise InvalidOrder(str(exc), field=field) from None


def agent_dict(agent: Agent | None, default: AgentType | None, field: str) -> dict[str, Any]:
    """``agent_info`` (SDK ``Agent``): the role and the details it may carry."""
    kind = agent.type if agent is not None else default
    if kind is None:
        return {}
    info: dict[str, Any] = {"type": kind.value}
    if agent is None:
        return info
    if agent.paying_agent is not None:
        where = f"{field}.paying_agent"
        if not kind.is_payment_agent:
            raise InvalidOrder(f"сведения о платежном агенте — только у платежного агента (субагента), "
                               f"а роль «{kind.label}»", field=where)
        paying: dict[str, Any] = {}
        if agent.paying_agent.phones:
            paying["phones"] = phones_list(agent.paying_agent.phones, f"{where}.phones")
        operation = checked_text(agent.paying_agent.operation, OPERATION_LIMIT, f"{where}.operation")
        if operation:
            paying["operation"] = operation
        if not paying:
            raise InvalidOrder("укажите телефоны платежного агента или операцию", field=where)
        info["paying_agent"] = paying
    operator = agent.receive_payments_operator
    if operator is not None:
        where = f"{field}.receive_payments_operator"
        if not kind.is_payment_agent or kind.is_bank_agent:
            raise InvalidOrder(f"оператор по приему платежей — только у платежного агента (субагента), "
                               f"а роль «{kind.label}»", field=where)
        if not operator.phones:
            raise InvalidOrder("укажите телефоны оператора по приему платежей", field=f"{where}.phones")
        info["receive_payments_operator"] = {"phones": phones_list(operator.phones, f"{where}.phones")}
    transfer = agent.money_transfer_operator
    if transfer is not None:
        where = f"{field}.money_transfer_operator"
        if not kind.is_bank_agent:
            raise InvalidOrder(f"оператор перевода — только у банковского платежного агента (субагента), "
                               f"а роль «{kind.label}»", field=where)
        details: dict[str, Any] = {}
        name = checked_text(transfer.name, OPERATOR_NAME_LIMIT, f"{where}.name")
        if name:
            details["name"] = name
        if transfer.phones:
            details["phones"] = phones_list(transfer.phones, f"{where}.phones")
        address = checked_text(transfer.address, ADDRESS_LIMIT, f"{where}.address")
        if address:
            details["address"] = address
        if transfer.inn:
            details["inn"] = _inn(transfer.inn, f"{where}.inn")
        if not details:
            raise InvalidOrder("укажите наименование, телефоны, адрес или ИНН оператора перевода", field=where)
        info["money_transfer_operator"] = details
    return info


def supplier_dict(supplier: Supplier, field: str) -> dict[str, Any]:
    """``supplier_info`` (SDK ``set_supplier_info``): the INN is required (tag 1226 with tag 1222)."""
    if not supplier.inn:
        raise InvalidOrder("укажите ИНН поставщика: на позиции агента он обязателен (тег 1226)", field=f"{field}.inn")
    result: dict[str, Any] = {}
    name = checked_text(supplier.name, SUPPLIER_NAME_LIMIT, f"{field}.name")
    if name:
        result["name"] = name
    if supplier.phones:
        result["phones"] = phones_list(supplier.phones, f"{field}.phones")
    result["inn"] = _inn(supplier.inn, f"{field}.inn")
    return result


def _country(code: str, field: str) -> str:
    if not (len(code) == 3 and code.isascii() and code.isdigit()) or code == "000":
        raise InvalidOrder("цифровой код страны по ОКСМ — три цифры, например 643 (Россия) или 156 (Китай)",
                           field=field)
    return code


def line_details(line: OrderLine, index: int | str, default_agent: AgentType | None = None) -> dict[str, Any]:
    """The position keys of ``line``'s FFD 1.2 details (``index``: its place in ``order.lines`` or ``"delivery"``)."""
    if (line.agent is None and line.supplier is None and line.excise is None and line.country_code is None
            and line.declaration_number is None and line.user_data is None and not line.wholesale):
        return {}  # the common case: an ordinary line of the shop's own goods
    field = "delivery" if index == "delivery" else f"lines[{index}]"
    item: dict[str, Any] = {}
    if line.agent is not None or line.supplier is not None:
        if line.supplier is None:
            raise InvalidOrder("у позиции агента укажите поставщика (supplier: наименование, ИНН, телефоны): "
                               "без него чек агента не принимается", field=f"{field}.supplier")
        agent = agent_dict(line.agent, default_agent, f"{field}.agent")
        if not agent:
            raise InvalidOrder("поставщик указывается только у позиции агента: укажите agent (роль агента) "
                               "или роль агента по умолчанию в настройках кассы", field=f"{field}.agent")
        item["agent_info"] = agent
        item["supplier_info"] = supplier_dict(line.supplier, f"{field}.supplier")
    if line.excise is not None:
        excise = rubles(line.excise)
        if excise != line.excise or excise < 0:
            raise InvalidOrder("сумма акциза: не меньше нуля, не больше двух знаков после запятой",
                               field=f"{field}.excise")
        item["excise"] = excise
    if line.country_code is not None:
        item["country_code"] = _country(line.country_code, f"{field}.country_code")
    declaration = checked_text(line.declaration_number, DECLARATION_LIMIT, f"{field}.declaration_number")
    if declaration:
        item["declaration_number"] = declaration
    user_data = checked_text(line.user_data, USER_DATA_LIMIT, f"{field}.user_data")
    if user_data:
        item["user_data"] = user_data
    if line.wholesale:
        item["wholesale"] = True
    return item


