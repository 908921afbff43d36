"""Site-wide behaviour: error pages with a request id, the landing redirect, security headers."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import path

from portal import urls as portal_urls

ROOT = Path(__file__).resolve().parents[3]


def broken_view(request):
    raise RuntimeError("boom")


urlpatterns = [*portal_urls.urlpatterns, path("boom/", broken_view)]
handler500 = portal_urls.handler500
handler404 = portal_urls.handler404


@pytest.mark.django_db
@pytest.mark.server_error
@pytest.mark.urls("tests.portal.core.test_pages")
def test_an_unexpected_error_shows_a_friendly_page_with_the_request_id():
    client = Client(raise_request_exception=False)
    response = client.get("/boom/", headers={"X-Request-ID": "req-12345678"})
    assert response.status_code == 500
    body = response.content.decode()
    assert "Something went wrong" in body and "req-12345678" in body
    assert "Traceback" not in body and "boom" not in body


@pytest.mark.django_db
def test_not_found_shows_the_request_id():
    response = Client().get("/no/such/page/")
    assert response.status_code == 404
    assert response["X-Request-ID"] in response.content.decode()


@pytest.mark.django_db
def test_a_malformed_request_id_is_replaced():
    response = Client().get("/healthz", headers={"X-Request-ID": "<script>"})
    assert response["X-Request-ID"] != "<script>" and len(response["X-Request-ID"]) == 32


def test_person_without_membership_is_told_so(db):
    from tests.factories import UserFactory

    client = Client()
    client.force_login(UserFactory())
    response = client.get("/")
    assert response.status_code == 200
    assert b"No organisation yet" in response.content


def test_landing_goes_to_the_last_organisation_used(world):
    client = Client()
    client.force_login(world.people["reseller_admin"])
    assert client.get("/")["Location"] == f"/o/{world.reseller.slug}/"
    client.get(f"/o/{world.customer.slug}/")
    assert client.get("/")["Location"] == f"/o/{world.customer.slug}/"


def test_pages_are_not_framed_and_sniffing_is_off(world):
    response = Client().get("/accounts/login/")
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_htmx_is_vendored_and_csrf_travels_in_hx_headers(world):
    client = Client()
    client.force_login(world.people["customer_admin"])
    body = client.get(f"/o/{world.customer.slug}/").content.decode()
    assert "js/htmx-2.0.11.min.js" in body and "//unpkg" not in body and "cdn" not in body.lower()
    assert 'hx-headers=\'{"X-CSRFToken": "' in body
    assert (ROOT / "static/js/htmx-2.0.11.min.js").stat().st_size > 40_000


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "false",
        "SECRET_KEY": "x" * 20 + "-production-like-secret-key-with-entropy-0123456789",
        "ALLOWED_HOSTS": "portal.example.com",
        "SMTP_HOST": "smtp.example.com",
        "PORTAL_VAR_DIR": str(tmp_path),
        # Production names where its probes go and come from (sites.checks warns otherwise).
        "PROBE_RESPONDER_HOST": "203.0.113.10",
        "PROBE_CHECK_SOURCE": "198.51.100.200",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
