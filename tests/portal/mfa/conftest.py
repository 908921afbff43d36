import pytest

from tests.factories import UserFactory
from tests.portal.mfa.authenticator import enrol


@pytest.fixture
def alice(db):
    """A person with two-factor authentication on: (user, secret, recovery codes)."""
    user = UserFactory(username="alice")
    secret, codes = enrol(user)
    return user, secret, codes
