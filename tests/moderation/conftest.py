"""Moderation's tests are about new members' flags (trust level 0, a flag weighs 10)
unless a test says otherwise: ``make_user`` here defaults to trust level 0."""

import pytest

from tests.conftest import UserFactory


@pytest.fixture
def make_user(app):
    factory = UserFactory(app)

    def make(*args, trust_level: int = 0, **kwargs):
        return factory(*args, trust_level=trust_level, **kwargs)

    return make
