"""pytest fixtures for shops' own tests (installed as the ``komtet_kassa`` pytest plugin).

``komtet_emulator``
    a running :class:`~flask_komtet.testing.TestKassa`: the KOMTET emulator with
    shop id ``"test-shop"``, secret ``"test-secret"``, queue ``1``, that never
    calls the shop's ``KOMTET_KASSA_PUBLIC_URL``. Its callbacks reach the app
    under test through ``complete_all``::

        def test_checkout_makes_a_done_receipt(app, komtet_emulator):
            komtet_emulator.add_register(app, region="msk")
            ...                                                   # the checkout marks an order paid
            [receipt] = komtet_emulator.complete_all(app)         # done, or an AssertionError naming it
            assert receipt.external_id == "sale-42-1" and receipt.fn
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .testing import TEST_QUEUE, TEST_SECRET, TEST_SHOP_ID, TestKassa

__all__ = ["TEST_QUEUE", "TEST_SECRET", "TEST_SHOP_ID", "TestKassa", "komtet_emulator"]


@pytest.fixture
def komtet_emulator() -> Iterator[TestKassa]:
    """A running KOMTET emulator (shop ``test-shop``/``test-secret``, queue 1) that never calls a real URL."""
    with TestKassa() as emulator:
        yield emulator
