"""Receipt building: a 100-line order with line and order discounts and delivery, built and validated.

Run: python bench/bench_receipts.py      (prints medians; the last line is the verdict)
"""

from __future__ import annotations

import statistics
import timeit
from decimal import Decimal

import _common  # noqa: F401  (puts the repo on sys.path)

from flask_komtet.enums import PaymentMethod, TaxSystem, VatRate
from flask_komtet.orders import Customer, Order, OrderLine
from flask_komtet.receipts import ReceiptSettings, build_sale

LIMIT_MS = 1.0


def main() -> None:
    order = Order(
        ref="bench-1",
        lines=[OrderLine(f"Товар №{i}", Decimal("123.45") + i, Decimal("1.5") if i % 2 else 3, vat=[None, 10, 22][i % 3],
                         discount=Decimal("3.33") if i % 4 == 0 else 0) for i in range(100)],
        customer=Customer(email="buyer@example.com"),
        discount=Decimal("500.00"),
        delivery=OrderLine("Доставка", "350.00"),
    )
    results = {}
    for method in (PaymentMethod.FULL_PAYMENT, PaymentMethod.ADVANCE):
        settings = ReceiptSettings(tax_system=TaxSystem.COMMON, payment_address="https://shop.example",
                                   vat=VatRate.RATE_22, payment_method=method)
        build_sale(order, settings, external_id="sale-bench-1-1")  # warm up
        runs = [timeit.timeit(lambda settings=settings: build_sale(order, settings, external_id="sale-bench-1-1"), number=100) / 100
                for _ in range(30)]
        results[method.value] = statistics.median(runs) * 1000
        print(f"  {method.value:>12}: {results[method.value]:.3f} ms median of 30 runs x 100 builds")
    worst = max(results.values())
    print(f"receipt build (100 lines, discounts, validated): {worst:.2f} ms median "
          f"({LIMIT_MS / worst:.1f}x under the {LIMIT_MS:.0f} ms limit)")


if __name__ == "__main__":
    main()
