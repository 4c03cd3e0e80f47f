"""The emulator's HTTP side: a WSGI app speaking the KOMTET shop API, and its background workers.

Error codes it answers with (``{"title", "code", "description"}``):

=======  ======  ==========================================================
status   code    when
=======  ======  ==========================================================
401      AUT00   no ``Authorization`` header, or an unknown shop id
403      AUT01   ``X-HMAC-Signature`` missing or wrong
404      NF01    unknown queue (of this shop), task or path
405      MTH00   a method the path does not take
422      VLD00   invalid JSON or a field that fails validation (named)
422      VLD09   "Чек с внешним идентификатором … уже существует"
500      SRV00   an injected fault
=======  ======  ==========================================================

A passive queue still accepts tasks (they wait, as they would for a register
that is offline) and processes them once the queue is active again.
"""

from __future__ import annotations

import heapq
import json
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import requests
from werkzeug.serving import WSGIRequestHandler, make_server

from .rules import check_task
from .state import CallbackRecord, EmulatedShop, EmulatorState, TaskRecord
from .wire import answer_body, expected_signature, signature_matches, split_json_array

__all__ = ["EmulatorServer"]

log = logging.getLogger("flask_komtet.emulator")

_ROUTE = re.compile(r"^/api/shop/v(?P<version>[12])/(?:(?P<queues>queues)/(?P<queue>\d+)(?P<action>/task|/multi-tasks)?"
                    r"|tasks/(?P<task>\d+))/?$")
_RECEIPT = re.compile(r"^/receipts/(\d+)$")
CALLBACK_RETRIES = (0.1, 0.5, 1.0)
StartResponse = Callable[..., Any]


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass

    def log_error(self, *args: Any) -> None:
        pass


class _Dropped(ConnectionResetError):
    """Raised after the emulator closed the client's connection on purpose."""


def _error(start_response: StartResponse, status: int, code: str, title: str, description: str) -> list[bytes]:
    body = answer_body({"title": title, "code": code, "description": description})
    start_response(f"{status} {_REASONS.get(status, 'Error')}",
                   [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


def _ok(start_response: StartResponse, document: Any) -> list[bytes]:
    body = answer_body(document)
    start_response("200 OK", [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body)))])
    return [body]


_REASONS = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
            422: "Unprocessable Entity", 500: "Internal Server Error"}


