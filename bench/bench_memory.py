"""Sender memory: peak traced memory while draining 10,000 receipts, sampled every 1,000.

"Flat" means the peak per 1,000 receipts does not grow with how many were sent before.
Run: python bench/bench_memory.py
"""

from __future__ import annotations

import tempfile
import tracemalloc
from pathlib import Path

from _common import EmulatorProcess
from bench_drain import make_app

from flask_komtet.outbox import send_due
from tests.shop_fixtures import make_order

RECEIPTS = 10_000
SLICE = 1_000


def main() -> None:
    url = f"sqlite:///{Path(tempfile.mkdtemp()) / 'memory.sqlite'}"
    with EmulatorProcess("bench:secret:1") as emulator:
        app, db, kassa = make_app(url, emulator.url)
        with app.app_context():
            for start in range(0, RECEIPTS, SLICE):
                for n in range(start, start + SLICE):
                    kassa.fiscalize(make_order(f"m-{n}", lines=3))
                db.session.commit()
                db.session.expunge_all()
        state = app.extensions["komtet_kassa"]
        peaks = []
        with app.app_context():
            tracemalloc.start()
            sent = 0
            while sent < RECEIPTS:
                tracemalloc.reset_peak()
                batch = 0
                while batch < SLICE:
                    done = send_due(state, limit=100)
                    if not done:
                        break
                    batch += done
                sent += batch
                peaks.append(tracemalloc.get_traced_memory()[1] / 2**20)
                if not batch:
                    break
            tracemalloc.stop()
    print("  peak MiB per 1,000 receipts sent: " + ", ".join(f"{p:.1f}" for p in peaks))
    growth = peaks[-1] / peaks[0]
    print(f"sender memory while draining {sent:,} receipts: peak {max(peaks):.1f} MiB, "
          f"last/first slice {growth:.2f}x (flat = about 1x)")


if __name__ == "__main__":
    main()
