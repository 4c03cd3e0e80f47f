"""Faults that play a register refusing a task after KOMTET accepted it: ``strict_taxes`` and ``fail_marks``."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from flask_komtet.emulator import KomtetEmulator
from tests.test_emulator_api import CallbackReceiver
from tests.test_emulator_support import GS1M, MARKED, SECRET, SHOP, get, post, receipt

CORRECTION = {"intent": "sellCorrection", "correction_info": {"type": "self", "base_date": "15.12.2025"}}


@pytest.fixture
def emu() -> Iterator[KomtetEmulator]:
    with KomtetEmulator(delay=0.01, seed=1, strict_taxes=True) as emulator:
        emulator.add_shop(SHOP, SECRET, (1,))
        yield emulator


def outcome(emu: KomtetEmulator, edits: dict[str, Any]) -> dict[str, Any]:
    """Post a receipt (it must be accepted), let the register process it, return the task document."""
    response = post(emu.url, receipt(edits))
    assert response.status_code == 200, response.text
    assert emu.wait_idle(5)
    return get(emu.url, f"/tasks/{response.json()['id']}").json()


@pytest.mark.parametrize("edits", [{"positions.0.vat": "20"}, {"positions.0.vat": "120"},
                                   {**CORRECTION, "correction_info.base_date": "10.01.2026", "positions.0.vat": "20"}],
                         ids=["20% on a 2026 sale", "20/120 on a 2026 sale", "20% correcting a 2026 sale"])
def test_strict_taxes_refuse_a_rate_out_of_force(emu: KomtetEmulator, edits: dict[str, Any]) -> None:
    task = outcome(emu, edits)
    assert task["state"] == "error" and task["fiscal_data"] is None
    assert "не действует с 01.01.2026" in task["error_description"] and "позиции 1" in task["error_description"]


@pytest.mark.parametrize("edits", [{"positions.0.vat": "22"}, {"intent": "sellReturn", "positions.0.vat": "20"},
                                   {"intent": "buyReturn", "positions.0.vat": "120"},
                                   {**CORRECTION, "positions.0.vat": "20"},
                                   {"positions.0.payment_method": "pre_payment_full", "positions.0.vat": "122"}],
                         ids=["22% in 2026", "a refund keeps 20%", "a buy refund keeps 20/120",
                              "a correction of a 2025 sale keeps 20%", "prepayment at 22/122"])
def test_strict_taxes_accept_what_is_in_force(emu: KomtetEmulator, edits: dict[str, Any]) -> None:
    assert outcome(emu, edits)["state"] == "done"


def test_strict_taxes_judge_by_the_registers_day(emu: KomtetEmulator) -> None:
    emu.set_faults(register_date=date(2025, 12, 31))
    assert outcome(emu, {"positions.0.vat": "20"})["state"] == "done"
    task = outcome(emu, {"positions.0.vat": "22"})
    assert task["state"] == "error" and "действует с 01.01.2026" in task["error_description"]


def test_strict_taxes_want_a_calculated_rate_on_prepayment(emu: KomtetEmulator) -> None:
    task = outcome(emu, {"positions.0.payment_method": "advance", "positions.0.vat": "22"})
    assert task["state"] == "error" and "расчетная ставка" in task["error_description"]


def test_without_the_fault_20_percent_is_fiscalized() -> None:
    with KomtetEmulator(delay=0.01) as emulator:
        emulator.add_shop(SHOP, SECRET, (1,))
        assert outcome(emulator, {"positions.0.vat": "20"})["state"] == "done"


def test_a_refusal_reaches_the_failure_url_signed(emu: KomtetEmulator) -> None:
    with CallbackReceiver() as receiver:
        emu.shop(SHOP).failure_url = receiver.url + "/fail"
        task = outcome(emu, {"positions.0.vat": "20"})
        assert emu.wait_idle(5)
    (url, body, signature), = receiver.received
    assert url.endswith("/fail") and signature
    assert json.loads(body) == {**json.loads(body), "state": "error", "id": task["id"],
                                "error_description": task["error_description"]}


MARK_EDITS = {"positions.0": MARKED}


def test_fail_marks_refuses_the_matching_code() -> None:
    with KomtetEmulator(delay=0.01, fail_marks=r"^0104600000000000215abcde") as emulator:
        emulator.add_shop(SHOP, SECRET, (1,))
        task = outcome(emulator, MARK_EDITS)
        assert task["state"] == "error"
        assert task["error_description"].startswith("Ошибка проверки КМ")
        assert "0104600000000000215abcde<GS>93ABCD" in task["error_description"]
        encoded = {"positions.0": {**MARKED, "mark_code": {"gs1m": base64.b64encode(GS1M.encode()).decode()}}}
        assert outcome(emulator, encoded)["state"] == "error"  # the register decodes base64 first
        emulator.set_faults(fail_marks=r"^0104699999")
        assert outcome(emulator, MARK_EDITS)["state"] == "done"
        assert outcome(emulator, {})["state"] == "done"  # no marks, nothing to refuse


def test_fail_marks_pattern_is_checked_when_set() -> None:
    with KomtetEmulator(delay=None) as emulator:
        with pytest.raises(re.error):
            emulator.set_faults(fail_marks="(")
        emulator.set_faults(strict_taxes=True, fail_marks="x")
        emulator.clear_faults()
        assert not emulator.state.faults.strict_taxes and emulator.state.faults.fail_marks is None


def test_cli_flags() -> None:
    process = subprocess.Popen([sys.executable, "-m", "flask_komtet.emulator", "--port", "0", "--delay", "0.01",
                                "--shop", f"{SHOP}:{SECRET}:1", "--strict-taxes", "--fail-marks", "5abcde"],
                               stdout=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().split(" on ")[1].split()[0]  # type: ignore[union-attr]
        ids = [post(url, receipt(edits)).json()["id"] for edits in ({"positions.0.vat": "20"}, MARK_EDITS, {})]
        deadline, states = time.monotonic() + 5, {}
        while time.monotonic() < deadline and len(states) < 3:
            states = {i: t for i in ids if (t := get(url, f"/tasks/{i}").json())["state"] != "new"}
            time.sleep(0.05)
        assert [states[i]["state"] for i in ids] == ["error", "error", "done"]
        assert "НДС" in states[ids[0]]["error_description"] and "КМ" in states[ids[1]]["error_description"]
    finally:
        process.terminate()
        process.wait(5)
