"""The emulator over real HTTP: every status code, validation, callbacks, faults, the official SDK."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import requests
from werkzeug.wrappers import Request, Response

from flask_komtet.emulator import KomtetEmulator
from flask_komtet.signing import is_valid_signature, sign
from tests.live_server import LiveServer

SHOP, SECRET = "shop-1", "secret-1"
TASK = {"external_id": "e-1", "intent": "sell", "client": {"email": "b@example.com"},
        "company": {"sno": 0, "payment_address": "https://shop.example"},
        "positions": [{"name": "Чай", "price": 350, "quantity": 2, "total": 700, "vat": "22", "measure": 0,
                       "payment_method": "full_payment", "payment_object": "product"}],
        "payments": [{"sum": 700, "type": "card"}]}


@pytest.fixture
def emu() -> Iterator[KomtetEmulator]:
    with KomtetEmulator(delay=0.02, seed=1) as emulator:
        emulator.add_shop(SHOP, SECRET, (1, 2))
        yield emulator


def call(emu: KomtetEmulator, method: str, path: str, body: Any = None, *, shop: str | None = SHOP,
         secret: str = SECRET, version: int = 2, timeout: float = 5) -> requests.Response:
    url = f"{emu.url}/api/shop/v{version}{path}"
    raw = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    headers = {"X-HMAC-Signature": sign(secret, method, url, raw), "Content-Type": "application/json"}
    if shop is not None:
        headers["Authorization"] = shop
    return requests.request(method, url, data=raw, headers=headers, timeout=timeout)


def error_of(response: requests.Response) -> dict[str, str]:
    document = response.json()
    assert set(document) == {"title", "code", "description"}
    return document


def test_queue_state_and_switch(emu) -> None:
    assert call(emu, "GET", "/queues/1").json() == {"id": 1, "name": "Очередь 1", "state": "active"}
    emu.set_queue_state(SHOP, 1, "passive")
    assert call(emu, "GET", "/queues/1").json()["state"] == "passive"
    assert call(emu, "GET", "/queues/1", version=1).json()["state"] == "passive"


def test_create_and_read_a_task(emu) -> None:
    created = call(emu, "POST", "/queues/1/task", TASK).json()
    assert created == {"id": created["id"], "external_id": "e-1", "print_queue_id": 1, "state": "new"}
    assert emu.wait_idle(5)
    info = call(emu, "GET", f"/tasks/{created['id']}").json()
    assert info["state"] == "done" and info["fiscal_data"]["s"] == "700.00" and info["fiscal_data"]["n"] == 1
    assert set(info["fiscal_data"]) >= {"fn", "i", "fp", "t", "s", "n", "rn", "sh", "shn"}
    assert requests.get(info["receipt_url"], timeout=5).status_code == 200
    assert emu.task(created["id"]).raw_body == json.dumps(TASK, ensure_ascii=False).encode()


@pytest.mark.parametrize("case, status, code", [
    ("no shop", 401, "AUT00"), ("unknown shop", 401, "AUT00"), ("bad signature", 403, "AUT01"),
    ("unknown queue", 404, "NF01"), ("unknown task", 404, "NF02"), ("unknown path", 404, "NF00"),
    ("wrong method", 405, "MTH00"), ("not json", 422, "VLD00"),
])
def test_status_codes(emu, case: str, status: int, code: str) -> None:
    response = {
        "no shop": lambda: call(emu, "GET", "/queues/1", shop=None),
        "unknown shop": lambda: call(emu, "GET", "/queues/1", shop="nobody"),
        "bad signature": lambda: call(emu, "GET", "/queues/1", secret="wrong"),
        "unknown queue": lambda: call(emu, "POST", "/queues/9/task", TASK),
        "unknown task": lambda: call(emu, "GET", "/tasks/999"),
        "unknown path": lambda: call(emu, "GET", "/orders"),
        "wrong method": lambda: call(emu, "DELETE", "/queues/1"),
        "not json": lambda: call(emu, "POST", "/queues/1/task", b"{oops"),
    }[case]()
    assert response.status_code == status
    assert error_of(response)["code"] == code


def _task(**changes: Any) -> dict[str, Any]:
    task = json.loads(json.dumps(TASK))
    for path, value in changes.items():
        target, *keys = path.split("__")
        holder = task
        for key in [target, *keys][:-1]:
            holder = holder[int(key)] if key.isdigit() else holder[key]
        last = [target, *keys][-1]
        if value is KeyError:
            del holder[int(last) if last.isdigit() else last]
        else:
            holder[int(last) if last.isdigit() else last] = value
    return task


@pytest.mark.parametrize("changes, field", [
    ({"external_id": KeyError}, "external_id"),
    ({"intent": "sale"}, "intent"),
    ({"positions__0__vat": "18"}, "positions[0].vat"),
    ({"positions__0__vat": "118"}, "positions[0].vat"),
    ({"company__sno": 3}, "company.sno"),
    ({"positions__0__excise": None}, "positions[0].excise"),
    ({"positions__0__name": "x" * 129}, "positions[0].name"),
    ({"positions__0__price": -1}, "positions[0].price"),
    ({"positions__0__total": 701}, "positions[0].total"),
    ({"payments__0__sum": 699.99}, "payments"),
    ({"client": {}}, "client"),
    ({"positions__0__measure": 7}, "positions[0].measure"),
    ({"positions__0__payment_object": "goods"}, "positions[0].payment_object"),
    ({"payments__0__type": "bitcoin"}, "payments[0].type"),
    ({"positions__0__quantity": "2"}, "positions[0].quantity"),
    ({"company__payment_address": KeyError}, "company.payment_address"),
    ({"positions": []}, "positions"),
    ({"intent": "sellCorrection"}, "correction_info"),
])
def test_validation_names_the_field(emu, changes: dict[str, Any], field: str) -> None:
    response = call(emu, "POST", "/queues/1/task", _task(**changes))
    assert response.status_code == 422
    assert f"{field}:" in error_of(response)["description"]
    assert emu.tasks() == []


def test_obsolete_vat_message_says_what_replaced_it(emu) -> None:
    description = error_of(call(emu, "POST", "/queues/1/task", _task(positions__0__vat="18")))["description"]
    assert "20%" in description and "22%" in description


def test_duplicate_external_id(emu) -> None:
    assert call(emu, "POST", "/queues/1/task", TASK).status_code == 200
    response = call(emu, "POST", "/queues/1/task", TASK)
    assert response.status_code == 422
    assert error_of(response)["description"] == "external_id: Чек с внешним идентификатором e-1 уже существует"
    assert emu.submissions("e-1") == 2 and len(emu.tasks()) == 1


def test_multi_tasks_are_all_or_nothing(emu) -> None:
    ok = call(emu, "POST", "/queues/1/multi-tasks", [_task(external_id="m-1"), _task(external_id="m-2")])
    assert ok.status_code == 200 and [t["external_id"] for t in ok.json().values()] == ["m-1", "m-2"]
    bad = call(emu, "POST", "/queues/1/multi-tasks", [_task(external_id="m-3"), _task(external_id="m-1")])
    assert bad.status_code == 422 and "m-1" in error_of(bad)["description"]
    assert emu.task_by_external_id(SHOP, "m-3") is None


def test_v1_paths_answer(emu) -> None:
    task = {"external_id": "v1-1", "intent": "sell"}
    assert call(emu, "POST", "/queues/1/task", task, version=1).status_code == 200


class CallbackReceiver(LiveServer):
    """A tiny HTTP server that records signed callbacks."""

    def __init__(self, status: int = 200) -> None:
        self.received: list[tuple[str, bytes, str | None]] = []
        self.status = status

        @Request.application
        def app(request: Request) -> Response:
            self.received.append((request.url, request.get_data(), request.headers.get("X-HMAC-Signature")))
            return Response("OK", status=self.status)

        super().__init__(app)


def test_callbacks_done_and_error_are_signed(emu) -> None:
    with CallbackReceiver() as receiver:
        emu.shop(SHOP).success_url = receiver.url + "/ok"
        emu.shop(SHOP).failure_url = receiver.url + "/fail"
        emu.fail_external_ids(r"^bad-", "Ошибка открытия чека")
        call(emu, "POST", "/queues/1/task", _task(external_id="good-1"))
        call(emu, "POST", "/queues/1/task", _task(external_id="bad-1"))
        call(emu, "POST", "/queues/1/task", _task(external_id="own-1", callback_url=receiver.url + "/own"))
        assert emu.wait_idle(5)
    by_url = {url.rsplit("/", 1)[1]: (json.loads(body), signature, url, body) for url, body, signature in receiver.received}
    assert by_url["ok"][0]["state"] == "done" and by_url["ok"][0]["fiscal_data"]
    assert by_url["fail"][0] == {**by_url["fail"][0], "state": "error", "error_description": "Ошибка открытия чека"}
    assert by_url["own"][0]["external_id"] == "own-1"
    for _, signature, url, body in by_url.values():
        assert is_valid_signature(SECRET, "POST", url, body, signature)
    assert {c.status for c in emu.callbacks()} == {200}


def test_manual_processing(emu) -> None:
    emu.state.delay = None
    task_id = call(emu, "POST", "/queues/1/task", TASK).json()["id"]
    assert emu.wait_idle(1) and emu.task(task_id).state == "new"
    emu.finish_task(task_id, "error", "Ошибка регистрации позиции")
    assert call(emu, "GET", f"/tasks/{task_id}").json()["error_description"] == "Ошибка регистрации позиции"


def test_passive_queue_keeps_tasks_new_until_active(emu) -> None:
    emu.set_queue_state(SHOP, 1, "passive")
    task_id = call(emu, "POST", "/queues/1/task", TASK).json()["id"]
    assert emu.wait_idle(1)
    assert emu.task(task_id).state == "new"
    emu.set_queue_state(SHOP, 1, "active")
    emu.wait_idle(5)
    assert emu.task(task_id).state == "done"


def test_fault_500_and_latency(emu) -> None:
    emu.set_faults(error_rate=1.0)
    response = call(emu, "GET", "/queues/1")
    assert response.status_code == 500 and error_of(response)["code"] == "SRV00"
    emu.set_faults(error_rate=0.0, latency=0.3)
    response = call(emu, "GET", "/queues/1")
    assert response.status_code == 200 and response.elapsed.total_seconds() >= 0.3


def test_fault_dropped_connection(emu) -> None:
    emu.set_faults(drop_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        call(emu, "GET", "/queues/1")


def test_fault_accept_then_timeout(emu) -> None:
    emu.set_faults(accept_then_timeout_rate=1.0, accept_then_timeout_delay=0.5)
    with pytest.raises((requests.Timeout, requests.ConnectionError)):
        call(emu, "POST", "/queues/1/task", TASK, timeout=0.2)
    assert emu.task_by_external_id(SHOP, "e-1") is not None  # KOMTET has it all the same


@pytest.mark.parametrize("faults, check", [
    ({"callback_loss_rate": 1.0}, lambda r, c: not r and [x.status for x in c] == ["lost"]),
    ({"callback_duplicate_rate": 1.0}, lambda r, c: len(r) == 2 and any(x.duplicate for x in c)),
    ({"callback_delay": 0.3}, lambda r, c: len(r) == 1),
])
def test_callback_faults(emu, faults, check) -> None:
    with CallbackReceiver() as receiver:
        emu.shop(SHOP).success_url = receiver.url
        emu.set_faults(**faults)
        call(emu, "POST", "/queues/1/task", TASK)
        assert emu.wait_idle(5)
    assert check(receiver.received, emu.callbacks())


def test_callbacks_reordered(emu) -> None:
    with CallbackReceiver() as receiver:
        emu.shop(SHOP).success_url = receiver.url
        emu.set_faults(callback_reorder=True, reorder_window=0.5)
        for n in range(12):
            call(emu, "POST", "/queues/1/task", _task(external_id=f"o-{n}"))
        assert emu.wait_idle(5)
    order = [json.loads(body)["external_id"] for _, body, _ in receiver.received]
    assert sorted(order) == sorted(f"o-{n}" for n in range(12)) and order != [f"o-{n}" for n in range(12)]


def test_failed_callback_delivery_is_retried(emu) -> None:
    with CallbackReceiver(status=503) as receiver:
        emu.shop(SHOP).success_url = receiver.url
        call(emu, "POST", "/queues/1/task", TASK)
        assert emu.wait_idle(10)
    assert len(receiver.received) == 4 and [c.attempt for c in emu.callbacks()] == [1, 2, 3, 4]


def test_the_official_sdk_is_accepted(emu) -> None:
    from komtet_kassa_sdk.v2 import (
        Check,
        Client,
        Intent,
        PaymentMethod,
        PaymentObject,
        Position,
        TaxSystem,
    )

    client = Client(SHOP, SECRET)
    client.set_host(emu.url)
    assert client.is_queue_active(1)
    check = Check("sdk-1", Intent.SELL)
    check.set_client(email="b@example.com")
    check.set_company(payment_address="https://shop.example", tax_system=TaxSystem.COMMON)
    check.add_position(Position(name="Чай", price=Decimal("350"), quantity=2, total=Decimal("700"), vat="22",
                                measure=0, payment_method=PaymentMethod.FULL_PAYMENT,
                                payment_object=PaymentObject.PRODUCT))
    check.add_payment(Decimal("700"))
    task = client.create_task(check, 1)
    assert task.state == "new"
    assert emu.wait_idle(5)
    assert client.get_task_info(task.id).state == "done"


def test_cli_starts_and_serves(tmp_path) -> None:
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-m", "flask_komtet.emulator", "--port", "0", "--shop", "a:b:1,2"],
                               stdout=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        url = line.split(" on ")[1].split()[0]
        endpoint = f"{url}/api/shop/v2/queues/2"
        response = requests.get(endpoint, headers={"Authorization": "a", "X-HMAC-Signature": sign("b", "GET", endpoint)},
                                timeout=5)
        assert response.json()["state"] == "active"
    finally:
        process.terminate()
        process.wait(5)


def test_pytest_plugin_fixture(komtet_emulator) -> None:
    endpoint = f"{komtet_emulator.url}/api/shop/v2/queues/1"
    response = requests.get(endpoint, headers={"Authorization": "test-shop",
                                               "X-HMAC-Signature": sign("test-secret", "GET", endpoint)}, timeout=5)
    assert response.json()["state"] == "active"
