"""The identity service provisions Keycloak when configured (SPEC ID-5: Keycloak behind the same
interface as the embedded issuer, selected by configuration).

No Keycloak server can run here: the Keycloak side is the recording HTTP server of
test_keycloak_provider.py, and the contract checked is narrow — that creating a user and an API
client through the identity service's own RPCs sends the Admin REST calls that create them in
the realm, that the client secret returned is Keycloak's, and that a failed mirror writes nothing."""

from __future__ import annotations

import functools

import grpc
import pytest
from prevention.identity.v1 import identity_pb2, identity_pb2_grpc

from services.common.runner import build_runtime
from services.identity.provider import KeycloakProvider
from services.identity.provisioning import EmbeddedProvisioner, KeycloakProvisioner, provisioner_from_env
from services.identity.servicer import build as identity_build
from tests.unit.identity.test_keycloak_provider import ADMIN, ALL_ROLES, KeycloakRecorder, _client_scopes


@pytest.fixture
def keycloak():
    recorder = KeycloakRecorder()
    yield recorder
    recorder.close()


@pytest.fixture
async def identity(settings, db_factory, keycloak):
    provider = KeycloakProvider(keycloak.url, "prevention", admin_client_id="prevention-identity",
                                admin_client_secret="admin-secret", timeout=5)
    build = functools.partial(identity_build, provisioner=KeycloakProvisioner(provider))
    runtime = build_runtime("identity", build, settings=settings,
                            database_url=await db_factory.prepared("identity"), addresses={})
    port = await runtime.start("127.0.0.1:0")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    yield identity_pb2_grpc.IdentityServiceStub(channel)
    await channel.close()
    await runtime.stop(grace=1.0)


def metadata(issuer):
    return (("authorization", f"Bearer {issuer.token(tenant='110000', roles=['provincial_operator'])}"),)


def test_selection_by_configuration():
    assert isinstance(provisioner_from_env({}), EmbeddedProvisioner)
    selected = provisioner_from_env({"PREVENTION_KEYCLOAK_URL": "https://sso.example",
                                     "PREVENTION_KEYCLOAK_ADMIN_CLIENT_SECRET": "s"})
    assert isinstance(selected, KeycloakProvisioner)


async def test_creating_a_user_creates_it_in_the_realm(identity, keycloak, issuer):
    keycloak.reply("GET", f"{ADMIN}/group-by-path/tenant-110000", {"id": "g-110000", "name": "tenant-110000",
                                                                   "attributes": {"tenant": ["110000"]}})
    keycloak.reply("GET", f"{ADMIN}/roles", ALL_ROLES)
    reply = await identity.CreateUser(identity_pb2.CreateUserRequest(
        user=identity_pb2.User(username="kc-alice", display_name="Alice", roles=["trainee"]),
        password="alice-password-123"), metadata=metadata(issuer), timeout=10)
    assert reply.user.username == "kc-alice"
    (created,) = keycloak.bodies("POST", f"{ADMIN}/users")
    assert created["username"] == "kc-alice" and created["attributes"]["tenant"] == ["110000"]
    assert ("PUT", f"{ADMIN}/users/users-kc-alice/groups/g-110000") in keycloak.admin_calls()


async def test_api_client_secret_is_keycloaks(identity, keycloak, issuer):
    _client_scopes(keycloak)
    keycloak.reply("GET", f"{ADMIN}/roles", ALL_ROLES)
    keycloak.reply("GET", f"{ADMIN}/clients/clients-kc-platform/service-account-user",
                   {"id": "sa-1", "username": "service-account-kc-platform", "enabled": True})
    reply = await identity.CreateApiClient(identity_pb2.CreateApiClientRequest(
        api_client=identity_pb2.ApiClient(client_id="kc-platform", display_name="KC platform",
                                          roles=["training_platform"])), metadata=metadata(issuer), timeout=10)
    assert reply.client_secret == "current-secret"
    assert [b["clientId"] for b in keycloak.bodies("POST", f"{ADMIN}/clients")] == ["kc-platform"]


async def test_a_failed_mirror_writes_nothing(identity, keycloak, issuer):
    keycloak.reply("GET", f"{ADMIN}/group-by-path/tenant-110000", {"error": "down"}, status=503)
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await identity.CreateUser(identity_pb2.CreateUserRequest(
            user=identity_pb2.User(username="kc-bob", display_name="Bob", roles=["trainee"]),
            password="bob-password-1234"), metadata=metadata(issuer), timeout=10)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    listed = await identity.ListUsers(identity_pb2.ListUsersRequest(page_size=500), metadata=metadata(issuer),
                                      timeout=10)
    assert "kc-bob" not in {u.username for u in listed.users}
