"""Emulator throughput: task creations per second from a minimal pooled client (1, 4 and 8 threads).

This is also "the emulator's own limit" the drain benchmark compares our sender with.
Run: python bench/bench_emulator.py
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time

from _common import EmulatorProcess

from flask_komtet.signing import sign

FLOOR = 1000.0
PAYLOAD = {"intent": "sell", "client": {"email": "b@example.com"},
           "company": {"sno": 0, "payment_address": "https://shop.example"},
           "positions": [{"name": "Чай", "price": 350.0, "quantity": 2, "total": 700.0, "vat": "22", "measure": 0,
                          "payment_method": "full_payment", "payment_object": "product"}],
           "payments": [{"sum": 700.0, "type": "card"}]}


def bodies(prefix: str, count: int) -> list[bytes]:
    return [json.dumps(dict(PAYLOAD, external_id=f"{prefix}-{n}"), ensure_ascii=False).encode() for n in range(count)]


def minimal_client_rate(url: str, threads: int, per_thread: int, tag: str) -> float:
    """Tasks per second created by ``threads`` keep-alive connections posting pre-signed receipts."""
    host, port = url.split("//")[1].split(":")
    path = "/api/shop/v2/queues/1/task"
    endpoint = f"{url}{path}"
    work = [[(body, sign("secret", "POST", endpoint, body)) for body in bodies(f"{tag}-{t}", per_thread)]
            for t in range(threads)]

    def run(items: list[tuple[bytes, str]]) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        for body, signature in items:
            connection.request("POST", path, body=body, headers={
                "Authorization": "bench", "Content-Type": "application/json", "X-HMAC-Signature": signature})
            response = connection.getresponse()
            response.read()
            assert response.status == 200, response.status
        connection.close()

    workers = [threading.Thread(target=run, args=(items,)) for items in work]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return threads * per_thread / (time.perf_counter() - started)


def measure(threads: int, runs: int = 5, total: int = 1200) -> float:
    rates = []
    with EmulatorProcess("bench:secret:1") as emulator:
        for run in range(runs):
            rates.append(minimal_client_rate(emulator.url, threads, total // threads, f"r{run}t{threads}"))
    return statistics.median(rates)


def main() -> None:
    results = {threads: measure(threads) for threads in (1, 4, 8)}
    for threads, rate in results.items():
        print(f"  {threads} client thread(s): {rate:,.0f} task creations/s (median of 5 runs)")
    best = max(results.values())
    print(f"emulator task creations: {best:,.0f}/s median ({best / FLOOR:.2f}x the {FLOOR:.0f}/s floor)")


if __name__ == "__main__":
    main()
