"""Agents on a position: ``agent_info`` and ``supplier_info``.

Shapes: api §4.3 «Agent blocks» and SDK ``komtet_kassa_sdk/v2/agent.py``
(``Agent``, ``set_paying_agent_info``, ``set_receive_payments_operator``,
``set_money_transfer_operator``, ``set_supplier_info``). Lengths the sources
leave open are FFD 1.2's: operator name (1026) 64, operator address (1005) 256,
supplier name (1225) 256.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .catalog import AGENT_TYPES
from .fields import Problems, check_choice, check_inn, check_mapping, check_phones, check_text

__all__ = ["check_agents"]


def _paying_agent(value: Any, field: str, out: Problems) -> None:
    """``{operation?, phones?}``: both optional since SDK 7.3.0; operation at most 24 characters (SDK docstring)."""
    if not check_mapping(value, field, out, "{operation, phones}"):
        return
    if "operation" in value:
        check_text(value["operation"], f"{field}.operation", out, 24)
    if "phones" in value:
        check_phones(value["phones"], f"{field}.phones", out)


def _money_transfer_operator(value: Any, field: str, out: Problems) -> None:
    if not check_mapping(value, field, out, "{name, phones, address, inn}"):
        return
    if "name" in value:
        check_text(value["name"], f"{field}.name", out, 64)
    if "phones" in value:
        check_phones(value["phones"], f"{field}.phones", out)
    if "address" in value:
        check_text(value["address"], f"{field}.address", out, 256)
    if "inn" in value:
        check_inn(value["inn"], f"{field}.inn", out)


def _agent_info(value: Any, field: str, out: Problems) -> None:
    if not check_mapping(value, field, out, "{type, paying_agent, receive_payments_operator, …}"):
        return
    if "type" not in value:
        out.append((f"{field}.type", "обязательное поле (признак агента, тег 1222)"))
    else:
        check_choice(value["type"], AGENT_TYPES, f"{field}.type", out)
    if "paying_agent" in value:
        _paying_agent(value["paying_agent"], f"{field}.paying_agent", out)
    if "receive_payments_operator" in value:
        operator = value["receive_payments_operator"]
        where = f"{field}.receive_payments_operator"
        if check_mapping(operator, where, out, "{phones}"):
            check_phones(operator.get("phones"), f"{where}.phones", out, required=True)
    if "money_transfer_operator" in value:
        _money_transfer_operator(value["money_transfer_operator"], f"{field}.money_transfer_operator", out)


def _supplier_info(value: Any, field: str, out: Problems) -> None:
    """``{name?, inn?, phones?}`` (SDK ``set_supplier_info``): at least one of them."""
    if not check_mapping(value, field, out, "{name, inn, phones}"):
        return
    if not {"name", "inn", "phones"} & value.keys():
        out.append((field, "нужны сведения о поставщике: name, inn или phones"))
    if "name" in value:
        check_text(value["name"], f"{field}.name", out, 256)
    if "inn" in value:
        check_inn(value["inn"], f"{field}.inn", out)
    if "phones" in value:
        check_phones(value["phones"], f"{field}.phones", out)


def check_agents(item: Mapping[str, Any], field: str, out: Problems) -> None:
    """``agent_info`` and ``supplier_info``; the supplier only sits next to an agent (fiscal_2026.md «Agents»)."""
    if "agent_info" in item:
        _agent_info(item["agent_info"], f"{field}.agent_info", out)
    if "supplier_info" in item:
        _supplier_info(item["supplier_info"], f"{field}.supplier_info", out)
        if "agent_info" not in item:
            out.append((f"{field}.supplier_info", "передается только вместе с agent_info (данные поставщика агента)"))
