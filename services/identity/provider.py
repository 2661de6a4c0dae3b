"""The identity provider the identity service mirrors its users and API clients into (SPEC 4.1 ID-3..ID-5, 7.2).

In distributed mode Keycloak issues the tokens; the identity service stays the system of record and
calls an :class:`IdentityProvider` after each change so that Keycloak's users, groups, realm roles
and clients match it. :class:`KeycloakProvider` does that through python-keycloak's Admin REST
client, authenticated with client credentials of a confidential admin client of the realm (the
``prevention-identity`` client of ``infra/keycloak/realm-prevention.json``).

What ends up in Keycloak, and so in the access tokens (SPEC 7.2):

- one realm role per SPEC section 2 role name (``realm_access.roles``);
- one group per tenant, named ``tenant-<code>``, with the group attribute ``tenant=<code>``;
- users with the attributes ``tenant`` and ``org`` (the realm's ``prevention`` client scope maps
  them to the ``tenant`` and ``org`` claims), a member of their tenant's group only, with realm-role
  mappings exactly the given roles (Keycloak's own ``default-roles-<realm>`` composite is kept);
- API clients: confidential, client-credentials only (service account on, every browser flow off),
  whose service-account user carries the same ``tenant`` attribute and the client's roles, and
  whose default client scopes are exactly ``basic roles prevention`` plus the allowed scopes.

Disabling a user, removing one of its roles, or moving it to another tenant or organisation logs
out all its sessions, which revokes its refresh tokens at once (SPEC 7.2). Client-credentials
tokens come without refresh tokens; a disabled client gets no new access token.

The methods block (python-keycloak uses ``requests``): call them from asyncio code with
``asyncio.to_thread``. Errors come out as ``services.common.errors`` (SPEC 7.4): ``Unavailable``
when Keycloak cannot be reached or answers 5xx, ``NotFound`` / ``AlreadyExists`` where the
meaning is clear; messages never carry usernames or e-mail addresses.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Protocol, runtime_checkable

from keycloak import KeycloakAdmin, KeycloakOpenIDConnection
from keycloak.exceptions import KeycloakConnectionError, KeycloakError

from services.common.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from services.common.policy import ROLES

DEFAULT_REALM = "prevention"
DEFAULT_ADMIN_CLIENT_ID = "prevention-identity"
TENANT_GROUP_PREFIX = "tenant-"
TENANT_ATTRIBUTE = "tenant"
ORG_ATTRIBUTE = "org"
# Client scopes of infra/keycloak/realm-prevention.json every machine client needs: `basic` (sub),
# `roles` (realm_access.roles), `prevention` (tenant, org, aud prevention-api).
MACHINE_CLIENT_SCOPES = ("basic", "roles", "prevention")

_TENANT_CODE = re.compile(r"^\d{6}$")
_SCOPE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


@runtime_checkable
class IdentityProvider(Protocol):
    """What the identity service needs from the token issuer. Every method is idempotent."""

    def ensure_roles(self, roles: Sequence[str]) -> None:
        """Create the realm roles that do not exist yet (SPEC section 2 names only)."""

    def ensure_tenant_group(self, tenant_code: str, display_name: str) -> str:
        """Create or update the tenant's group (attribute ``tenant=<code>``); returns its id."""

    def upsert_user(self, *, username: str, email: str | None, tenant_code: str, roles: Sequence[str],
                    organisation: str | None, enabled: bool) -> str:
        """Create or update a user; returns its id. Realm roles become exactly ``roles``."""

    def set_user_enabled(self, username: str, enabled: bool) -> None:
        """Enable or disable a user; disabling also logs out all its sessions."""

    def upsert_client(self, *, client_id: str, tenant_code: str, scopes: Sequence[str],
                      roles: Sequence[str]) -> str:
        """Create or update a client-credentials client; returns its secret."""

    def rotate_client_secret(self, client_id: str) -> str:
        """Replace the client's secret; returns the new one (the old one stops working)."""

    def set_client_enabled(self, client_id: str, enabled: bool) -> None:
        """Enable or disable a client."""


