"""Prometheus metrics (the optional extra ``metrics``: ``pip install flask-komtet[metrics]``).

Counters and the histogram count what this process did, from the extension's
own signals (the outbox is not touched); the gauges are read from the database
at scrape time, so every process (web, worker, Celery) reports the same
values. ``PROMETHEUS_MULTIPROC_DIR`` set: the counters of all the processes
that share that directory are exposed together (prometheus_client's
multiprocess mode).

=======================================  =========================================================
``komtet_receipts_created_total``        receipts added to the outbox (failed ones too), by ``kind``, ``register``
``komtet_receipts_sent_total``           receipts KOMTET accepted
``komtet_receipts_done_total``           receipts fiscalized
``komtet_receipts_failed_total``         receipts ``error`` or ``failed`` (label ``state``)
``komtet_send_errors_total``             receipts refused when sent (``failed``), by register
``komtet_callback_errors_total``         webhook calls answered 4xx/5xx, by ``status``
``komtet_receipt_seconds_to_done``       histogram: seconds from creation (payment) to ``done``
``komtet_receipts``                      gauge: receipts not yet final, by ``state``
``komtet_receipts_retrying``             gauge: queued receipts waiting for a retry after an error
``komtet_receipts_need_attention``       gauge: the "needs a person now" items of «Сводка», by ``item``
=======================================  =========================================================

Final states (done, error, failed) only grow: use the counters' ``rate()`` for
them rather than a gauge that would count the whole table at every scrape.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from .. import signals
from ..enums import ReceiptState
from .attention import attention_report
from .summary import WAITING

if TYPE_CHECKING:
    from ..state import KassaState

__all__ = ["BUCKETS", "METRICS_KEY", "Metrics", "exposed", "exposition", "install_metrics", "metrics_available"]

METRICS_KEY = "komtet_kassa_metrics"
BUCKETS = (1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600, 24 * 3600)


def metrics_available() -> bool:
    try:
        import prometheus_client  # noqa: F401
    except ImportError:
        return False
    return True


def _labels(receipt: Any) -> tuple[str, str]:
    return str(receipt.kind), str(receipt.register_id) if receipt.register_id is not None else "none"


class Metrics:
    """One app's metrics: its own registry, fed by the receipt signals and a database collector."""

    def __init__(self, state: KassaState) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.state = state
        self.registry = CollectorRegistry(auto_describe=True)
        by_receipt = ("kind", "register")
        self.created = Counter("komtet_receipts_created", "Receipts added to the outbox", by_receipt,
                               registry=self.registry)
        self.sent = Counter("komtet_receipts_sent", "Receipts KOMTET accepted", by_receipt, registry=self.registry)
        self.done = Counter("komtet_receipts_done", "Receipts fiscalized", by_receipt, registry=self.registry)
        self.failed = Counter("komtet_receipts_failed", "Receipts in state error or failed", (*by_receipt, "state"),
                              registry=self.registry)
        self.send_errors = Counter("komtet_send_errors", "Receipts refused when sent (failed)", ("register",),
                                   registry=self.registry)
        self.callback_errors = Counter("komtet_callback_errors", "Webhook calls answered with an error", ("status",),
                                       registry=self.registry)
        self.seconds = Histogram("komtet_receipt_seconds_to_done", "Seconds from a receipt's creation to done",
                                 buckets=BUCKETS, registry=self.registry)
        self.collector = DatabaseCollector(state)
        self.registry.register(self.collector)
        self._connected: list[tuple[Any, Any]] = []

    def connect(self) -> None:
        """Count the app's receipt signals (held strongly: blinker keeps receivers weakly)."""
        app = self.state.app
        for signal, receiver in ((signals.receipt_queued, self.on_queued), (signals.receipt_sent, self.on_sent),
                                 (signals.receipt_done, self.on_done), (signals.receipt_failed, self.on_failed)):
            signal.connect(receiver, sender=app, weak=False)
            self._connected.append((signal, receiver))

    def disconnect(self) -> None:
        for signal, receiver in self._connected:
            signal.disconnect(receiver, sender=self.state.app)
        self._connected.clear()

    def on_queued(self, sender: Any, receipt: Any, **extra: Any) -> None:
        self.created.labels(*_labels(receipt)).inc()

    def on_sent(self, sender: Any, receipt: Any, **extra: Any) -> None:
        self.sent.labels(*_labels(receipt)).inc()

    def on_done(self, sender: Any, receipt: Any, **extra: Any) -> None:
        self.done.labels(*_labels(receipt)).inc()
        if receipt.done_at is not None and receipt.created_at is not None:
            self.seconds.observe(max(0.0, (receipt.done_at - receipt.created_at).total_seconds()))

    def on_failed(self, sender: Any, receipt: Any, **extra: Any) -> None:
        kind, register = _labels(receipt)
        self.failed.labels(kind, register, str(receipt.state)).inc()
        if receipt.state == ReceiptState.FAILED.value:
            self.send_errors.labels(register).inc()
            if not receipt.attempts:  # failed as it was created (no register, bad order): queued never came
                self.created.labels(kind, register).inc()

    def callback_answered(self, status: int) -> None:
        if status >= 400:
            self.callback_errors.labels(str(status)).inc()


