"""``flask komtet register add|list|edit|disable``: cash registers from the command line.

Every setting of the admin's register form is an option here, checked by that
same form (:func:`~flask_komtet.admin.forms.register_form_class`), so the rules
and their Russian messages are the admin's. The Secret is never an option (it
would stay in the shell's history): it is read from the environment variable
``KOMTET_KASSA_SECRET`` (``--secret-env`` names another) or asked for at a
hidden prompt, and it is never printed::

    KOMTET_KASSA_SECRET=… flask komtet register add --name "Москва" --region msk \\
        --shop-id 12345 --queue-id 1 --tax-system 0 --vat 22 --payment-address https://shop.example
    flask komtet register list
    flask komtet register edit 1 --vat 10 --no-print-receipt
    flask komtet register disable 1
"""

from __future__ import annotations

import os
from typing import Any

import click
import sqlalchemy as sa
from flask.cli import with_appcontext
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, SelectMultipleField

from .admin.forms import register_form_class
from .enums import AgentType, PaymentMethod, PaymentObject, SettlementScheme, TaxSystem, TimeZone, VatRate
from .moments import format_local
from .state import KassaState, get_state

__all__ = ["register_cli"]

SECRET_ENV = "KOMTET_KASSA_SECRET"


def _values(enum: Any) -> str:
    return ", ".join(str(value) for value, _ in enum.choices())


#: form field → (option help); booleans get ``--x/--no-x``.
TEXT_OPTIONS: dict[str, str] = {
    "name": "Название кассы",
    "region": "Код региона, который касса обслуживает",
    "extra_regions": "Дополнительные регионы для онлайн оплат, коды через запятую",
    "shop_id": "ShopID из личного кабинета КОМТЕТ Кассы",
    "queue_id": "ID очереди (целое число > 0)",
    "tax_system": f"СНО: {_values(TaxSystem)}",
    "vat": f"Ставка налога: {_values(VatRate)}",
    "delivery_vat": f"Ставка НДС доставки (пусто — как у кассы): {_values(VatRate)}",
    "next_tax_system": f"СНО с даты: {_values(TaxSystem)}",
    "next_vat": f"Ставка налога с даты: {_values(VatRate)}",
    "tax_change_date": "С какой даты действуют новые СНО/ставка, ГГГГ-ММ-ДД",
    "payment_method": f"Способ расчета при онлайн оплатах: {_values(PaymentMethod)}",
    "payment_object": "Предмет расчета: product, service, work, payment… (все значения — в docs/reference.md)",
    "top_up_payment_method": f"Способ расчета при пополнении баланса: {_values(PaymentMethod)}",
    "top_up_payment_object": "Предмет расчета при пополнении баланса (как --payment-object)",
    "top_up_name": "Название позиции при пополнении баланса",
    "settlement_scheme": f"Схема расчетов: {_values(SettlementScheme)}",
    "payment_address": "Место расчетов: адрес сайта или точки продаж",
    "place_address": "Адрес расчетов, если отличается от места расчетов",
    "company_inn": "ИНН организации",
    "name_template": "Шаблон наименования позиции, например '{name} для {customer}'",
    "cashier_name": "Кассир по умолчанию",
    "cashier_inn": "ИНН кассира",
    "agent_type": f"Роль агента по умолчанию (пусто — нет): {_values(AgentType)}",
    "timezone": f"Часовая зона места расчетов (пусто — не передавать): {_values(TimeZone)}",
    "api_url": "Адрес API для тестовой кассы, например http://127.0.0.1:8765",
}
FLAG_OPTIONS: dict[str, tuple[str, str]] = {
    "auto_fiscalize": ("auto-fiscalize", "Чеки по онлайн оплатам отправляются сами (иначе ждут ручной отправки)"),
    "print_receipt": ("print-receipt", "Касса печатает бумажный чек"),
    "internet": ("internet", "Признак расчетов в сети Интернет"),
    "permissive_mode": ("permissive-mode", "Разрешительный режим: маркированный товар только с результатом проверки кода"),
    "is_active": ("active", "Касса включена"),
}


def _option_name(field: str) -> str:
    return "--" + field.replace("_", "-")


def _setting_options(function: Any) -> Any:
    for field, (flag, help_text) in reversed(FLAG_OPTIONS.items()):
        function = click.option(f"--{flag}/--no-{flag}", field, default=None, help=help_text)(function)
    for field, help_text in reversed(TEXT_OPTIONS.items()):
        function = click.option(_option_name(field), field, default=None, help=help_text)(function)
    return function


@click.group("register", help="Онлайн-кассы: добавить, показать, изменить, выключить.")
def register_cli() -> None:
    pass


def _form_data(form: Any) -> MultiDict[str, str]:
    """What the admin's HTML form would post for ``form``'s current values."""
    data: MultiDict[str, str] = MultiDict()
    for field in form:
        if field.name in ("csrf_token", "secret"):
            continue
        if isinstance(field, BooleanField):
            if field.data:
                data.add(field.name, "y")
        elif isinstance(field, SelectMultipleField):
            for value in field.data or ():
                data.add(field.name, str(value))
        else:
            value = field._value() if hasattr(field, "_value") else field.data
            data.add(field.name, "" if value is None else str(value))
    return data


def _secret(secret_env: str, *, required: bool) -> str | None:
    value = os.environ.get(secret_env)
    if value:
        return value.strip()
    if not required:
        return None
    return str(click.prompt("Secret (из личного кабинета КОМТЕТ Кассы, не отображается)", hide_input=True,
                            confirmation_prompt=True)).strip()


