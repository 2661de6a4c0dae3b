"""Which token issuer the identity service provisions, selected by configuration (SPEC ID-5).

The identity service stays the system of record for users, roles, tenants and API clients.
Embedded mode: its own issuer reads them directly, nothing to provision. Distributed mode with
Keycloak (`PREVENTION_KEYCLOAK_URL` set): every change is mirrored into the realm through
services.identity.provider.KeycloakProvider — inside the write's transaction and before its
commit, so a failed mirror rolls the write back, and a retry repeats the (idempotent) upsert.
Client secrets are then Keycloak's, since Keycloak issues the client-credentials tokens."""

from __future__ import annotations

import asyncio
import os
from typing import Protocol

from services.identity.models import ApiClient, User


class Provisioner(Protocol):
    async def user_changed(self, user: User) -> None: ...

    async def client_saved(self, client: ApiClient, *, created: bool) -> str | None:
        """Returns the issuer's client secret when the issuer owns secrets, else None."""

    async def client_secret_rotated(self, client: ApiClient) -> str | None: ...


class EmbeddedProvisioner:
    """The embedded issuer reads the identity database: nothing to mirror."""

    async def user_changed(self, user: User) -> None:
        return None

    async def client_saved(self, client: ApiClient, *, created: bool) -> str | None:
        return None

    async def client_secret_rotated(self, client: ApiClient) -> str | None:
        return None


class KeycloakProvisioner:
    def __init__(self, provider):
        self.provider = provider  # python-keycloak blocks: every call goes to a worker thread

    async def user_changed(self, user: User) -> None:
        await asyncio.to_thread(
            self.provider.upsert_user, username=user.username, email=None, tenant_code=user.tenant_code,
            roles=list(user.roles), organisation=user.organisation_id, enabled=user.enabled,
        )

    async def client_saved(self, client: ApiClient, *, created: bool) -> str | None:
        secret = await asyncio.to_thread(
            self.provider.upsert_client, client_id=client.client_id, tenant_code=client.tenant_code,
            scopes=list(client.scopes), roles=list(client.roles),
        )
        if not created or not client.enabled:  # upsert_client leaves an existing client's flag alone
            await asyncio.to_thread(self.provider.set_client_enabled, client.client_id, client.enabled)
        return secret

    async def client_secret_rotated(self, client: ApiClient) -> str | None:
        return await asyncio.to_thread(self.provider.rotate_client_secret, client.client_id)


def provisioner_from_env(environ: dict[str, str] | None = None) -> Provisioner:
    environ = os.environ if environ is None else environ
    if not environ.get("PREVENTION_KEYCLOAK_URL"):
        return EmbeddedProvisioner()
    from services.identity.provider import keycloak_provider_from_env

    return KeycloakProvisioner(keycloak_provider_from_env(environ))