@contextmanager
def _keycloak(operation: str) -> Iterator[None]:
    """Translate python-keycloak's exceptions into the platform's domain errors (SPEC 7.4)."""
    try:
        yield
    except KeycloakConnectionError:
        raise Unavailable(f"identity provider unreachable ({operation})", reason="IDENTITY_PROVIDER_UNAVAILABLE") \
            from None
    except KeycloakError as exc:
        status = exc.response_code
        if status == 404:
            raise NotFound(f"identity provider: {operation}: not found", reason="IDENTITY_PROVIDER_NOT_FOUND") \
                from None
        if status == 409:
            raise AlreadyExists(f"identity provider: {operation}: already exists",
                                reason="IDENTITY_PROVIDER_CONFLICT") from None
        if status is not None and (status >= 500 or status == 429):
            raise Unavailable(f"identity provider failed ({operation}: {status})",
                              reason="IDENTITY_PROVIDER_UNAVAILABLE") from None
        if status in (401, 403):
            raise DomainError(f"identity provider refused the admin client ({operation}: {status})",
                              reason="IDENTITY_PROVIDER_DENIED") from None
        raise DomainError(f"identity provider rejected {operation} ({status})",
                          reason="IDENTITY_PROVIDER_REJECTED") from None


def _check_tenant(tenant_code: str, field: str = "tenant_code") -> None:
    if not isinstance(tenant_code, str) or not _TENANT_CODE.match(tenant_code):
        raise InvalidArgument.field(field, "must be a six-digit tenant code")


def _check_roles(roles: Sequence[str], field: str = "roles") -> list[str]:
    if isinstance(roles, str):
        raise InvalidArgument.field(field, "must be a list of role names")
    unknown = sorted({r for r in roles if r not in ROLES})
    if unknown:
        raise InvalidArgument.field(field, f"unknown roles {unknown}; allowed: {list(ROLES)}")
    return list(dict.fromkeys(roles))


def _check_scopes(scopes: Sequence[str]) -> list[str]:
    if isinstance(scopes, str):
        raise InvalidArgument.field("scopes", "must be a list of scope names")
    bad = sorted({s for s in scopes if not isinstance(s, str) or not _SCOPE_NAME.match(s)})
    if bad:
        raise InvalidArgument.field("scopes", f"invalid scope names {bad}")
    reserved = sorted(set(scopes) & set(MACHINE_CLIENT_SCOPES))
    if reserved:
        raise InvalidArgument.field("scopes", f"{reserved} are always granted and cannot be listed")
    return list(dict.fromkeys(scopes))


def _check_client_id(client_id: str) -> None:
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        raise InvalidArgument.field("client_id", "must be 1-128 letters, digits, '.', '_' or '-'")


def _group_name(tenant_code: str) -> str:
    return f"{TENANT_GROUP_PREFIX}{tenant_code}"


def _single(attributes: dict | None, name: str) -> str | None:
    values = (attributes or {}).get(name) or []
    return values[0] if values else None


# Fields of a UserRepresentation this provider writes back on update: a read-modify-write keeps
# what others set (names, required actions) without echoing read-only fields such as `access`.
_USER_WRITABLE = ("username", "email", "emailVerified", "firstName", "lastName", "enabled", "attributes",
                  "requiredActions")