class EmulatorServer:
    """Serves :class:`EmulatorState` over HTTP and runs its processor and callback sender."""

    def __init__(self, state: EmulatorState, host: str, port: int) -> None:
        self.state = state
        self._server = make_server(host, port, self.wsgi, threaded=True, request_handler=_QuietHandler)
        self._server.daemon_threads = True  # type: ignore[attr-defined]  # ThreadedWSGIServer has it; make_server is typed as its base
        self.url = f"http://{host}:{self._server.server_port}"
        self._stopped = threading.Event()
        self._wake = threading.Condition()
        self._due: list[tuple[float, int, str, Any]] = []  # (when, seq, kind, item)
        self._seq = 0
        self._busy = 0
        self._http = requests.Session()
        self._threads = [
            threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                             name="komtet-emulator-http"),
            threading.Thread(target=self._run_timers, daemon=True, name="komtet-emulator-timers"),
        ]

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stopped.set()
        with self._wake:
            self._wake.notify_all()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(5)
        self._http.close()

    # -- timers: processing tasks and delivering callbacks ---------------------------

    def schedule(self, delay: float, kind: str, item: Any) -> None:
        with self._wake:
            self._seq += 1
            heapq.heappush(self._due, (time.monotonic() + delay, self._seq, kind, item))
            self._wake.notify()

    def idle(self) -> bool:
        with self._wake:
            pending = any(kind != "process" or self._processable(item) for _, _, kind, item in self._due)
            return not pending and self._busy == 0

    def _processable(self, task_id: int) -> bool:
        task = self.state.tasks.get(task_id)
        if task is None or task.state != "new":
            return False
        shop = self.state.shops.get(task.shop_id)
        return shop is not None and shop.queues.get(task.queue_id) == "active"

    def _run_timers(self) -> None:
        while not self._stopped.is_set():
            with self._wake:
                while not self._stopped.is_set() and (not self._due or self._due[0][0] > time.monotonic()):
                    timeout = self._due[0][0] - time.monotonic() if self._due else None
                    self._wake.wait(timeout)
                if self._stopped.is_set():
                    return
                _, _, kind, item = heapq.heappop(self._due)
                self._busy += 1
            try:
                if kind == "process":
                    self._process(item)
                else:
                    self._deliver(*item)
            except Exception:  # pragma: no cover - the emulator must keep running
                log.exception("emulator timer %s failed", kind)
            finally:
                with self._wake:
                    self._busy -= 1

    def _process(self, task_id: int) -> None:
        state = self.state
        task = state.tasks.get(task_id)
        if task is None or task.state != "new":
            return
        shop = state.shops[task.shop_id]
        if shop.queues.get(task.queue_id) != "active":
            self.schedule(0.1, "process", task_id)  # waits for the register to come back
            return
        self.finish(task, *self._verdict(shop, task))

    def _verdict(self, shop: EmulatedShop, task: TaskRecord) -> tuple[str, str | None]:
        description = self.state.outcome(shop, task)
        return ("error", description) if description else ("done", None)

    def finish(self, task: TaskRecord, outcome: str, description: str | None = None) -> None:
        """Give ``task`` its final state and send its callback."""
        shop = self.state.shops[task.shop_id]
        with self.state.lock:
            if task.state != "new":
                return
            if outcome == "done":
                self.state.fiscalize(shop, task, self.url)
            else:
                task.error_description = description or "Ошибка регистрации позиции"
            task.state = outcome
        url = task.payload.get("callback_url") or (shop.success_url if outcome == "done" else shop.failure_url)
        if not url:
            return
        faults = self.state.faults
        body = answer_body(task.info())
        if self.state.roll(faults.callback_loss_rate, "callback_lost"):
            self._record(task, url, "lost", 0, body)
            return
        copies = 2 if self.state.roll(faults.callback_duplicate_rate, "callback_duplicated") else 1
        for copy in range(copies):
            delay = self.state.uniform(faults.callback_delay)
            if faults.callback_reorder:
                delay += self.state.uniform((0.0, faults.reorder_window))
            self.schedule(delay, "callback", (task, url, body, 1, copy > 0))

    def _deliver(self, task: TaskRecord, url: str, body: bytes, attempt: int, duplicate: bool) -> None:
        shop = self.state.shops[task.shop_id]
        headers = {"Content-Type": "application/json",
                   "X-HMAC-Signature": expected_signature(shop.secret, "POST", url, body)}
        try:
            status: int | str = self._http.post(url, data=body, headers=headers, timeout=5).status_code
        except requests.RequestException as exc:
            status = f"{type(exc).__name__}"
        self._record(task, url, status, attempt, body, duplicate)
        if (not isinstance(status, int) or status >= 500 or status == 429) and attempt <= len(CALLBACK_RETRIES):
            self.schedule(CALLBACK_RETRIES[attempt - 1], "callback", (task, url, body, attempt + 1, duplicate))

    def _record(self, task: TaskRecord, url: str, status: int | str, attempt: int, body: bytes,
                duplicate: bool = False) -> None:
        with self.state.lock:
            self.state.callbacks.append(CallbackRecord(task.id, task.external_id, url, task.state, status, attempt,
                                                       time.time(), duplicate, body))

    # -- HTTP ------------------------------------------------------------------------

    def wsgi(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        receipt = _RECEIPT.match(path)
        if receipt:
            return self._receipt_page(int(receipt.group(1)), start_response)
        match = _ROUTE.match(path)
        if not match:
            return _error(start_response, 404, "NF00", "Не найдено", f"Неизвестный адрес {path}")
        faults = self.state.faults
        if faults.latency:
            time.sleep(faults.latency)
        if self.state.roll(faults.drop_rate, "dropped"):
            self._drop(environ)
        if self.state.roll(faults.error_rate, "error_500"):
            return _error(start_response, 500, "SRV00", "Внутренняя ошибка", "Сервис временно недоступен")
        method = environ["REQUEST_METHOD"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        shop = self.state.shops.get(environ.get("HTTP_AUTHORIZATION", ""))
        if shop is None:
            return _error(start_response, 401, "AUT00", "Ошибка авторизации",
                          "Проверьте правильность написания идентификатора магазина и его секрета")
        url = f"{environ.get('wsgi.url_scheme', 'http')}://{environ.get('HTTP_HOST', '')}{environ.get('REQUEST_URI') or path}"
        if not signature_matches(shop.secret, method, url, body, environ.get("HTTP_X_HMAC_SIGNATURE")):
            return _error(start_response, 403, "AUT01", "Ошибка авторизации",
                          "Неверная подпись запроса (X-HMAC-Signature)")
        version = int(match.group("version"))
        if match.group("task"):
            return self._task_info(shop, int(match.group("task")), method, start_response)
        queue_id = int(match.group("queue"))
        if queue_id not in shop.queues:
            return _error(start_response, 404, "NF01", "Не найдено", f"Очередь {queue_id} не найдена")
        action = match.group("action")
        if action is None:
            if method != "GET":
                return _error(start_response, 405, "MTH00", "Метод не поддерживается", "Используйте GET")
            return _ok(start_response, {"id": queue_id, "name": f"Очередь {queue_id}", "state": shop.queues[queue_id]})
        if method != "POST":
            return _error(start_response, 405, "MTH00", "Метод не поддерживается", "Используйте POST")
        try:
            document = json.loads(body, parse_float=Decimal)
        except ValueError:
            return _error(start_response, 422, "VLD00", "Ошибка валидации", "Тело запроса не является JSON")
        if action == "/multi-tasks":
            if not isinstance(document, list):
                return _error(start_response, 422, "VLD00", "Ошибка валидации", "Ожидается массив чеков")
            for item in document:
                self._count(shop, item)
            refused = self._refuse_batch(shop, document, version)
            if refused:
                return _error(start_response, 422, refused[0], "Ошибка валидации", refused[1])
            results = {str(index): self._create(shop, queue_id, item, raw, version, counted=True)
                       for index, (item, raw) in enumerate(split_json_array(body))}
            return _ok(start_response, results)
        outcome = self._create(shop, queue_id, document, body, version)
        if isinstance(outcome, tuple):
            return _error(start_response, 422, outcome[0], "Ошибка валидации", outcome[1])
        if self.state.roll(faults.accept_then_timeout_rate, "accepted_then_timeout"):
            time.sleep(faults.accept_then_timeout_delay)
            self._drop(environ)
        return _ok(start_response, outcome)

    def _refuse_batch(self, shop: EmulatedShop, items: list[Any], version: int) -> tuple[str, str] | None:
        """Why a multi-task batch is refused as a whole (nothing is created then), or ``None``."""
        seen = set()
        for index, item in enumerate(items):
            problems = check_task(item, version=version)
            external_id = str(item.get("external_id")) if isinstance(item, dict) else None
            if problems or external_id is None:
                return "VLD00", f"{index}: " + "; ".join(f"{f}: {m}" for f, m in problems)
            if (shop.shop_id, external_id) in self.state.by_external_id or external_id in seen:
                return "VLD09", f"{index}: external_id: Чек с внешним идентификатором {external_id} уже существует"
            seen.add(external_id)
        return None

    def _count(self, shop: EmulatedShop, item: Any) -> None:
        if isinstance(item, dict) and item.get("external_id") is not None:
            with self.state.lock:
                self.state.submissions[(shop.shop_id, str(item["external_id"]))] += 1

    def _create(self, shop: EmulatedShop, queue_id: int, document: Any, body: bytes, version: int,
                counted: bool = False) -> dict[str, Any] | tuple[str, str]:
        external_id = document.get("external_id") if isinstance(document, dict) else None
        if not counted:
            self._count(shop, document)
        problems = check_task(document, version=version)
        if problems:
            return "VLD00", "; ".join(f"{field}: {message}" for field, message in problems)
        task = self.state.add_task(shop, queue_id, str(external_id), document, body)
        if task is None:
            return "VLD09", f"external_id: Чек с внешним идентификатором {external_id} уже существует"
        delay = shop.delay if shop.delay is not None else self.state.delay
        if delay is not None:
            self.schedule(delay, "process", task.id)
        return {"id": task.id, "external_id": task.external_id, "print_queue_id": queue_id, "state": "new"}

    def _task_info(self, shop: EmulatedShop, task_id: int, method: str, start_response: StartResponse) -> list[bytes]:
        if method != "GET":
            return _error(start_response, 405, "MTH00", "Метод не поддерживается", "Используйте GET")
        task = self.state.tasks.get(task_id)
        if task is None or task.shop_id != shop.shop_id:
            return _error(start_response, 404, "NF02", "Не найдено", f"Задача {task_id} не найдена")
        return _ok(start_response, task.info())

    def _receipt_page(self, task_id: int, start_response: StartResponse) -> list[bytes]:
        task = self.state.tasks.get(task_id)
        if task is None or not task.fiscal_data:
            return _error(start_response, 404, "NF02", "Не найдено", "Чек не найден")
        data = task.fiscal_data
        rows = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in data.items())
        body = (f"<!doctype html><meta charset=utf-8><title>Чек {task.external_id}</title>"
                f"<h1>Кассовый чек {task.external_id}</h1><table>{rows}</table>").encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))])
        return [body]

    @staticmethod
    def _drop(environ: dict[str, Any]) -> None:
        sock = environ.get("werkzeug.socket")
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise _Dropped("connection dropped by the emulator")
