"""Fixtures shared by the sites tests."""

import pytest

from sites.models import ProbeRun


@pytest.fixture
def quiet_world(world):
    """The world without its open probe runs (every world site would be "waiting on customer")."""
    ProbeRun.objects.all().delete()
    return world