class KeycloakProvider:
    """:class:`IdentityProvider` on Keycloak's Admin REST API (python-keycloak ``KeycloakAdmin``)."""

    def __init__(self, server_url: str, realm: str = DEFAULT_REALM, *, admin_client_id: str,
                 admin_client_secret: str, verify: bool | str = True, timeout: int = 10):
        if not server_url:
            raise ValueError("server_url is required")
        # requests' urljoin drops the last path segment of a base URL without a trailing slash
        # (e.g. a legacy `/auth` context path); python-keycloak joins relative admin paths onto it.
        base = server_url if server_url.endswith("/") else server_url + "/"
        self.realm = realm
        self.default_role = f"default-roles-{realm}"
        connection = KeycloakOpenIDConnection(
            server_url=base,
            realm_name=realm,
            client_id=admin_client_id,
            client_secret_key=admin_client_secret,
            grant_type="client_credentials",
            verify=verify,
            timeout=timeout,
        )
        self.admin = KeycloakAdmin(connection=connection)

    # ---- roles -------------------------------------------------------------------------------

    def ensure_roles(self, roles: Sequence[str]) -> None:
        wanted = _check_roles(roles)
        if wanted:
            self._realm_roles(wanted)

    def _realm_roles(self, names: Sequence[str]) -> dict[str, dict]:
        """The realm roles called ``names`` as ``{name: {"id", "name"}}``, creating missing ones."""
        with _keycloak("list realm roles"):
            existing = {r["name"]: r for r in self.admin.get_realm_roles(brief_representation=True)}
        missing = [n for n in names if n not in existing]
        for name in missing:
            try:
                with _keycloak("create realm role"):
                    self.admin.create_realm_role({"name": name, "description": f"platform role {name} (SPEC 2)"})
            except AlreadyExists:
                pass  # created concurrently
        if missing:
            with _keycloak("list realm roles"):
                existing = {r["name"]: r for r in self.admin.get_realm_roles(brief_representation=True)}
        return {n: {"id": existing[n]["id"], "name": n} for n in names if n in existing}

    def _set_realm_roles(self, user_id: str, roles: Sequence[str]) -> bool:
        """Make the user's direct realm-role mappings exactly ``roles`` (plus ``default-roles-<realm>``).

        Returns whether a role was taken away (the caller then revokes the sessions).
        """
        wanted = set(roles)
        with _keycloak("read role mappings"):
            current = {r["name"]: r for r in self.admin.get_realm_roles_of_user(user_id)}
        to_remove = [{"id": r["id"], "name": n} for n, r in sorted(current.items())
                     if n not in wanted and n != self.default_role]
        to_add_names = sorted(wanted - set(current))
        if to_add_names:
            reps = self._realm_roles(to_add_names)
            with _keycloak("add role mappings"):
                self.admin.assign_realm_roles(user_id, [reps[n] for n in to_add_names])
        if to_remove:
            with _keycloak("remove role mappings"):
                self.admin.delete_realm_roles_of_user(user_id, to_remove)
        return bool(to_remove)

    # ---- tenant groups -----------------------------------------------------------------------

    def ensure_tenant_group(self, tenant_code: str, display_name: str) -> str:
        _check_tenant(tenant_code)
        return self._tenant_group(tenant_code, display_name)

    def _find_group(self, name: str) -> dict | None:
        try:
            with _keycloak("find tenant group"):
                return self.admin.get_group_by_path(name)
        except NotFound:
            return None

    def _tenant_group(self, tenant_code: str, display_name: str | None) -> str:
        name = _group_name(tenant_code)
        wanted = {TENANT_ATTRIBUTE: [tenant_code]}
        if display_name:
            wanted["display_name"] = [display_name]
        group = self._find_group(name)
        if group is None:
            try:
                with _keycloak("create tenant group"):
                    group_id = self.admin.create_group({"name": name, "attributes": wanted})
                if group_id:
                    return group_id
            except AlreadyExists:
                pass  # created concurrently: read it below
            group = self._find_group(name)
            if group is None:
                raise Unavailable("identity provider lost the tenant group it just created",
                                  reason="IDENTITY_PROVIDER_UNAVAILABLE")
        attributes = dict(group.get("attributes") or {})
        if any(attributes.get(k) != v for k, v in wanted.items()):
            attributes.update(wanted)
            with _keycloak("update tenant group"):
                self.admin.update_group(group["id"], {"name": name, "attributes": attributes})
        return group["id"]

    def _join_only_tenant_group(self, user_id: str, group_id: str, *, new: bool) -> None:
        groups = []
        if not new:
            with _keycloak("read group membership"):
                groups = self.admin.get_user_groups(user_id)
        if all(g["id"] != group_id for g in groups):
            with _keycloak("join tenant group"):
                self.admin.group_user_add(user_id, group_id)
        for group in groups:
            if group["id"] != group_id and group.get("name", "").startswith(TENANT_GROUP_PREFIX):
                with _keycloak("leave tenant group"):
                    self.admin.group_user_remove(user_id, group["id"])

    # ---- users -------------------------------------------------------------------------------

    def _user_id(self, username: str) -> str | None:
        with _keycloak("find user"):
            return self.admin.get_user_id(username)

    def _require_user_id(self, username: str) -> str:
        user_id = self._user_id(username)
        if user_id is None:
            raise NotFound("user not found in the identity provider", reason="USER_NOT_FOUND")
        return user_id

    def _write_user(self, current: dict, *, enabled: bool | None = None, email: str | None = None,
                    attributes: dict[str, str | None] | None = None) -> None:
        payload = {k: current[k] for k in _USER_WRITABLE if k in current}
        if enabled is not None:
            payload["enabled"] = enabled
        if email is not None:
            payload["email"] = email
        if attributes:
            merged = dict(current.get("attributes") or {})
            for name, value in attributes.items():
                if value is None:
                    merged.pop(name, None)
                else:
                    merged[name] = [value]
            payload["attributes"] = merged
        with _keycloak("update user"):
            self.admin.update_user(current["id"], payload)

    def _logout(self, user_id: str) -> None:
        with _keycloak("log out user"):
            self.admin.user_logout(user_id)

    def upsert_user(self, *, username: str, email: str | None, tenant_code: str, roles: Sequence[str],
                    organisation: str | None, enabled: bool) -> str:
        if not username or not isinstance(username, str):
            raise InvalidArgument.field("username", "is required")
        _check_tenant(tenant_code)
        wanted_roles = _check_roles(roles)
        group_id = self._tenant_group(tenant_code, None)
        attributes = {TENANT_ATTRIBUTE: tenant_code, ORG_ATTRIBUTE: organisation or None}

        user_id = self._user_id(username)
        created = False
        if user_id is None:
            payload = {
                "username": username,
                "enabled": enabled,
                "emailVerified": False,
                "attributes": {k: [v] for k, v in attributes.items() if v is not None},
            }
            if email is not None:
                payload["email"] = email
            try:
                with _keycloak("create user"):
                    user_id = self.admin.create_user(payload)
                created = True
            except AlreadyExists:
                # Same username created concurrently (update it below), or the e-mail is taken.
                user_id = self._user_id(username)
                if user_id is None:
                    raise AlreadyExists("another user of the identity provider has that e-mail address",
                                        reason="EMAIL_TAKEN") from None

        moved = False
        if not created:
            with _keycloak("read user"):
                current = self.admin.get_user(user_id)
            before = current.get("attributes") or {}
            moved = (_single(before, TENANT_ATTRIBUTE) != tenant_code
                     or _single(before, ORG_ATTRIBUTE) != (organisation or None))
            self._write_user(current, enabled=enabled, email=email, attributes=attributes)

        self._join_only_tenant_group(user_id, group_id, new=created)
        lost_role = self._set_realm_roles(user_id, wanted_roles)
        if not created and (lost_role or moved or not enabled):
            self._logout(user_id)  # revokes its refresh tokens (SPEC 7.2)
        return user_id

    def set_user_enabled(self, username: str, enabled: bool) -> None:
        user_id = self._require_user_id(username)
        with _keycloak("read user"):
            current = self.admin.get_user(user_id)
        if bool(current.get("enabled", True)) != enabled:
            self._write_user(current, enabled=enabled)
        if not enabled:
            self._logout(user_id)

    # ---- API clients -------------------------------------------------------------------------

    def _client_uuid(self, client_id: str) -> str | None:
        with _keycloak("find client"):
            return self.admin.get_client_id(client_id)

    def _require_client_uuid(self, client_id: str) -> str:
        _check_client_id(client_id)
        uuid = self._client_uuid(client_id)
        if uuid is None:
            raise NotFound("client not found in the identity provider", reason="CLIENT_NOT_FOUND")
        return uuid

    def _client_scope_ids(self, platform_scopes: Sequence[str]) -> dict[str, str]:
        """Ids of the base scopes (which must exist) and of the platform scopes (created if missing)."""
        with _keycloak("list client scopes"):
            existing = {s["name"]: s["id"] for s in self.admin.get_client_scopes()}
        absent = [s for s in MACHINE_CLIENT_SCOPES if s not in existing]
        if absent:
            raise FailedPrecondition(f"realm {self.realm} lacks the client scopes {absent}; "
                                     "import infra/keycloak/realm-prevention.json", reason="REALM_NOT_PROVISIONED")
        for name in platform_scopes:
            if name in existing:
                continue
            try:
                with _keycloak("create client scope"):
                    existing[name] = self.admin.create_client_scope({
                        "name": name,
                        "protocol": "openid-connect",
                        "description": "platform API scope",
                        "attributes": {"include.in.token.scope": "true", "display.on.consent.screen": "false"},
                    })
            except AlreadyExists:
                with _keycloak("list client scopes"):
                    existing = {s["name"]: s["id"] for s in self.admin.get_client_scopes()}
        return {name: existing[name] for name in (*MACHINE_CLIENT_SCOPES, *platform_scopes)}

    def _set_default_client_scopes(self, uuid: str, wanted: dict[str, str]) -> None:
        with _keycloak("read client scopes of client"):
            current = [s["id"] for s in self.admin.get_client_default_client_scopes(uuid)]
        for scope_id in wanted.values():
            if scope_id not in current:
                with _keycloak("add client scope"):
                    self.admin.add_client_default_client_scope(uuid, scope_id, {})
        for scope_id in current:
            if scope_id not in wanted.values():
                with _keycloak("remove client scope"):
                    self.admin.delete_client_default_client_scope(uuid, scope_id)

    def upsert_client(self, *, client_id: str, tenant_code: str, scopes: Sequence[str],
                      roles: Sequence[str]) -> str:
        _check_client_id(client_id)
        _check_tenant(tenant_code)
        wanted_roles = _check_roles(roles)
        wanted_scopes = _check_scopes(scopes)
        scope_ids = self._client_scope_ids(wanted_scopes)
        representation = {
            "clientId": client_id,
            "name": client_id,
            "protocol": "openid-connect",
            "publicClient": False,
            "bearerOnly": False,
            "clientAuthenticatorType": "client-secret",
            "serviceAccountsEnabled": True,
            "standardFlowEnabled": False,
            "implicitFlowEnabled": False,
            "directAccessGrantsEnabled": False,
            "frontchannelLogout": False,
            "fullScopeAllowed": True,
            "attributes": {
                "prevention.tenant": tenant_code,
                "client_credentials.use_refresh_token": "false",
                "use.refresh.tokens": "false",
                "oauth2.device.authorization.grant.enabled": "false",
            },
        }
        uuid = self._client_uuid(client_id)
        if uuid is None:
            try:
                with _keycloak("create client"):
                    uuid = self.admin.create_client({
                        **representation,
                        "enabled": True,
                        "defaultClientScopes": list(scope_ids),
                        "optionalClientScopes": [],
                    })
            except AlreadyExists:
                uuid = self._require_client_uuid(client_id)  # created concurrently
        else:
            with _keycloak("update client"):
                self.admin.update_client(uuid, representation)  # keeps its enabled flag and secret
        self._set_default_client_scopes(uuid, scope_ids)

        with _keycloak("read service account"):
            service_account = self.admin.get_client_service_account_user(uuid)
        if _single(service_account.get("attributes"), TENANT_ATTRIBUTE) != tenant_code:
            self._write_user(service_account, attributes={TENANT_ATTRIBUTE: tenant_code})
        self._set_realm_roles(service_account["id"], wanted_roles)

        with _keycloak("read client secret"):
            return self.admin.get_client_secrets(uuid)["value"]

    def rotate_client_secret(self, client_id: str) -> str:
        uuid = self._require_client_uuid(client_id)
        with _keycloak("rotate client secret"):
            return self.admin.generate_client_secrets(uuid)["value"]

    def set_client_enabled(self, client_id: str, enabled: bool) -> None:
        uuid = self._require_client_uuid(client_id)
        with _keycloak("update client"):
            self.admin.update_client(uuid, {"clientId": client_id, "enabled": enabled})


