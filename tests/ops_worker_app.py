"""The app ``flask --app tests.ops_worker_app komtet worker`` runs in the operations tests.

``OPS_DATABASE_URL``: the test's database; ``OPS_ALERTS``: a file the worker appends each
``receipts_need_attention`` report to (one JSON line), so the test sees what the worker signalled.
"""

from __future__ import annotations

import json
import os
from typing import Any

from flask import Flask
from flask_sqlalchemy import SQLAlchemy

from flask_komtet import KomtetKassa, signals


def create_app() -> Flask:
    app = Flask("ops_worker")
    app.config.update(SQLALCHEMY_DATABASE_URI=os.environ["OPS_DATABASE_URL"], KOMTET_KASSA_DISPATCH="worker",
                      KOMTET_KASSA_API_URL="http://127.0.0.1:9", KOMTET_KASSA_POLL_AFTER=300)
    KomtetKassa(app, db=SQLAlchemy(app))

    def alert(sender: Any, report: Any, **extra: Any) -> None:
        with open(os.environ["OPS_ALERTS"], "a", encoding="utf-8") as out:
            out.write(json.dumps({"counts": report.counts(), "lines": report.lines()}, ensure_ascii=False) + "\n")

    signals.receipts_need_attention.connect(alert, app, weak=False)
    return app
