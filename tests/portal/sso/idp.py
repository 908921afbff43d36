"""A real OpenID Connect identity provider for the tests, run as its own process on loopback.

Built on Authlib's server side (``AuthorizationServer``, ``AuthorizationCodeGrant``, the
``OpenIDCode`` extension and PKCE) and served by Flask/Werkzeug. It serves discovery, JWKS, an
authorization endpoint with a sign-in form (a username, no password: the tests' people are its
users), and a token endpoint answering with RS256-signed id_tokens. Everything is in memory.

Tests set it up over HTTP: ``POST /_test/people`` adds a person (their claims),
``POST /_test/clients`` registers a relying party, and ``POST /_test/fault`` makes the next
answers misbehave as an attacker or a broken provider would: ``bad_signature`` (the id_token is
signed by a key that is not in the JWKS, under the published key id), ``wrong_nonce`` (the
id_token carries another nonce than the one asked for), or "" (behave).

Run: ``python -m tests.portal.sso.idp`` prints ``http://127.0.0.1:<port>`` once it listens.
"""

import logging
import sys
import time
from dataclasses import dataclass, field

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin, UserInfo
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, jsonify, request
from joserfc.jwk import RSAKey
from markupsafe import escape
from werkzeug.serving import make_server

KEY_ID = "test-idp-1"
SIGNING_KEY = RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig", "alg": "RS256"})
# Same key id, another key: what a forged token would be signed with.
FORGED_KEY = RSAKey.generate_key(2048, parameters={"kid": KEY_ID, "use": "sig", "alg": "RS256"})

state = {"fault": "", "people": {}, "clients": {}, "codes": {}, "issuer": ""}


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list[str]

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope):
        return " ".join(s for s in scope.split() if s in {"openid", "email", "profile", "groups"})

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return client_secret == self.client_secret

    def check_endpoint_auth_method(self, method, endpoint):
        return method in {"client_secret_basic", "client_secret_post"}

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class Person:
    username: str
    claims: dict  # sub, email, email_verified, name, groups…
    amr: list[str] = field(default_factory=list)


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    person: Person
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return "not-the-nonce-asked-for" if state["fault"] == "wrong_nonce" else self.nonce

    def get_auth_time(self):
        return self.auth_time

    def get_amr(self):
        return self.person.amr or None


class CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code, req):
        state["codes"][code] = Code(
            code=code,
            client_id=req.client.client_id,
            redirect_uri=req.payload.redirect_uri,
            scope=req.scope,
            person=req.user,
            nonce=req.payload.data.get("nonce"),
            code_challenge=req.payload.data.get("code_challenge"),
            code_challenge_method=req.payload.data.get("code_challenge_method"),
        )

    def query_authorization_code(self, code, client):
        found = state["codes"].get(code)
        return found if found and found.client_id == client.client_id else None

    def delete_authorization_code(self, authorization_code):
        state["codes"].pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code):
        return authorization_code.person


class IdToken(OpenIDCode):
    def resolve_client_private_key(self, client):
        return FORGED_KEY if state["fault"] == "bad_signature" else SIGNING_KEY

    def get_client_claims(self, client):
        return {"iss": state["issuer"], "aud": [client.client_id]}

    def get_encode_header(self, client):
        return {"alg": "RS256", "kid": KEY_ID}

    def exists_nonce(self, nonce, req):
        return any(code.nonce == nonce for code in state["codes"].values())

    def generate_user_info(self, person, scope):
        return UserInfo(**person.claims)


app = Flask(__name__)
server = AuthorizationServer(
    app,
    query_client=lambda client_id: state["clients"].get(client_id),
    save_token=lambda token, req: None,  # the tests' provider keeps no access tokens
)
server.register_grant(CodeGrant, [IdToken(require_nonce=True), CodeChallenge(required=True)])


@app.get("/.well-known/openid-configuration")
def discovery():
    issuer = state["issuer"]
    return jsonify(
        issuer=issuer,
        authorization_endpoint=f"{issuer}/authorize",
        token_endpoint=f"{issuer}/token",
        jwks_uri=f"{issuer}/jwks",
        response_types_supported=["code"],
        subject_types_supported=["public"],
        id_token_signing_alg_values_supported=["RS256"],
        code_challenge_methods_supported=["S256"],
        scopes_supported=["openid", "email", "profile", "groups"],
        token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
    )


@app.get("/jwks")
def jwks():
    return jsonify(keys=[SIGNING_KEY.as_dict(private=False)])


SIGN_IN_FORM = """<!doctype html><title>Test identity provider</title>
<h1>Test identity provider</h1>
<form method="post"><label>Username <input name="username" autofocus></label>
<button type="submit">Sign in at the provider</button>
<button type="submit" name="cancel" value="1">Cancel</button></form>"""


@app.route("/authorize", methods=["GET", "POST"])
def authorize():
    if request.method == "GET":
        server.get_consent_grant(end_user=None)  # refuses a malformed request before the form
        return SIGN_IN_FORM
    if request.form.get("cancel"):  # the person declines: error=access_denied to the client
        return server.create_authorization_response(grant_user=None)
    person = state["people"].get(request.form.get("username", ""))
    if person is None:
        return f"<p>No such person: {escape(request.form.get('username', ''))}</p>", 403
    return server.create_authorization_response(grant_user=person)


@app.post("/token")
def token():
    return server.create_token_response()


@app.post("/_test/people")
def add_person():
    data = request.get_json()
    state["people"][data["username"]] = Person(
        username=data["username"], claims=data["claims"], amr=data.get("amr", [])
    )
    return jsonify(ok=True)


@app.post("/_test/clients")
def add_client():
    data = request.get_json()
    state["clients"][data["client_id"]] = Client(**data)
    return jsonify(ok=True)


@app.post("/_test/fault")
def set_fault():
    state["fault"] = request.get_json()["fault"]
    return jsonify(ok=True)


def main() -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in test output
    http = make_server("127.0.0.1", 0, app, threaded=True)
    state["issuer"] = f"http://127.0.0.1:{http.server_port}"
    print(state["issuer"], flush=True)
    http.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
