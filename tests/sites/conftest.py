"""Fixtures shared by the sites tests."""

import pytest

from sites.models import ProbeRun, Site
from sites.services.proof import refresh_proof_summary
from sites.vendors import RENDERERS
from sites.vendors.base import Renderer


@pytest.fixture
def quiet_world(world):
    """The world without its open probe runs (every world site would be "waiting on customer")."""
    ProbeRun.objects.all().delete()
    refresh_proof_summary(site_ids=Site.objects.values("pk"))  # as the services keep it
    return world


@pytest.fixture
def unplannable_vendor(monkeypatch) -> str:
    """A firewall whose instructions carry no markers, as every one did before plans existed:
    the generic renderer with the base class's ``managed_items`` (PlansUnavailable)."""
    generic = type(RENDERERS["generic"])
    monkeypatch.setattr(generic, "markers_since", None)
    monkeypatch.setattr(generic, "managed_items", Renderer.managed_items)
    return "generic"
