"""The FFD 1.2 details of a sent receipt, readable: agents and suppliers per position, the buyer, receipt props.

Read from the payload as it was sent (``Receipt.payload_json``), so the page
shows what KOMTET got, in Russian, next to the raw JSON.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from ..enums import AgentType, TimeZone

__all__ = ["ffd_details"]

_LINE_KEYS = (("excise", "Акциз"), ("country_code", "Страна происхождения (ОКСМ)"),
              ("declaration_number", "Таможенная декларация"), ("user_data", "Доп. реквизит предмета расчета"))
_CLIENT_KEYS = (("name", "Покупатель"), ("inn", "ИНН покупателя"), ("birthdate", "Дата рождения"),
                ("citizenship", "Гражданство (ОКСМ)"), ("document_code", "Код вида документа"),
                ("document_data", "Данные документа"), ("address", "Адрес покупателя"))


def _label(enum: Any, value: Any) -> str:
    try:
        return str(enum.parse(value).label)
    except (ValueError, TypeError):
        return str(value)


def _phones(value: Any) -> str:
    return ", ".join(str(p) for p in value) if isinstance(value, list) else ""


def _agent(info: dict[str, Any]) -> list[str]:
    parts = [_label(AgentType, info.get("type"))]
    paying = info.get("paying_agent")
    if isinstance(paying, dict):
        parts.append("платежный агент: " + ", ".join(filter(None, [paying.get("operation"), _phones(paying.get("phones"))])))
    operator = info.get("receive_payments_operator")
    if isinstance(operator, dict):
        parts.append("оператор по приему платежей: " + _phones(operator.get("phones")))
    transfer = info.get("money_transfer_operator")
    if isinstance(transfer, dict):
        inn = f"ИНН {transfer['inn']}" if transfer.get("inn") else ""
        parts.append("оператор перевода: " + ", ".join(
            filter(None, [transfer.get("name"), inn, transfer.get("address"), _phones(transfer.get("phones"))])))
    return parts


def _supplier(info: dict[str, Any]) -> str:
    inn = f"ИНН {info['inn']}" if info.get("inn") else ""
    return ", ".join(filter(None, [info.get("name"), inn, _phones(info.get("phones"))]))


def _positions(positions: list[Any]) -> list[dict[str, Any]]:
    rows = []
    for number, item in enumerate(positions, 1):
        if not isinstance(item, dict):
            continue
        details = [f"{label}: {item[key]}" for key, label in _LINE_KEYS if key in item]
        if item.get("wholesale"):
            details.append("Объемно-сортовой учет")
        agent = item.get("agent_info")
        supplier = item.get("supplier_info")
        if not (agent or supplier or details):
            continue
        rows.append({"number": number, "name": item.get("name", ""),
                     "agent": _agent(agent) if isinstance(agent, dict) else [],
                     "supplier": _supplier(supplier) if isinstance(supplier, dict) else "",
                     "details": details})
    return rows


def _receipt(payload: dict[str, Any]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    client = payload.get("client")
    if isinstance(client, dict):
        rows += [(label, str(client[key])) for key, label in _CLIENT_KEYS if key in client]
    if "additional_check_props" in payload:
        rows.append(("Доп. реквизит чека (1192)", str(payload["additional_check_props"])))
    user = payload.get("additional_user_props")
    if isinstance(user, dict):
        rows.append(("Доп. реквизит пользователя (1084)", f"{user.get('name')}: {user.get('value')}"))
    for prop in payload.get("sectoral_check_props") or []:
        if isinstance(prop, dict):
            rows.append(("Отраслевой реквизит чека (1261)", f"ФОИВ {prop.get('federal_id')}, приказ от "
                         f"{prop.get('date')} № {prop.get('number')}: {prop.get('value')}"))
    operating = payload.get("operating_check_props")
    if isinstance(operating, dict):
        rows.append(("Операционный реквизит чека (1270)",
                     f"{operating.get('name')}: {operating.get('value')} ({operating.get('timestamp')})"))
    for paid in payload.get("cashless_payments") or []:
        if isinstance(paid, dict):
            info = f", {paid['additional_info']}" if paid.get("additional_info") else ""
            rows.append(("Безналичная оплата (1235)",
                         f"{paid.get('sum')} ₽, способ {paid.get('method')}, id {paid.get('id')}{info}"))
    if "timezone" in payload:
        rows.append(("Часовая зона (1011)", _label(TimeZone, payload["timezone"])))
    return rows


def ffd_details(payload_json: str | bytes | None) -> dict[str, Any]:
    """``{"positions": [...], "receipt": [(label, text)]}`` for the page; empty when there is nothing to show."""
    try:
        payload = json.loads(payload_json, parse_float=Decimal) if payload_json else None  # sums as sent
    except ValueError:
        return {}
    if not isinstance(payload, dict):
        return {}
    positions = _positions(payload.get("positions") or [])
    receipt = _receipt(payload)
    return {"positions": positions, "receipt": receipt} if positions or receipt else {}
