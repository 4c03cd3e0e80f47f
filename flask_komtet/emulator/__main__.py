"""``python -m flask_komtet.emulator --port 8765 --shop SHOP_ID:SECRET:QUEUE_ID[,QUEUE_ID…] …``"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from . import KomtetEmulator


def _shop(text: str) -> tuple[str, str, list[int]]:
    try:
        shop_id, secret, queues = text.split(":", 2)
        return shop_id, secret, [int(q) for q in queues.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected SHOP_ID:SECRET:QUEUE_ID[,QUEUE_ID…], got {text!r}") from None


def _callbacks(text: str) -> tuple[str, str, str]:
    shop_id, _, urls = text.partition("=")
    success, _, failure = urls.partition(",")
    if not shop_id or not success:
        raise argparse.ArgumentTypeError(f"expected SHOP_ID=SUCCESS_URL[,FAILURE_URL], got {text!r}")
    return shop_id, success, failure or success


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m flask_komtet.emulator",
                                     description="A KOMTET Kassa shop API (v1/v2) emulator on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--shop", type=_shop, action="append", default=[], metavar="SHOP_ID:SECRET:QUEUE_ID",
                        help="a shop and its queues (repeatable)")
    parser.add_argument("--callback", type=_callbacks, action="append", default=[],
                        metavar="SHOP_ID=SUCCESS_URL[,FAILURE_URL]", help="a shop's success and failure URLs")
    parser.add_argument("--delay", type=float, default=0.5, help="seconds until a task is done (default 0.5)")
    parser.add_argument("--seed", type=int, default=None)
    for fault in ("error_rate", "drop_rate", "accept_then_timeout_rate", "callback_loss_rate",
                  "callback_duplicate_rate", "latency", "callback_delay"):
        parser.add_argument("--" + fault.replace("_", "-"), type=float, default=0.0)
    parser.add_argument("--callback-reorder", action="store_true")
    parser.add_argument("--fail", action="append", default=[], metavar="REGEX",
                        help="external ids matching REGEX end in error")
    parser.add_argument("--strict-taxes", action="store_true",
                        help="accept, then refuse like a register tasks whose VAT cross-check fails")
    parser.add_argument("--fail-marks", default=None, metavar="REGEX",
                        help="tasks with a mark code matching REGEX end in error (the code failed its check)")
    args = parser.parse_args(argv)
    if not args.shop:
        parser.error("give at least one --shop SHOP_ID:SECRET:QUEUE_ID")
    faults = {name: getattr(args, name) for name in ("error_rate", "drop_rate", "accept_then_timeout_rate",
                                                     "callback_loss_rate", "callback_duplicate_rate", "latency",
                                                     "callback_delay", "callback_reorder", "strict_taxes",
                                                     "fail_marks")}
    emulator = KomtetEmulator(host=args.host, port=args.port, delay=args.delay, seed=args.seed, **faults)
    urls = {shop_id: (success, failure) for shop_id, success, failure in args.callback}
    for shop_id, secret, queues in args.shop:
        success, failure = urls.get(shop_id, (None, None))
        emulator.add_shop(shop_id, secret, queues, success_url=success, failure_url=failure)
    for pattern in args.fail:
        emulator.fail_external_ids(pattern)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with emulator:
        print(f"KOMTET emulator on {emulator.url} (shops: {', '.join(s[0] for s in args.shop)})", flush=True)
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
