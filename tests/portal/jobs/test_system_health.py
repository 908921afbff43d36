"""The System health page shows what the configuration checks find (portal.core.health)."""

import pytest
from django.test import Client


def page(world):
    client = Client()
    client.force_login(world.people["operator"])
    response = client.get(f"/o/{world.provider.slug}/system/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_the_health_page_shows_a_responder_outside_the_datacenter(world, settings):
    settings.PROBE_RESPONDER_HOST = "192.0.2.50"
    settings.PROBE_CHECK_SOURCE = "198.51.100.200"
    html = page(world)
    assert "Configuration checks" in html
    assert "The probe responder 192.0.2.50 is outside the datacenter networks" in html
    assert "(sites.W001)" in html and "Fix: Add the responder&#x27;s network" in html


@pytest.mark.django_db
def test_the_health_page_says_when_nothing_is_wrong(world, settings):
    settings.PROBE_RESPONDER_HOST = "203.0.113.10"
    settings.PROBE_CHECK_SOURCE = "198.51.100.200"
    assert "No problems found." in page(world)
