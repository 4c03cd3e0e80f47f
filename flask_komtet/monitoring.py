"""Where the Prometheus metrics (:mod:`flask_komtet.ops.metrics`) are served.

``KOMTET_KASSA_METRICS_PATH = "/metrics"`` serves them at ``{URL_PREFIX}/metrics``
in the web app, to whoever may open the extension's admin views: the
``admin_access`` callable given to ``init_app`` (which may check a scraper's
token), else the host Admin's index view rule; with neither, nobody (403).
``flask komtet worker --metrics-port 9108`` serves them on the worker's own
port instead (no access rule: bind it where only Prometheus reaches).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from flask import Flask, Response, abort, request, request_finished

from .ops.metrics import Metrics, exposed, exposition, install_metrics, metrics_available

if TYPE_CHECKING:
    from .state import KassaState

__all__ = ["METRICS_ENDPOINT", "install_monitoring", "serve_metrics"]

log = logging.getLogger("flask_komtet.monitoring")
METRICS_ENDPOINT = "komtet_kassa_metrics"
WEBHOOKS_BLUEPRINT = "komtet_kassa"


def may_see(state: KassaState) -> bool:
    """The admin's access rule (see the module docstring)."""
    if state.admin_access is not None:
        return bool(state.admin_access())
    for view in state.admin_views:
        return bool(view.admin.index_view.is_accessible())
    return False


def install_monitoring(app: Flask, state: KassaState) -> Metrics | None:
    """Serve the metrics at ``METRICS_PATH`` when it is set (and prometheus_client is installed)."""
    path = state.config.metrics_path
    if not path:
        return None
    if not metrics_available():
        log.warning("KOMTET_KASSA_METRICS_PATH is set but prometheus_client is not installed: "
                    "pip install flask-komtet[metrics]")
        return None
    metrics = install_metrics(state)
    rule = state.config.url_prefix + "/" + str(path).strip("/")

    def metrics_view() -> Response:
        if not may_see(state):
            abort(403)
        body, content_type = exposition(metrics)
        return Response(body, content_type=content_type)

    app.add_url_rule(rule, METRICS_ENDPOINT, metrics_view)
    count_callback_errors(app, metrics)
    return metrics


def count_callback_errors(app: Flask, metrics: Metrics) -> None:
    """Count the webhook's error answers (bad signature, unknown receipt, database away…)."""

    def finished(sender: Any, response: Response, **extra: Any) -> None:
        if request.blueprint == WEBHOOKS_BLUEPRINT:
            metrics.callback_answered(response.status_code)

    request_finished.connect(finished, app, weak=False)


def serve_metrics(state: KassaState, port: int, host: str = "127.0.0.1") -> Any:
    """Serve the app's metrics on ``host:port`` from a background thread (the worker's ``--metrics-port``).

    Returns the HTTP server (``shutdown()`` stops it).
    """
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr=host, registry=exposed(install_metrics(state)))
    return server

