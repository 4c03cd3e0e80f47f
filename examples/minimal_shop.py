"""The smallest shop that uses flask_komtet, offline: SQLite + the built-in KOMTET emulator.

``scripts/demo`` runs it while the full example shop is not there. Open the printed URL,
press «Оплатить», and watch the receipt go «В очереди» → «Отправлен» → «Выполнен».
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
from decimal import Decimal
from pathlib import Path

from flask import Flask, redirect, render_template_string, request, url_for
from flask_admin import Admin
from flask_sqlalchemy import SQLAlchemy

from flask_komtet import Customer, KomtetKassa, Order, OrderLine, signals
from flask_komtet.emulator import KomtetEmulator
from flask_komtet.moments import format_local

db = SQLAlchemy()
kassa = KomtetKassa()
_refs = itertools.count(1)

PAGE = """<!doctype html><meta charset="utf-8"><title>Мини-магазин</title>
<style>body{font:16px sans-serif;max-width:760px;margin:40px auto}td,th{padding:4px 10px;text-align:left}
.done{color:#197a2b}.error,.failed{color:#b3261e}</style>
<h1>Мини-магазин: чай «Улун», 2 × 350,00 ₽ + доставка 300,00 ₽</h1>
<form method="post" action="{{ url_for('pay') }}"><button>Оплатить 1 000,00 ₽ картой</button></form>
<h2>Чеки</h2><table><tr><th>Заказ</th><th>Создан</th><th>Состояние</th><th>Сумма</th><th>ФН / ФД / ФП</th><th>Ошибка</th></tr>
{% for r in receipts %}<tr><td>{{ r.order_ref }}</td><td>{{ moment(r.created_at) }}</td>
<td class="{{ r.state }}">{{ r.state_label }}</td>
<td>{{ r.total }} ₽</td><td>{{ r.fn or '' }} {{ r.fd or '' }} {{ r.fp or '' }}</td><td>{{ r.last_error or '' }}</td></tr>
{% endfor %}</table><p><a href="">Обновить</a> · <a href="/admin/">Админка</a> (с этого компьютера)</p>"""
LOOPBACK = ("127.0.0.1", "::1")


def create_app(database: str, emulator_url: str, public_url: str) -> Flask:
    app = Flask(__name__)
    app.config.update(SQLALCHEMY_DATABASE_URI=database, SECRET_KEY="demo: change me", KOMTET_KASSA_API_URL=emulator_url,
                      KOMTET_KASSA_PUBLIC_URL=public_url, KOMTET_KASSA_TIMEZONE="Europe/Moscow")
    db.init_app(app)
    admin = Admin(app, name="Мини-магазин")  # an Admin per app; its «Онлайн-кассы» open to this machine only
    kassa.init_app(app, db=db, admin=admin, admin_access=lambda: request.remote_addr in LOOPBACK)

    @app.get("/")
    def index() -> str:
        Receipt = kassa.models.Receipt
        receipts = db.session.scalars(db.select(Receipt).order_by(Receipt.id.desc()).limit(20)).all()
        zone = app.config["KOMTET_KASSA_TIMEZONE"]
        return render_template_string(PAGE, receipts=receipts, moment=lambda value: format_local(value, zone))

    @app.post("/pay")
    def pay():  # type: ignore[no-untyped-def]
        order = Order(ref=f"mini-{next(_refs)}", region="msk", customer=Customer(email="buyer@example.com"),
                      lines=[OrderLine("Чай «Улун», 100 г", Decimal("350.00"), 2, vat=22)],
                      delivery=OrderLine("Доставка", Decimal("300.00")))
        signals.order_paid.send(app, order=order)
        db.session.commit()
        return redirect(url_for("index"))

    with app.app_context():
        db.create_all()
        if not db.session.scalar(db.select(kassa.models.CashRegister)):
            db.session.add(kassa.models.CashRegister(
                name="Москва", region="msk", shop_id="demo-shop", secret="demo-secret", queue_id=1, vat="22",
                payment_method="full_payment", payment_address=public_url))
            db.session.commit()
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    public_url = f"http://127.0.0.1:{args.port}"
    database = f"sqlite:///{Path(tempfile.mkdtemp()) / 'mini.sqlite'}"
    with KomtetEmulator(delay=1.0) as emulator:
        emulator.add_shop("demo-shop", "demo-secret", (1,))
        app = create_app(database, emulator.url, public_url)
        print(f"Магазин: {public_url}/   KOMTET (эмулятор): {emulator.url}", flush=True)
        app.run(port=args.port, use_reloader=False, threaded=True)


if __name__ == "__main__":
    main()