def keycloak_provider_from_env(environ: dict[str, str] | None = None) -> KeycloakProvider:
    """A :class:`KeycloakProvider` from ``PREVENTION_KEYCLOAK_URL`` (base URL, e.g.
    ``https://sso.example``), ``PREVENTION_KEYCLOAK_REALM`` (default ``prevention``),
    ``PREVENTION_KEYCLOAK_ADMIN_CLIENT_ID`` (default ``prevention-identity``) and
    ``PREVENTION_KEYCLOAK_ADMIN_CLIENT_SECRET``."""
    env = os.environ if environ is None else environ
    url = env.get("PREVENTION_KEYCLOAK_URL", "").strip()
    secret = env.get("PREVENTION_KEYCLOAK_ADMIN_CLIENT_SECRET", "")
    missing = [name for name, value in (("PREVENTION_KEYCLOAK_URL", url),
                                        ("PREVENTION_KEYCLOAK_ADMIN_CLIENT_SECRET", secret)) if not value]
    if missing:
        raise ValueError(f"Keycloak provider needs {', '.join(missing)}")
    return KeycloakProvider(
        url,
        env.get("PREVENTION_KEYCLOAK_REALM") or DEFAULT_REALM,
        admin_client_id=env.get("PREVENTION_KEYCLOAK_ADMIN_CLIENT_ID") or DEFAULT_ADMIN_CLIENT_ID,
        admin_client_secret=secret,
    )
