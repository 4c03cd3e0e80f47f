"""Pure kopeck arithmetic: rounding and proportional allocation that always adds up."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["CENT", "allocate", "kopecks", "rubles", "to_cents"]

CENT = Decimal("0.01")


def rubles(value: Decimal) -> Decimal:
    """Round to kopecks, half up (the way a cashier rounds)."""
    return value.quantize(CENT, ROUND_HALF_UP)


def to_cents(value: Decimal) -> int:
    """Whole kopecks, rounded half up."""
    return int((value * 100).to_integral_value(ROUND_HALF_UP))


def kopecks(cents: int) -> Decimal:
    """``9491`` → ``Decimal("94.91")``."""
    return Decimal(cents).scaleb(-2)


def allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """Split ``amount`` kopecks over ``weights`` (kopecks) in proportion, exactly.

    Largest-remainder method: every part is within ``[0, weight]`` when
    ``0 <= amount <= sum(weights)``, the parts add up to ``amount``, and ties go
    to the earlier weight, so the result is deterministic.
    """
    total = sum(weights)
    if amount < 0 or amount > total:
        raise ValueError(f"cannot allocate {amount} over a total of {total}")
    if amount == 0 or total == 0:
        return [0] * len(weights)
    parts = [amount * w // total for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % total), i))
    for i in remainders[: amount - sum(parts)]:
        parts[i] += 1
    return parts
