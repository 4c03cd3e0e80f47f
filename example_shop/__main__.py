"""``python -m example_shop``: the shop and the KOMTET emulator, offline, on SQLite.

Starts the emulator on loopback with the demo registers' KOMTET shops, fills
the database with demo data and serves the shop. ``--no-emulator`` serves the
shop alone, talking to ``KOMTET_API_URL`` (default the real KOMTET Kassa) with
the registers entered in the admin.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from werkzeug.serving import run_simple

from flask_komtet.emulator import KomtetEmulator

from . import create_app
from .demo import install


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m example_shop",
                                     description="The example shop and the KOMTET emulator, offline, on SQLite.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--no-emulator", action="store_true", help="use KOMTET_API_URL (the real KOMTET)")
    parser.add_argument("--emulator-port", type=int, default=8765)
    parser.add_argument("--emulator-delay", type=float, default=1.0, help="seconds until a receipt is done")
    parser.add_argument("--db", type=Path, help="SQLite file (default: instance/shop.sqlite)")
    parser.add_argument("--reset", action="store_true", help="start from an empty database")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = _args(argv)
    shop_url = os.environ.get("SHOP_PUBLIC_URL") or f"http://{args.host}:{args.port}"
    config: dict[str, Any] = {"KOMTET_KASSA_PUBLIC_URL": shop_url}
    if args.db:
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{args.db.resolve()}"
    emulator = None
    if not args.no_emulator:
        # The emulated registers stand in the shop's zone: the time they print (fiscal_data "t", the register's
        # local time) then matches the times on the shop's pages.
        os.environ["TZ"] = os.environ.get("SHOP_TIMEZONE", "Europe/Moscow")
        time.tzset()
        try:
            emulator = KomtetEmulator(port=args.emulator_port, delay=args.emulator_delay).start()
        except OSError as exc:
            raise SystemExit(f"Эмулятор KOMTET не запустился на порту {args.emulator_port}: {exc}. "
                             "Выберите другой: --emulator-port 0 (любой свободный).") from None
        config["KOMTET_KASSA_API_URL"] = emulator.url
    app = create_app(config)
    try:
        install(app, shop_url, emulator, reset=args.reset, history=True)
        _banner(shop_url, app.config["KOMTET_KASSA_API_URL"], emulator is not None)
        run_simple(args.host, args.port, app, threaded=True, use_reloader=False)
    finally:
        if emulator is not None:
            emulator.stop()


def _banner(shop_url: str, api_url: str, emulated: bool) -> None:
    print(f"\n  Магазин:  {shop_url}/", flush=True)
    print(f"  Админка:  {shop_url}/admin/  (с этого компьютера; иначе задайте SHOP_ADMIN_PASSWORD)")
    print(f"  KOMTET:   {api_url}{' (эмулятор)' if emulated else ''}")
    if emulated:
        print("\n  Положите чай в корзину и оплатите заказ: в Москве чек станет «Выполнен» с ФН/ФД/ФП,\n"
              "  в Санкт-Петербурге — «Ожидает ручной отправки», в Новосибирске — «Не отправлен: нет кассы».\n"
              "  Оплата наличными и возврат — в админке: «Магазин → Заказы», отметьте заказ и выберите действие.\n",
              flush=True)
    else:
        print("\n  Кассы (ShopID, Secret, очередь) вводятся в админке, «Онлайн-кассы».\n", flush=True)


if __name__ == "__main__":
    main()
