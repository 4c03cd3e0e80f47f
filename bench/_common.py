"""Shared helpers for the benchmarks: timing with medians, a minimal shop, the emulator."""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(call: Callable[[], Any], repeat: int) -> list[float]:
    """Run ``call`` ``repeat`` times; the wall time of each run in seconds."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def interleaved(calls: dict[str, Callable[[], Any]], rounds: int, per_round: int = 1) -> dict[str, list[float]]:
    """Time several variants round-robin, so that machine noise hits them alike."""
    results: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            results[name] += timed(call, per_round)
    return results


class EmulatorProcess:
    """``python -m flask_komtet.emulator`` in its own process (its own GIL), on a free port."""

    def __init__(self, *shops: str, delay: float | None = None, extra: tuple[str, ...] = ()) -> None:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [sys.executable, "-m", "flask_komtet.emulator", "--port", str(self.port),
                     "--delay", str(delay if delay is not None else 3600), *extra]
        for shop in shops:
            self.args += ["--shop", shop]

    def __enter__(self) -> EmulatorProcess:
        import subprocess

        self.process = subprocess.Popen(self.args, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()  # "KOMTET emulator on …" once it serves
        if "emulator on" not in line:
            raise RuntimeError(f"the emulator did not start: {line!r}")
        return self

    def __exit__(self, *exc: Any) -> None:
        self.process.terminate()
        self.process.wait(10)
