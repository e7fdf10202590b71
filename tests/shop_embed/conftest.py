"""The shop's fixtures are a plugin (tests/fixtures/shop.py, loaded by ``pytest_plugins``
in tests/conftest.py); these are its helper functions, for ``from .conftest import ...``."""

from tests.fixtures.shop import ADDRESS, Shop, conservation, counts, order_body

__all__ = ["ADDRESS", "Shop", "conservation", "counts", "order_body"]