def _save(state: KassaState, register: Any, settings: dict[str, Any], secret: str | None) -> Any:
    """Check ``settings`` with the admin's form and store them on ``register`` (a new one if ``None``)."""
    form_class = register_form_class(state)
    data = _form_data(form_class(obj=register, meta={"csrf": False}))
    for name, value in settings.items():
        if value is None:
            continue
        data.poplist(name)
        if isinstance(value, bool):
            if value:
                data.add(name, "y")
        elif name == "extra_regions" and issubclass(form_class.extra_regions.field_class, SelectMultipleField):
            for code in filter(None, (c.strip() for c in value.split(","))):
                data.add(name, code)
        else:
            data.add(name, value)
    if secret:
        data["secret"] = secret
    form = form_class(data, obj=register, meta={"csrf": False})
    form._obj = register
    if not form.validate():
        lines = []
        for field in form:
            for error in field.errors:
                option = _option_name(field.name) if field.name != "secret" else f"${SECRET_ENV}"
                lines.append(f"«{field.label.text}» ({option}): {error}")
        raise click.ClickException("касса не сохранена:\n  " + "\n  ".join(lines))
    if register is None:
        register = state.models.CashRegister()
        state.session.add(register)
    form.populate_obj(register)
    state.session.commit()
    return register


def _find(state: KassaState, register_id: int) -> Any:
    register = state.session.get(state.models.CashRegister, register_id)
    if register is None:
        raise click.ClickException(f"кассы #{register_id} нет (flask komtet register list)")
    return register


@register_cli.command("add")
@_setting_options
@click.option("--secret-env", default=SECRET_ENV, show_default=True, help="Переменная окружения с Secret")
@with_appcontext
def add_command(secret_env: str, **settings: Any) -> None:
    """Добавить кассу (Secret — из переменной окружения или скрытого ввода)."""
    state = get_state()
    register = _save(state, None, settings, _secret(secret_env, required=True))
    click.echo(f"Касса #{register.id} «{register.name}» добавлена.")
    _echo_webhooks(state, register)


@register_cli.command("edit")
@click.argument("register_id", type=int)
@_setting_options
@click.option("--secret-env", default=SECRET_ENV, show_default=True, help="Переменная окружения с новым Secret")
@click.option("--new-secret", is_flag=True, help="Спросить новый Secret (скрытый ввод)")
@with_appcontext
def edit_command(register_id: int, secret_env: str, new_secret: bool, **settings: Any) -> None:
    """Изменить настройки кассы: только указанные; Secret — только с --new-secret или из окружения."""
    state = get_state()
    register = _save(state, _find(state, register_id), settings, _secret(secret_env, required=new_secret))
    click.echo(f"Касса #{register.id} «{register.name}» сохранена.")


@register_cli.command("disable")
@click.argument("register_id", type=int)
@with_appcontext
def disable_command(register_id: int) -> None:
    """Выключить кассу: она больше не получает чеков (включить: edit ID --active)."""
    state = get_state()
    register = _find(state, register_id)
    register.is_active = False
    state.session.commit()
    click.echo(f"Касса #{register.id} «{register.name}» выключена.")


@register_cli.command("list")
@with_appcontext
def list_command() -> None:
    """Все кассы и их настройки (без Secret)."""
    state = get_state()
    registers = state.session.scalars(sa.select(state.models.CashRegister).order_by("id")).all()
    if not registers:
        click.echo("Кассы не настроены: flask komtet register add --help")
    zone = state.config.timezone
    for r in registers:
        flags = ", ".join(text for text, on in (("включена" if r.is_active else "выключена", True),
                                                ("автоотправка", r.auto_fiscalize), ("печать", r.print_receipt))
                          if on)
        click.echo(f"#{r.id} «{r.name}» регион {r.region}"
                   f"{' + ' + ', '.join(r.extra_regions) if r.extra_regions else ''}: {flags}")
        click.echo(f"    ShopID {r.shop_id}, очередь {r.queue_id}, СНО {_label(TaxSystem, r.tax_system)}, "
                   f"НДС {_label(VatRate, r.vat)}, расчет {_label(PaymentMethod, r.payment_method)}, "
                   f"предмет {_label(PaymentObject, r.payment_object)}, место расчетов {r.payment_address}")
        if r.next_vat or r.next_tax_system is not None:
            when = r.tax_change_date.strftime("%d.%m.%Y") if r.tax_change_date else "(дата не задана)"
            click.echo(f"    с {when}: СНО {_label(TaxSystem, r.next_tax_system)}, "
                       f"НДС {_label(VatRate, r.next_vat)}")
        click.echo(f"    API: {r.api_url or state.config.api_url}; изменена {format_local(r.updated_at, zone)}")


def _label(enum: Any, value: Any) -> str:
    """``«ОСН» (0)``: the Russian label and the value to type in ``--option``."""
    if value is None or value == "":
        return "без изменений"
    try:
        return f"«{enum.parse(value).label}» ({value})"
    except ValueError:
        return str(value)


def _echo_webhooks(state: KassaState, register: Any) -> None:
    for outcome in ("success", "failure"):
        url = state.webhook_url(register.id, outcome) or "(задайте KOMTET_KASSA_PUBLIC_URL)"
        click.echo(f"    {outcome}: {url}")
