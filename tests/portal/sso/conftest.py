"""The test identity provider (``idp.py``) as a real process on loopback, and the portal
configured to trust it."""

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

CLIENT_ID = "rollout-portal"
CLIENT_SECRET = "test-client-secret"
PROVIDER_SLUG = "staff"


@dataclass
class IdentityProvider:
    url: str

    def add_person(self, username: str, amr: list[str] | None = None, **claims) -> None:
        claims.setdefault("sub", f"sub-{username}")
        payload = {"username": username, "claims": claims, "amr": amr or []}
        requests.post(f"{self.url}/_test/people", json=payload, timeout=5).raise_for_status()

    def allow_redirects_to(self, *portal_urls: str) -> None:
        uris = [f"{url}/accounts/sso/{PROVIDER_SLUG}/callback/" for url in portal_urls]
        client = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uris": uris}
        requests.post(f"{self.url}/_test/clients", json=client, timeout=5).raise_for_status()

    def misbehave(self, fault: str) -> None:
        requests.post(
            f"{self.url}/_test/fault", json={"fault": fault}, timeout=5
        ).raise_for_status()


@pytest.fixture(scope="session")
def _idp_process():
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.portal.sso.idp"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[3],  # the repository: ``tests`` is importable
    )
    url = process.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), "the test identity provider did not start"
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def idp(_idp_process) -> IdentityProvider:
    provider = IdentityProvider(_idp_process)
    provider.misbehave("")
    provider.allow_redirects_to("http://testserver")
    return provider


@pytest.fixture
def use_sso(settings, idp):
    """``use_sso(mapping, **options)``: the portal trusts the test provider with this mapping."""

    def configure(mapping: list, name: str = "Backup Co staff", **options) -> None:
        settings.OIDC_PROVIDERS = [
            {
                "slug": PROVIDER_SLUG,
                "name": name,
                "issuer": idp.url,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "mapping": mapping,
                **options,
            }
        ]

    return configure
