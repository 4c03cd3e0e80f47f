"""pytest fixtures for shops' own tests (installed as the ``komtet_kassa`` pytest plugin).

``komtet_emulator``
    a running :class:`~flask_komtet.emulator.KomtetEmulator` with one shop:
    shop id ``"test-shop"``, secret ``"test-secret"``, queue ``1``. Point the
    shop's register (``api_url``) or ``KOMTET_KASSA_API_URL`` at
    ``komtet_emulator.url``; inspect ``komtet_emulator.tasks()`` and
    ``.callbacks()``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

TEST_SHOP_ID, TEST_SECRET, TEST_QUEUE = "test-shop", "test-secret", 1


@pytest.fixture
def komtet_emulator() -> Iterator[Any]:
    from flask_komtet.emulator import KomtetEmulator

    with KomtetEmulator(delay=0.02) as emulator:
        emulator.add_shop(TEST_SHOP_ID, TEST_SECRET, (TEST_QUEUE,))
        yield emulator
