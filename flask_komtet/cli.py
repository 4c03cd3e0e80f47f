"""``flask komtet …``: send, run a worker, poll, check the setup, reconcile."""

from __future__ import annotations

import signal
import threading
import time
from datetime import datetime

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from .errors import APIError
from .monitoring import serve_metrics
from .ops import AttentionWatch, attention_report
from .outbox import client_for, poll_sent, send_due
from .reconcile import reconcile
from .register_cli import register_cli
from .state import get_state

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
    """Show the configuration and every register's queue state in KOMTET."""
    state = get_state()
    if attention:
        report = attention_report(state)
        for line in report.lines() or ["Все в порядке: ничего не ждет человека."]:
            click.echo(line)
        raise SystemExit(2 if report else 0)
    config = state.config
    click.echo(f"API: {config.api_url}  dispatch: {config.dispatch}  public URL: {config.public_url or '(не задан)'}")
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
        click.echo(f"    success: {state.webhook_url(register.id, 'success') or '(задайте KOMTET_KASSA_PUBLIC_URL)'}")
        click.echo(f"    failure: {state.webhook_url(register.id, 'failure') or '(задайте KOMTET_KASSA_PUBLIC_URL)'}")
    if problems:
        raise SystemExit(1)


@komtet_cli.command("reconcile")
@click.option("--since", required=True, type=click.DateTime(formats=["%Y-%m-%d"]), help="YYYY-MM-DD")
@with_appcontext
def reconcile_command(since: datetime) -> None:
    """Paid orders without a done receipt, and receipts without a paid order."""
    report = reconcile(get_state(), since)
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        raise SystemExit(1)
