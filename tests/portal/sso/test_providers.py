"""``OIDC_PROVIDERS`` is checked at start-up (``manage.py check``), each mistake named."""

import pytest

from portal.sso.checks import oidc_providers_are_well_formed
from portal.sso.providers import configured_providers

GOOD = {
    "name": "Backup Co staff",
    "issuer": "https://login.backup.example/",
    "client_id": "portal",
    "client_secret": "secret",
    "mapping": [{"email_domain": "backup.example", "organisation": "provider", "role": "support"}],
}


def test_nothing_configured_is_no_provider(settings):
    settings.OIDC_PROVIDERS = []
    assert configured_providers() == {}
    assert oidc_providers_are_well_formed(None) == []


def test_a_provider_is_read_with_its_defaults(settings):
    settings.OIDC_PROVIDERS = [GOOD]
    (provider,) = configured_providers().values()
    assert provider.slug == "backup-co-staff"
    assert provider.discovery_url == "https://login.backup.example/.well-known/openid-configuration"
    assert provider.scopes == "openid email profile"
    assert (provider.link_existing_accounts, provider.mfa_amr) == (False, ())


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"client_secret": ""}, "OIDC_PROVIDERS[0].client_secret: required"),
        (
            {"issuer": "http://login.backup.example"},
            "OIDC_PROVIDERS[0].issuer: an https:// address",
        ),
        ({"slug": "Not a slug"}, "OIDC_PROVIDERS[0].slug"),
        ({"mfa_amr": "mfa"}, "OIDC_PROVIDERS[0].mfa_amr"),
        ({"link_existing_accounts": "yes"}, "OIDC_PROVIDERS[0].link_existing_accounts"),
        (
            {"mapping": [{"email_domain": "b.example", "organisation": "p", "role": "boss"}]},
            "OIDC_PROVIDERS[0].mapping[0].role",
        ),
    ],
)
def test_manage_py_check_names_the_field(settings, change, message):
    settings.OIDC_PROVIDERS = [{**GOOD, **change}]
    (error,) = oidc_providers_are_well_formed(None)
    assert error.id == "sso.E001" and error.msg.startswith(message), error.msg


def test_two_providers_need_two_slugs(settings):
    settings.OIDC_PROVIDERS = [GOOD, GOOD]
    (error,) = oidc_providers_are_well_formed(None)
    assert error.msg == "OIDC_PROVIDERS[1].slug: 'backup-co-staff' twice"