class DatabaseCollector:
    """Gauges read from the database at scrape time (two small queries on the ``state`` index)."""

    def __init__(self, state: KassaState) -> None:
        self.state = state

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        state = self.state
        c = state.models.Receipt.__table__.c
        with state.app.app_context(), Session(bind=state.db.engine) as session:
            rows = session.execute(sa.select(c.state, c.register_id, sa.func.count(),
                                             sa.func.count(sa.case((c.last_error.is_not(None), 1))))
                                   .where(c.state.in_(WAITING)).group_by(c.state, c.register_id)).all()
            report = attention_report(state, session=session)
        receipts = GaugeMetricFamily("komtet_receipts", "Receipts not yet final, by state", labels=("state",))
        retrying = GaugeMetricFamily("komtet_receipts_retrying", "Queued receipts waiting for a retry after an error",
                                     labels=("register",))
        counts = dict.fromkeys(WAITING, 0)
        for receipt_state, register_id, count, with_error in rows:
            counts[receipt_state] += int(count)
            if receipt_state == ReceiptState.QUEUED.value:
                retrying.add_metric([str(register_id) if register_id is not None else "none"], int(with_error))
        for receipt_state, count in counts.items():
            receipts.add_metric([receipt_state], count)
        attention = GaugeMetricFamily("komtet_receipts_need_attention", "What needs a person now (see «Сводка»)",
                                      labels=("item",))
        found = report.counts()
        for key in ("held", "settlement", "no_answer", "not_sending", "passive"):
            attention.add_metric([key], found.get(key, 0))
        yield from (receipts, retrying, attention)


def install_metrics(state: KassaState) -> Metrics:
    """The app's metrics, created and connected to its signals once."""
    metrics: Metrics | None = state.app.extensions.get(METRICS_KEY)
    if metrics is None:
        metrics = state.app.extensions[METRICS_KEY] = Metrics(state)
        metrics.connect()
    return metrics


def exposed(metrics: Metrics) -> Any:
    """The registry a scrape collects: the app's, or all processes' counters in multiprocess mode."""
    registry = metrics.state.app.extensions.get(METRICS_KEY + "_exposed")
    if registry is None:
        registry = metrics.registry
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import CollectorRegistry, multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            registry.register(metrics.collector)
        metrics.state.app.extensions[METRICS_KEY + "_exposed"] = registry
    return registry


def exposition(metrics: Metrics) -> tuple[bytes, str]:
    """The text a scrape gets, and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    return generate_latest(exposed(metrics)), CONTENT_TYPE_LATEST
