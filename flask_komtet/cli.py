"""``flask komtet …``: send, run a worker, poll, check the setup, the installation id, reconcile."""

from __future__ import annotations

import signal
import threading
import time
from datetime import datetime

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from .enums import PaymentMethod
from .errors import APIError
from .installation import TABLE, origin_of, read
from .installation import renew as renew_installation
from .monitoring import serve_metrics
from .ops import AttentionWatch, attention_report
from .outbox import client_for, poll_sent, send_due
from .reconcile import DEFAULT_DAYS, awaiting_settlement, reconcile
from .register_cli import register_cli
from .state import KassaState, get_state

__all__ = ["komtet_cli"]


@click.group("komtet", help="KOMTET Kassa: receipts and cash registers.")
def komtet_cli() -> None:
    pass


komtet_cli.add_command(register_cli)  # flask komtet register add|list|edit|disable


@komtet_cli.command("send")
@click.option("--limit", default=500, show_default=True, help="Most receipts to send in this run.")
@with_appcontext
def send_command(limit: int) -> None:
    """Send the receipts that are due now, once."""
    state, total = get_state(), 0
    while total < limit:
        sent = send_due(state, limit=min(50, limit - total))
        if not sent:
            break
        total += sent
    click.echo(f"Отправлено чеков: {total}")


@komtet_cli.command("poll")
@click.option("--older-than", type=float, default=None, help="Seconds since sending (default: POLL_AFTER).")
@with_appcontext
def poll_command(older_than: float | None) -> None:
    """Ask KOMTET about receipts sent without an answer (AlfaCRM's «Обновить состояние»)."""
    click.echo(f"Обновлено чеков: {poll_sent(get_state(), older_than=older_than, limit=1000)}")


@komtet_cli.command("worker")
@click.option("--interval", default=1.0, show_default=True, help="Seconds between looks at the outbox.")
@click.option("--poll-every", default=60.0, show_default=True, help="Seconds between polls of sent receipts.")
@click.option("--metrics-port", type=int, default=None, help="Serve Prometheus metrics on this port (extra metrics).")
@click.option("--metrics-host", default="127.0.0.1", show_default=True, help="Address of --metrics-port.")
@with_appcontext
def worker_command(interval: float, poll_every: float, metrics_port: int | None, metrics_host: str) -> None:
    """Send due receipts and poll unanswered ones until stopped (SIGTERM / Ctrl-C).

    After each poll it checks what needs a person («Сводка») and sends
    ``signals.receipts_need_attention`` when that list appears or grows.
    """
    state = get_state()
    watch = AttentionWatch(state)
    if metrics_port is not None:
        serve_metrics(state, metrics_port, metrics_host)
        click.echo(f"metrics on http://{metrics_host}:{metrics_port}/")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo("KOMTET worker started")
    last_poll = 0.0
    while not stop.is_set():
        try:
            while send_due(state, limit=50) and not stop.is_set():
                pass
            if time.monotonic() - last_poll >= poll_every:
                last_poll = time.monotonic()
                poll_sent(state)
                watch.check()
        except Exception as exc:  # keep running: the outbox keeps the receipts
            click.echo(f"worker iteration failed: {type(exc).__name__}: {exc}", err=True)
        stop.wait(interval)
    click.echo("KOMTET worker stopped")


@komtet_cli.command("check")
@click.option("--attention", is_flag=True,
              help="Only list what needs a person now (as on «Сводка»); exit 2 when the list is not empty.")
@with_appcontext
def check_command(attention: bool) -> None:
    """Show the configuration, every register's queue state in KOMTET, and what the receipts still need."""
    state = get_state()
    if attention:
        report = attention_report(state)
        for line in report.lines() or ["Все в порядке: ничего не ждет человека."]:
            click.echo(line)
        raise SystemExit(2 if report else 0)
    config = state.config
    click.echo(f"API: {config.api_url}  dispatch: {config.dispatch}  public URL: {config.public_url or '(не задан)'}")
    click.echo(_prefix_line(state))
    registers = state.session.scalars(sa.select(state.models.CashRegister).order_by("id")).all()
    if not registers:
        click.echo("Кассы не настроены.")
    problems = 0
    for register in registers:
        try:
            queue = client_for(state, register).queue_state(register.queue_id)
        except (APIError, ValueError) as exc:
            queue, problems = f"ошибка: {exc}", problems + 1
        active = "активна" if register.is_active else "выключена"
        click.echo(f"#{register.id} {register.name} [{register.region}] {active}; очередь {register.queue_id}: {queue}")
        click.echo(f"    API: {register.api_url or config.api_url}")
        click.echo(f"    success: {state.webhook_url(register.id, 'success') or '(задайте KOMTET_KASSA_PUBLIC_URL)'}")
        click.echo(f"    failure: {state.webhook_url(register.id, 'failure') or '(задайте KOMTET_KASSA_PUBLIC_URL)'}")
        if PaymentMethod.parse(register.payment_method).is_prepayment:
            click.echo(f"    способ расчета «{PaymentMethod.parse(register.payment_method).label}»: после оплаты "
                       "нужен второй чек «Полный расчет» при передаче товара (kassa.settle или order_shipped)")
    waiting = awaiting_settlement(state)
    if waiting:
        shown = ", ".join(waiting[:20]) + (f" и еще {len(waiting) - 20}" if len(waiting) > 20 else "")
        click.echo(f"Внимание: {len(waiting)} заказ(ов) оплачены предоплатой и ждут чека «Полный расчет»: {shown}")
    if problems:
        raise SystemExit(1)


def _prefix_line(state: KassaState) -> str:
    configured = state.config.external_id_prefix
    if configured is not None:
        shown = f"«{configured}»" if configured else "без префикса"
        return f"Внешние id чеков: {shown} (KOMTET_KASSA_EXTERNAL_ID_PREFIX)"
    table = state.installation
    if table is None or not sa.inspect(state.session.connection()).has_table(TABLE):
        return (f"Внешние id чеков: без префикса — нет таблицы {TABLE} (db.create_all() или миграция); "
                "другая база на том же аккаунте KOMTET может совпасть с этой")
    found = read(state.session.connection(), table)
    if found is None:
        return "Внешние id чеков: префикс этой базы данных появится с первым чеком"
    line = f"Внешние id чеков: «{found.prefix}» (идентификатор этой базы данных)"
    here = origin_of(state.session.connection())
    if found.origin and found.origin != here:
        line += (f"\n    Внимание: идентификатор создан для базы {found.origin}, а это {here}. Если это копия, "
                 "выполните flask komtet installation --renew, чтобы ее чеки не совпали с чеками оригинала")
    return line


@komtet_cli.command("installation")
@click.option("--renew", is_flag=True, help="Give this database a new id (a restored copy).")
@with_appcontext
def installation_command(renew: bool) -> None:
    """Show (or renew) this database's installation id, the default prefix of external ids."""
    state = get_state()
    if state.installation is None:
        raise SystemExit("KomtetKassa is not initialised")
    if renew:
        with state.db.engine.begin() as connection:
            fresh = renew_installation(connection, state.installation)
        click.echo(f"Новый идентификатор базы: {fresh.installation_id}; новые чеки: «{fresh.prefix}…»")
        return
    click.echo(_prefix_line(state))


@komtet_cli.command("reconcile")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help=f"YYYY-MM-DD (default: {DEFAULT_DAYS} days ago)")
@with_appcontext
def reconcile_command(since: datetime | None) -> None:
    """Paid orders without a done receipt, receipts without a paid order, prepayments without a settlement."""
    report = reconcile(get_state(), since)
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        raise SystemExit(1)
