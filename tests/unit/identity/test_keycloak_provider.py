"""KeycloakProvider against a recorder of Keycloak's Admin REST API, and the realm export (ID-4, ID-5, SPEC 7.2).

No Keycloak server can run on this machine, hence the recorder: a plain HTTP server on 127.0.0.1
that answers the realm's token endpoint and the Admin REST paths the provider uses with minimal
plausible JSON (201 + Location for creations, 204 for updates, what a test scripts for reads) and
records every request. The contract checked is narrow on purpose: the Admin REST paths, methods
and request bodies python-keycloak sends for each provider method, and how Keycloak's error
statuses come out as the platform's domain errors. Whether Keycloak then issues the right tokens
is the realm export's job (checked for its mappers below) and, for the validator, the external
issuer test in tests/integration/test_external_oidc.py.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from services.common.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from services.common.policy import ROLES
from services.identity.provider import IdentityProvider, KeycloakProvider, keycloak_provider_from_env

REALM_EXPORT = Path(__file__).resolve().parents[3] / "infra" / "keycloak" / "realm-prevention.json"
ADMIN = "/admin/realms/prevention"
TOKEN_PATH = "/realms/prevention/protocol/openid-connect/token"
ADMIN_TOKEN = "admin-access-token"
CREATED_COLLECTIONS = ("users", "groups", "roles", "clients", "client-scopes")
LIST_SUFFIXES = ("/users", "/roles", "/groups", "/clients", "/client-scopes", "/role-mappings/realm",
                 "/default-client-scopes")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    body: object
    authorization: str | None

    @property
    def call(self) -> tuple[str, str]:
        return self.method, self.path


class KeycloakRecorder:
    """Answers like Keycloak would, as far as the provider needs, and records every request."""

    def __init__(self):
        self.requests: list[Request] = []
        self.replies: dict[tuple[str, str], tuple[int, object]] = {}
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
                    body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                else:
                    body = json.loads(raw) if raw.strip() else None
                request = Request(self.command, url.path, parse_qs(url.query), body,
                                  self.headers.get("Authorization"))
                recorder.requests.append(request)
                status, payload, headers = recorder.answer(request)
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # A short poll interval only makes shutdown() return quickly; no test waits on it.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02},
                                       daemon=True)
        self.thread.start()

    def reply(self, method: str, path: str, json_body: object = None, *, status: int = 200) -> None:
        self.replies[(method, path)] = (status, json_body)

    def answer(self, request: Request) -> tuple[int, object, dict[str, str]]:
        scripted = self.replies.get(request.call)
        if scripted is not None:
            return scripted[0], scripted[1], {}
        method, path = request.call
        if (method, path) == ("POST", TOKEN_PATH):
            return 200, {"access_token": ADMIN_TOKEN, "expires_in": 300, "token_type": "Bearer"}, {}
        if method == "POST" and path.rsplit("/", 1)[-1] in CREATED_COLLECTIONS:
            kind = path.rsplit("/", 1)[-1]
            name = request.body.get("username") or request.body.get("clientId") or request.body.get("name")
            return 201, None, {"Location": f"{self.url}{path}/{kind}-{name}"}
        if method == "POST" and path.endswith("/client-secret"):
            return 200, {"type": "secret", "value": "rotated-secret"}, {}
        if method in ("POST", "PUT", "DELETE"):
            return 204, None, {}
        if path.endswith("/client-secret"):
            return 200, {"type": "secret", "value": "current-secret"}, {}
        if path.endswith(LIST_SUFFIXES):
            return 200, [], {}
        return 404, {"error": "Could not find resource"}, {}

    def admin_calls(self) -> list[tuple[str, str]]:
        return [r.call for r in self.requests if r.path.startswith("/admin/")]

    def bodies(self, method: str, path: str) -> list[object]:
        return [r.body for r in self.requests if r.call == (method, path)]

    def clear(self) -> None:
        self.requests.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


ALL_ROLES = [{"id": f"rid-{name}", "name": name} for name in ROLES] + [
    {"id": "rid-default", "name": "default-roles-prevention"},
    {"id": "rid-offline", "name": "offline_access"},
]
BASE_SCOPES = [{"id": "sid-basic", "name": "basic"}, {"id": "sid-roles", "name": "roles"},
               {"id": "sid-prevention", "name": "prevention"}, {"id": "sid-profile", "name": "profile"}]


@pytest.fixture
def keycloak():
    recorder = KeycloakRecorder()
    yield recorder
    recorder.close()


@pytest.fixture
def provider(keycloak) -> KeycloakProvider:
    return KeycloakProvider(keycloak.url, "prevention", admin_client_id="prevention-identity",
                            admin_client_secret="admin-secret", timeout=5)


def test_is_an_identity_provider(provider):
    assert isinstance(provider, IdentityProvider)


def test_admin_client_authenticates_with_client_credentials(keycloak, provider):
    keycloak.reply("GET", f"{ADMIN}/roles", ALL_ROLES)
    provider.ensure_roles(["trainee"])
    token_request = keycloak.requests[0]
    assert token_request.call == ("POST", TOKEN_PATH)
    assert token_request.body["grant_type"] == "client_credentials"
    assert token_request.body["client_id"] == "prevention-identity"
    assert token_request.body["client_secret"] == "admin-secret"
    assert all(r.authorization == f"Bearer {ADMIN_TOKEN}" for r in keycloak.requests[1:])


def test_ensure_roles_creates_only_missing_roles(keycloak, provider):
    keycloak.reply("GET", f"{ADMIN}/roles", [r for r in ALL_ROLES if r["name"] != "expert"])
    provider.ensure_roles(["trainee", "expert"])
    assert keycloak.admin_calls() == [("GET", f"{ADMIN}/roles"), ("POST", f"{ADMIN}/roles"),
                                      ("GET", f"{ADMIN}/roles")]
    assert keycloak.bodies("POST", f"{ADMIN}/roles")[0]["name"] == "expert"


def test_ensure_roles_refuses_names_outside_spec_section_2(keycloak, provider):
    with pytest.raises(InvalidArgument):
        provider.ensure_roles(["trainee", "realm-admin"])
    with pytest.raises(InvalidArgument):
        provider.ensure_roles("trainee")
    assert keycloak.requests == []


def test_ensure_tenant_group_creates_group_with_tenant_attribute(keycloak, provider):
    group_id = provider.ensure_tenant_group("110000", "北京市")
    assert group_id == "groups-tenant-110000"
    assert keycloak.admin_calls() == [("GET", f"{ADMIN}/group-by-path/tenant-110000"), ("POST", f"{ADMIN}/groups")]
    (body,) = keycloak.bodies("POST", f"{ADMIN}/groups")
    assert body["name"] == "tenant-110000"
    assert body["attributes"]["tenant"] == ["110000"]
    assert body["attributes"]["display_name"] == ["北京市"]


def test_ensure_tenant_group_updates_an_existing_group_only_when_needed(keycloak, provider):
    keycloak.reply("GET", f"{ADMIN}/group-by-path/tenant-110000",
                   {"id": "g1", "name": "tenant-110000", "attributes": {"tenant": ["110000"]}})
    assert provider.ensure_tenant_group("110000", "北京市") == "g1"
    assert keycloak.admin_calls()[-1] == ("PUT", f"{ADMIN}/groups/g1")
    assert keycloak.bodies("PUT", f"{ADMIN}/groups/g1")[0]["attributes"] == {
        "tenant": ["110000"], "display_name": ["北京市"]}

    keycloak.reply("GET", f"{ADMIN}/group-by-path/tenant-110000",
                   {"id": "g1", "name": "tenant-110000",
                    "attributes": {"tenant": ["110000"], "display_name": ["北京市"]}})
    keycloak.clear()
    assert provider.ensure_tenant_group("110000", "北京市") == "g1"
    assert keycloak.admin_calls() == [("GET", f"{ADMIN}/group-by-path/tenant-110000")]


def test_ensure_tenant_group_refuses_a_bad_code(provider, keycloak):
    with pytest.raises(InvalidArgument):
        provider.ensure_tenant_group("11000", "x")
    assert keycloak.requests == []


def _existing_tenant_group(keycloak, code="110000", group_id="g-110000"):
    keycloak.reply("GET", f"{ADMIN}/group-by-path/tenant-{code}",
                   {"id": group_id, "name": f"tenant-{code}", "attributes": {"tenant": [code]}})


def test_upsert_user_creates_user_with_attributes_group_and_roles(keycloak, provider):
    _existing_tenant_group(keycloak)
    keycloak.reply("GET", f"{ADMIN}/roles", ALL_ROLES)
    keycloak.reply("GET", f"{ADMIN}/users/users-alice/role-mappings/realm",
                   [{"id": "rid-default", "name": "default-roles-prevention"}])

    user_id = provider.upsert_user(username="alice", email="alice@example.test", tenant_code="110000",
                                   roles=["provincial_operator"], organisation="org-7", enabled=True)

    assert user_id == "users-alice"
    assert keycloak.admin_calls() == [
        ("GET", f"{ADMIN}/group-by-path/tenant-110000"),
        ("GET", f"{ADMIN}/users"),
        ("POST", f"{ADMIN}/users"),
        ("PUT", f"{ADMIN}/users/users-alice/groups/g-110000"),
        ("GET", f"{ADMIN}/users/users-alice/role-mappings/realm"),
        ("GET", f"{ADMIN}/roles"),
        ("POST", f"{ADMIN}/users/users-alice/role-mappings/realm"),
    ]
    lookup = next(r for r in keycloak.requests if r.call == ("GET", f"{ADMIN}/users"))
    assert lookup.query["username"] == ["alice"] and lookup.query["exact"] == ["True"]
    (created,) = keycloak.bodies("POST", f"{ADMIN}/users")
    assert created["username"] == "alice"
    assert created["email"] == "alice@example.test"
    assert created["enabled"] is True
    assert created["attributes"] == {"tenant": ["110000"], "org": ["org-7"]}
    assert keycloak.bodies("POST", f"{ADMIN}/users/users-alice/role-mappings/realm") == [
        [{"id": "rid-provincial_operator", "name": "provincial_operator"}]]


def _existing_user(keycloak, *, user_id="u1", tenant="110000", org="org-7", enabled=True, roles=("trainee",),
                   groups=(("g-110000", "tenant-110000"),)):
    keycloak.reply("GET", f"{ADMIN}/users", [{"id": user_id, "username": "bob"}])
    keycloak.reply("GET", f"{ADMIN}/users/{user_id}", {
        "id": user_id, "username": "bob", "email": "bob@example.test", "firstName": "Bob", "enabled": enabled,
        "emailVerified": True, "createdTimestamp": 1, "access": {"manage": True},
        "attributes": {"tenant": [tenant], "org": [org], "locale": ["zh-CN"]},
    })
    keycloak.reply("GET", f"{ADMIN}/users/{user_id}/groups", [{"id": g, "name": n, "path": f"/{n}"} for g, n in groups])
    keycloak.reply("GET", f"{ADMIN}/users/{user_id}/role-mappings/realm",
                   [{"id": "rid-default", "name": "default-roles-prevention"}]
                   + [{"id": f"rid-{r}", "name": r} for r in roles])
    keycloak.reply("GET", f"{ADMIN}/roles", ALL_ROLES)


def test_upsert_user_updates_and_sets_roles_exactly(keycloak, provider):
    _existing_tenant_group(keycloak, "120000", "g-120000")
    _existing_user(keycloak, roles=("trainee", "expert", "offline_access"))

    user_id = provider.upsert_user(username="bob", email=None, tenant_code="120000",
                                   roles=["trainee", "employer_officer"], organisation=None, enabled=True)

    assert user_id == "u1"
    assert keycloak.admin_calls() == [
        ("GET", f"{ADMIN}/group-by-path/tenant-120000"),
        ("GET", f"{ADMIN}/users"),
        ("GET", f"{ADMIN}/users/u1"),
        ("PUT", f"{ADMIN}/users/u1"),
        ("GET", f"{ADMIN}/users/u1/groups"),
        ("PUT", f"{ADMIN}/users/u1/groups/g-120000"),
        ("DELETE", f"{ADMIN}/users/u1/groups/g-110000"),
        ("GET", f"{ADMIN}/users/u1/role-mappings/realm"),
        ("GET", f"{ADMIN}/roles"),
        ("POST", f"{ADMIN}/users/u1/role-mappings/realm"),
        ("DELETE", f"{ADMIN}/users/u1/role-mappings/realm"),
        ("POST", f"{ADMIN}/users/u1/logout"),
    ]
    (updated,) = keycloak.bodies("PUT", f"{ADMIN}/users/u1")
    # Read-modify-write: what others set survives, read-only fields are not echoed, org is gone.
    assert updated["attributes"] == {"tenant": ["120000"], "locale": ["zh-CN"]}
    assert updated["email"] == "bob@example.test" and updated["firstName"] == "Bob"
    assert "access" not in updated and "createdTimestamp" not in updated
    assert keycloak.bodies("POST", f"{ADMIN}/users/u1/role-mappings/realm") == [
        [{"id": "rid-employer_officer", "name": "employer_officer"}]]
    removed = keycloak.bodies("DELETE", f"{ADMIN}/users/u1/role-mappings/realm")[0]
    assert sorted(r["name"] for r in removed) == ["expert", "offline_access"]  # default-roles-* stays


def test_upsert_user_without_changes_of_security_relevance_keeps_sessions(keycloak, provider):
    _existing_tenant_group(keycloak)
    _existing_user(keycloak, roles=("trainee",))
    provider.upsert_user(username="bob", email="bob@example.test", tenant_code="110000", roles=["trainee"],
                         organisation="org-7", enabled=True)
    calls = keycloak.admin_calls()
    assert ("POST", f"{ADMIN}/users/u1/logout") not in calls
    assert not any(method == "DELETE" for method, _ in calls)
    assert ("POST", f"{ADMIN}/users/u1/role-mappings/realm") not in calls


def test_upsert_user_disabled_logs_out(keycloak, provider):
    _existing_tenant_group(keycloak)
    _existing_user(keycloak, roles=("trainee",))
    provider.upsert_user(username="bob", email=None, tenant_code="110000", roles=["trainee"],
                         organisation="org-7", enabled=False)
    assert keycloak.bodies("PUT", f"{ADMIN}/users/u1")[0]["enabled"] is False
    assert keycloak.admin_calls()[-1] == ("POST", f"{ADMIN}/users/u1/logout")


def test_upsert_user_creates_a_missing_tenant_group(keycloak, provider):
    keycloak.reply("GET", f"{ADMIN}/roles", ALL_ROLES)
    provider.upsert_user(username="carol", email=None, tenant_code="650000", roles=["trainee"],
                         organisation=None, enabled=True)
    (group,) = keycloak.bodies("POST", f"{ADMIN}/groups")
    assert group == {"name": "tenant-650000", "attributes": {"tenant": ["650000"]}}
    (created,) = keycloak.bodies("POST", f"{ADMIN}/users")
    assert "email" not in created and created["attributes"] == {"tenant": ["650000"]}
    assert ("PUT", f"{ADMIN}/users/users-carol/groups/groups-tenant-650000") in keycloak.admin_calls()


def test_upsert_user_email_taken_is_already_exists(keycloak, provider):
    _existing_tenant_group(keycloak)
    keycloak.reply("POST", f"{ADMIN}/users", {"errorMessage": "User exists with same email"}, status=409)
    with pytest.raises(AlreadyExists) as info:
        provider.upsert_user(username="dave", email="taken@example.test", tenant_code="110000", roles=[],
                             organisation=None, enabled=True)
    assert info.value.reason == "EMAIL_TAKEN"
    assert "taken@example.test" not in info.value.message and "dave" not in info.value.message


def test_upsert_user_refuses_unknown_roles_before_calling_keycloak(keycloak, provider):
    with pytest.raises(InvalidArgument):
        provider.upsert_user(username="eve", email=None, tenant_code="110000", roles=["admin"],
                             organisation=None, enabled=True)
    assert keycloak.requests == []


def test_set_user_enabled_false_disables_and_logs_out(keycloak, provider):
    _existing_user(keycloak)
    provider.set_user_enabled("bob", False)
    assert keycloak.admin_calls() == [
        ("GET", f"{ADMIN}/users"),
        ("GET", f"{ADMIN}/users/u1"),
        ("PUT", f"{ADMIN}/users/u1"),
        ("POST", f"{ADMIN}/users/u1/logout"),
    ]
    (body,) = keycloak.bodies("PUT", f"{ADMIN}/users/u1")
    assert body["enabled"] is False
    assert body["attributes"]["tenant"] == ["110000"]


def test_set_user_enabled_true_does_not_log_out(keycloak, provider):
    _existing_user(keycloak, enabled=False)
    provider.set_user_enabled("bob", True)
    assert keycloak.bodies("PUT", f"{ADMIN}/users/u1")[0]["enabled"] is True
    assert ("POST", f"{ADMIN}/users/u1/logout") not in keycloak.admin_calls()


def test_set_user_enabled_unknown_user_is_not_found(keycloak, provider):
    with pytest.raises(NotFound):
        provider.set_user_enabled("nobody", False)


def _client_scopes(keycloak, extra=()):
    keycloak.reply("GET", f"{ADMIN}/client-scopes", BASE_SCOPES + list(extra))


def test_upsert_client_creates_a_client_credentials_client(keycloak, provider):
    _client_scopes(keycloak)
    keycloak.reply("GET", f"{ADMIN}/roles", ALL_ROLES)
    keycloak.reply("GET", f"{ADMIN}/clients/clients-tp-110000/service-account-user",
                   {"id": "sa-1", "username": "service-account-tp-110000", "enabled": True})
    keycloak.reply("GET", f"{ADMIN}/clients/clients-tp-110000/default-client-scopes",
                   [{"id": "sid-basic", "name": "basic"}, {"id": "sid-profile", "name": "profile"}])

    secret = provider.upsert_client(client_id="tp-110000", tenant_code="110000", scopes=["xapi:write"],
                                    roles=["training_platform"])

    assert secret == "current-secret"
    client = f"{ADMIN}/clients/clients-tp-110000"
    assert keycloak.admin_calls() == [
        ("GET", f"{ADMIN}/client-scopes"),
        ("POST", f"{ADMIN}/client-scopes"),
        ("GET", f"{ADMIN}/clients"),
        ("POST", f"{ADMIN}/clients"),
        ("GET", f"{client}/default-client-scopes"),
        ("PUT", f"{client}/default-client-scopes/sid-roles"),
        ("PUT", f"{client}/default-client-scopes/sid-prevention"),
        ("PUT", f"{client}/default-client-scopes/client-scopes-xapi:write"),
        ("DELETE", f"{client}/default-client-scopes/sid-profile"),
        ("GET", f"{client}/service-account-user"),
        ("PUT", f"{ADMIN}/users/sa-1"),
        ("GET", f"{ADMIN}/users/sa-1/role-mappings/realm"),
        ("GET", f"{ADMIN}/roles"),
        ("POST", f"{ADMIN}/users/sa-1/role-mappings/realm"),
        ("GET", f"{client}/client-secret"),
    ]
    (scope,) = keycloak.bodies("POST", f"{ADMIN}/client-scopes")
    assert scope["name"] == "xapi:write" and scope["protocol"] == "openid-connect"
    assert scope["attributes"]["include.in.token.scope"] == "true"
    lookup = next(r for r in keycloak.requests if r.call == ("GET", f"{ADMIN}/clients"))
    assert lookup.query["clientId"] == ["tp-110000"]
    (body,) = keycloak.bodies("POST", f"{ADMIN}/clients")
    assert body["clientId"] == "tp-110000"
    assert body["enabled"] is True
    assert body["publicClient"] is False and body["clientAuthenticatorType"] == "client-secret"
    assert body["serviceAccountsEnabled"] is True
    assert body["standardFlowEnabled"] is False
    assert body["implicitFlowEnabled"] is False and body["directAccessGrantsEnabled"] is False
    assert body["defaultClientScopes"] == ["basic", "roles", "prevention", "xapi:write"]
    assert body["optionalClientScopes"] == []
    assert body["attributes"]["client_credentials.use_refresh_token"] == "false"
    (service_account,) = keycloak.bodies("PUT", f"{ADMIN}/users/sa-1")
    assert service_account["attributes"] == {"tenant": ["110000"]}
    assert keycloak.bodies("POST", f"{ADMIN}/users/sa-1/role-mappings/realm") == [
        [{"id": "rid-training_platform", "name": "training_platform"}]]


def test_upsert_client_updates_an_existing_client_without_touching_enabled(keycloak, provider):
    _client_scopes(keycloak, [{"id": "sid-x", "name": "xapi:write"}])
    keycloak.reply("GET", f"{ADMIN}/clients", [{"id": "c1", "clientId": "tp-110000"}])
    keycloak.reply("GET", f"{ADMIN}/clients/c1/default-client-scopes",
                   [{"id": s, "name": s} for s in ("sid-basic", "sid-roles", "sid-prevention", "sid-x")])
    keycloak.reply("GET", f"{ADMIN}/clients/c1/service-account-user",
                   {"id": "sa-1", "username": "service-account-tp-110000", "attributes": {"tenant": ["110000"]}})
    keycloak.reply("GET", f"{ADMIN}/users/sa-1/role-mappings/realm",
                   [{"id": "rid-training_platform", "name": "training_platform"}])

    assert provider.upsert_client(client_id="tp-110000", tenant_code="110000", scopes=["xapi:write"],
                                  roles=["training_platform"]) == "current-secret"
    assert keycloak.admin_calls() == [
        ("GET", f"{ADMIN}/client-scopes"),
        ("GET", f"{ADMIN}/clients"),
        ("PUT", f"{ADMIN}/clients/c1"),
        ("GET", f"{ADMIN}/clients/c1/default-client-scopes"),
        ("GET", f"{ADMIN}/clients/c1/service-account-user"),
        ("GET", f"{ADMIN}/users/sa-1/role-mappings/realm"),
        ("GET", f"{ADMIN}/clients/c1/client-secret"),
    ]
    (body,) = keycloak.bodies("PUT", f"{ADMIN}/clients/c1")
    assert "enabled" not in body and "secret" not in body
    assert body["serviceAccountsEnabled"] is True and body["standardFlowEnabled"] is False


def test_upsert_client_needs_the_realm_scopes(keycloak, provider):
    keycloak.reply("GET", f"{ADMIN}/client-scopes", [{"id": "sid-profile", "name": "profile"}])
    with pytest.raises(FailedPrecondition):
        provider.upsert_client(client_id="tp-1", tenant_code="110000", scopes=[], roles=["training_platform"])


def test_upsert_client_refuses_bad_input(keycloak, provider):
    for kwargs in ({"scopes": ["has space"]}, {"scopes": ["roles"]}, {"roles": ["realm-admin"]},
                   {"tenant_code": "1100"}, {"client_id": "bad id"}):
        arguments = {"client_id": "tp-1", "tenant_code": "110000", "scopes": [], "roles": ["training_platform"]}
        arguments.update(kwargs)
        with pytest.raises(InvalidArgument):
            provider.upsert_client(**arguments)
    assert keycloak.requests == []


def test_rotate_client_secret_posts_client_secret(keycloak, provider):
    keycloak.reply("GET", f"{ADMIN}/clients", [{"id": "c1", "clientId": "tp-110000"}])
    assert provider.rotate_client_secret("tp-110000") == "rotated-secret"
    assert keycloak.admin_calls() == [("GET", f"{ADMIN}/clients"), ("POST", f"{ADMIN}/clients/c1/client-secret")]


def test_rotate_client_secret_unknown_client_is_not_found(keycloak, provider):
    with pytest.raises(NotFound):
        provider.rotate_client_secret("tp-unknown")


def test_set_client_enabled_puts_enabled_flag(keycloak, provider):
    keycloak.reply("GET", f"{ADMIN}/clients", [{"id": "c1", "clientId": "tp-110000"}])
    provider.set_client_enabled("tp-110000", False)
    assert keycloak.admin_calls() == [("GET", f"{ADMIN}/clients"), ("PUT", f"{ADMIN}/clients/c1")]
    assert keycloak.bodies("PUT", f"{ADMIN}/clients/c1") == [{"clientId": "tp-110000", "enabled": False}]


# ---- errors ------------------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_keycloak_is_unavailable():
    provider = KeycloakProvider(f"http://127.0.0.1:{_closed_port()}", admin_client_id="a", admin_client_secret="s",
                                timeout=2)
    with pytest.raises(Unavailable):
        provider.ensure_roles(["trainee"])


def test_keycloak_5xx_is_unavailable(keycloak, provider):
    keycloak.reply("GET", f"{ADMIN}/roles", {"error": "unknown_error"}, status=503)
    with pytest.raises(Unavailable):
        provider.ensure_roles(["trainee"])


def test_wrong_admin_credentials_are_not_reported_as_success(keycloak, provider):
    keycloak.reply("POST", TOKEN_PATH, {"error": "unauthorized_client"}, status=401)
    with pytest.raises(DomainError) as info:
        provider.ensure_roles(["trainee"])
    assert info.value.reason == "IDENTITY_PROVIDER_DENIED"


def test_keycloak_404_on_update_is_not_found(keycloak, provider):
    keycloak.reply("GET", f"{ADMIN}/clients", [{"id": "c1", "clientId": "tp-110000"}])
    keycloak.reply("PUT", f"{ADMIN}/clients/c1", {"error": "Could not find client"}, status=404)
    with pytest.raises(NotFound):
        provider.set_client_enabled("tp-110000", True)


def test_provider_from_env(keycloak):
    provider = keycloak_provider_from_env({
        "PREVENTION_KEYCLOAK_URL": keycloak.url,
        "PREVENTION_KEYCLOAK_REALM": "prevention",
        "PREVENTION_KEYCLOAK_ADMIN_CLIENT_ID": "sync",
        "PREVENTION_KEYCLOAK_ADMIN_CLIENT_SECRET": "s",
    })
    keycloak.reply("GET", f"{ADMIN}/roles", ALL_ROLES)
    provider.ensure_roles(["trainee"])
    assert keycloak.requests[0].body["client_id"] == "sync"
    with pytest.raises(ValueError, match="PREVENTION_KEYCLOAK_ADMIN_CLIENT_SECRET"):
        keycloak_provider_from_env({"PREVENTION_KEYCLOAK_URL": keycloak.url})


def test_server_url_with_a_context_path_keeps_it(keycloak):
    provider = KeycloakProvider(f"{keycloak.url}/auth", admin_client_id="a", admin_client_secret="s", timeout=5)
    keycloak.reply("POST", f"/auth{TOKEN_PATH}", {"access_token": "t", "expires_in": 300})
    keycloak.reply("GET", f"/auth{ADMIN}/roles", ALL_ROLES)
    provider.ensure_roles(["trainee"])
    assert [r.path for r in keycloak.requests] == [f"/auth{TOKEN_PATH}", f"/auth{ADMIN}/roles"]


# ---- the realm export --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def realm() -> dict:
    return json.loads(REALM_EXPORT.read_text(encoding="utf-8"))


def _mappers(realm: dict) -> list[dict]:
    found = [m for scope in realm.get("clientScopes", []) for m in scope.get("protocolMappers", [])]
    found += [m for client in realm.get("clients", []) for m in client.get("protocolMappers", [])]
    return found


def _scope(realm: dict, name: str) -> dict:
    return next(s for s in realm["clientScopes"] if s["name"] == name)


def _client(realm: dict, client_id: str) -> dict:
    return next(c for c in realm["clients"] if c["clientId"] == client_id)


def test_realm_export_roles_and_token_settings(realm):
    assert realm["realm"] == "prevention" and realm["enabled"] is True
    assert set(ROLES) <= {r["name"] for r in realm["roles"]["realm"]}
    assert realm["accessTokenLifespan"] == 300
    assert realm["ssoSessionIdleTimeout"] == 1800
    assert realm["defaultSignatureAlgorithm"] == "RS256"


def test_realm_export_brute_force_and_otp(realm):
    assert realm["bruteForceProtected"] is True
    assert realm["failureFactor"] == 5
    assert realm["permanentLockout"] is False
    assert realm["waitIncrementSeconds"] == 900 and realm["maxFailureWaitSeconds"] == 900
    assert (realm["otpPolicyType"], realm["otpPolicyAlgorithm"]) == ("totp", "HmacSHA1")
    assert (realm["otpPolicyDigits"], realm["otpPolicyPeriod"]) == (6, 30)


def test_realm_export_prevention_scope_maps_tenant_org_and_audience(realm):
    mappers = {m["name"]: m for m in _scope(realm, "prevention")["protocolMappers"]}
    tenant = next(m for m in mappers.values() if m["config"].get("claim.name") == "tenant")
    assert tenant["protocolMapper"] == "oidc-usermodel-attribute-mapper"
    assert tenant["config"]["user.attribute"] == "tenant"
    assert tenant["config"]["access.token.claim"] == "true"
    org = next(m for m in mappers.values() if m["config"].get("claim.name") == "org")
    assert org["protocolMapper"] == "oidc-usermodel-attribute-mapper" and org["config"]["user.attribute"] == "org"
    audience = next(m for m in mappers.values() if m["protocolMapper"] == "oidc-audience-mapper")
    assert audience["config"]["included.custom.audience"] == "prevention-api"
    assert audience["config"]["access.token.claim"] == "true"


def test_realm_export_tokens_carry_sub_and_realm_roles(realm):
    # A realm export that lists clientScopes gets none of Keycloak's built-in ones, so `sub`
    # (scope `basic`, Keycloak 25+) and `realm_access.roles` (scope `roles`) must be declared.
    assert any(m["protocolMapper"] == "oidc-sub-mapper" for m in _scope(realm, "basic")["protocolMappers"])
    roles = next(m for m in _scope(realm, "roles")["protocolMappers"]
                 if m["protocolMapper"] == "oidc-usermodel-realm-role-mapper")
    assert roles["config"]["claim.name"] == "realm_access.roles"
    assert roles["config"]["multivalued"] == "true"
    for scope in ("basic", "roles", "prevention"):
        assert scope in realm["defaultDefaultClientScopes"]


def test_realm_export_user_profile_declares_admin_only_tenant_and_org(realm):
    (component,) = realm["components"]["org.keycloak.userprofile.UserProfileProvider"]
    profile = json.loads(component["config"]["kc.user.profile.config"][0])
    attributes = {a["name"]: a for a in profile["attributes"]}
    for name in ("tenant", "org"):
        assert attributes[name]["permissions"]["edit"] == ["admin"]  # a user never edits its own tenant


def test_realm_export_clients(realm):
    console = _client(realm, "prevention-console")
    assert console["publicClient"] is True and console["standardFlowEnabled"] is True
    assert console["implicitFlowEnabled"] is False and console["directAccessGrantsEnabled"] is False
    assert console["attributes"]["pkce.code.challenge.method"] == "S256"
    assert all(uri.endswith("/console/*") for uri in console["redirectUris"])
    assert "prevention" in console["defaultClientScopes"]

    gateway = _client(realm, "prevention-gateway")
    assert gateway["bearerOnly"] is True and gateway["publicClient"] is False

    template = _client(realm, "training-platform-template")
    assert template["serviceAccountsEnabled"] is True and template["publicClient"] is False
    assert template["standardFlowEnabled"] is False and template["directAccessGrantsEnabled"] is False
    assert template["enabled"] is False  # a template: copies are made by KeycloakProvider.upsert_client
    assert set(template["defaultClientScopes"]) >= {"basic", "roles", "prevention"}

    sync = _client(realm, "prevention-identity")
    assert sync["serviceAccountsEnabled"] is True and sync["publicClient"] is False
    assert "secret" not in sync  # never a secret in the repository


def test_realm_export_mapper_types_are_known(realm):
    known = {"oidc-usermodel-attribute-mapper", "oidc-audience-mapper", "oidc-usermodel-realm-role-mapper",
             "oidc-sub-mapper", "oidc-usersessionmodel-note-mapper", "oidc-full-name-mapper",
             "oidc-usermodel-property-mapper", "oidc-allowed-origins-mapper", "oidc-acr-mapper",
             "oidc-audience-resolve-mapper", "oidc-hardcoded-claim-mapper"}
    assert {m["protocolMapper"] for m in _mappers(realm)} <= known
