"""The relying party: Authlib's Django client, one registered app per configured provider.

Authlib does the protocol: discovery (``<issuer>/.well-known/openid-configuration``), the
authorization request with ``state`` and ``nonce`` kept in the session and a PKCE (S256)
challenge, the code exchange with the client secret, and the id_token's checks — RS256 signature
against the provider's JWKS (fetched again when it meets an unknown key id), issuer, audience,
expiry and nonce. Apps are kept per configuration, so discovery and the key set are fetched once
per process, not at every sign-in.
"""

import json
from dataclasses import asdict

from authlib.integrations.django_client import DjangoOAuth2App, OAuth

from portal.sso.providers import Provider

_TIMEOUT_SECONDS = 10
_apps: dict[str, DjangoOAuth2App] = {}


def app_for(provider: Provider) -> DjangoOAuth2App:
    key = json.dumps(asdict(provider), sort_keys=True, default=str)
    app = _apps.get(key)
    if app is None:
        registry = OAuth()
        app = registry.register(
            name=provider.slug,
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            server_metadata_url=provider.discovery_url,
            client_kwargs={
                "scope": provider.scopes,
                "code_challenge_method": "S256",
                "default_timeout": _TIMEOUT_SECONDS,
            },
        )
        _apps[key] = app
    return app
