"""Users (ID-3) and API clients (ID-4): domain functions, no gRPC.

Personal data (citizen ID, phone, e-mail) is validated, stored encrypted with a keyed hash for
lookup (services.common.pii), and shown unmasked only to ministry operators, provincial operators
of the person's tenant and the person themself (SPEC 7.3)."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.context import Caller, in_subtree
from services.common.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound, PermissionDenied
from services.common.pii import PiiKeyring
from services.common.policy import ROLES
from services.common.tenancy import visible_to
from services.common.validators import mask_citizen_id, mask_phone, validate_citizen_id, validate_phone
from services.identity import audit, tokens
from services.identity.models import ApiClient, Tenant, User
from services.identity.org_models import Organisation

CITIZEN_ID = "identity.users.citizen_id"
PHONE = "identity.users.phone"
EMAIL = "identity.users.email"
MACHINE_ROLES = frozenset({"training_platform", "service_institution"})
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[A-Za-z]{2,}$")
_CLIENT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,47}$")
_ORG = re.compile(r"^(?:organisations/)?([0-9a-f]{32})$")
SCOPES = frozenset({"learning_records.write", "learning_records.read", "xapi", "openid", "profile"})


@dataclass(frozen=True)
class NewUser:
    username: str
    display_name: str
    roles: list[str]
    organisation: str
    citizen_id: str
    phone: str
    email: str
    password: str


async def _organisation_id(session: AsyncSession, value: str, field: str, *, tenant: str) -> str | None:
    """The organisation a user or client is bound to: it must exist in the tenant's subtree, since
    the issuer puts it into tokens as the `org` claim that every service's own-organisation
    checks rely on (SPEC 7.3)."""
    if not value:
        return None
    match = _ORG.match(value)
    if not match:
        raise InvalidArgument.field(field, "must be organisations/{id}")
    organisation = await session.get(Organisation, match.group(1))
    if organisation is None or not in_subtree(organisation.tenant_code, tenant):
        raise InvalidArgument.field(field, "is not an organisation of this tenant")
    return organisation.id


def _check_roles(roles: list[str], caller: Caller, field: str, allowed: frozenset[str] = frozenset(ROLES)) -> None:
    unknown = sorted(set(roles) - allowed)
    if not roles:
        raise InvalidArgument.field(field, "at least one role is required")
    if unknown:
        raise InvalidArgument.field(field, f"unknown or not allowed here: {', '.join(unknown)}")
    if "ministry_operator" in roles and not caller.is_ministry:
        raise PermissionDenied("only ministry operators grant the ministry_operator role",
                               reason="CANNOT_GRANT_ROLE")


async def target_tenant(session: AsyncSession, caller: Caller, requested: str, field: str = "tenant_code") -> str:
    """The caller's own tenant; ministry operators may name another one (it must exist)."""
    if not caller.is_ministry or not requested:
        return caller.tenant
    if await session.get(Tenant, requested) is None:
        raise InvalidArgument.field(field, "is not a known tenant")
    return requested


def _validate_user(new: NewUser, caller: Caller) -> tuple[str, str, str]:
    violations: list[FieldViolation] = []
    username = new.username.strip().lower()
    if not _USERNAME.match(username):
        violations.append(
            FieldViolation("user.username", "must be 3-64 of a-z 0-9 . _ - starting with a letter or digit")
        )
    if not new.display_name.strip() or len(new.display_name) > 128:
        violations.append(FieldViolation("user.display_name", "is required, at most 128 characters"))
    citizen_id = phone = email = ""
    for field, value, check in (("user.citizen_id", new.citizen_id, validate_citizen_id),
                                ("user.phone", new.phone, validate_phone)):
        if value:
            try:
                normalised = check(value, field)
            except InvalidArgument as error:
                violations.extend(error.violations)
                continue
            if field == "user.citizen_id":
                citizen_id = normalised
            else:
                phone = normalised
    if new.email:
        if _EMAIL.match(new.email.strip()):
            email = new.email.strip()
        else:
            violations.append(FieldViolation("user.email", "is not a valid e-mail address"))
    try:
        tokens.validate_password(new.password)
    except InvalidArgument as error:
        violations.extend(error.violations)
    if violations:
        raise InvalidArgument(violations)
    _check_roles(new.roles, caller, "user.roles")
    return citizen_id, phone, email


async def create_user(session: AsyncSession, keyring: PiiKeyring, now: datetime, *, caller: Caller, new: NewUser,
                      tenant_code: str) -> User:
    citizen_id, phone, email = _validate_user(new, caller)
    tenant = await target_tenant(session, caller, tenant_code)
    user = User(
        id=uuid.uuid4().hex, username=new.username.strip().lower(), display_name=new.display_name.strip(),
        tenant_code=tenant,
        organisation_id=await _organisation_id(session, new.organisation, "user.organisation", tenant=tenant),
        roles=sorted(set(new.roles)), password_hash=tokens.hash_password(new.password),
        citizen_id_enc=keyring.encrypt(citizen_id, context=CITIZEN_ID) if citizen_id else None,
        citizen_id_hash=keyring.lookup_hash(citizen_id, context=CITIZEN_ID) if citizen_id else None,
        phone_enc=keyring.encrypt(phone, context=PHONE) if phone else None,
        email_enc=keyring.encrypt(email, context=EMAIL) if email else None,
        enabled=True, totp_enabled=False, failed_logins=0, create_time=now, update_time=now,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        raise AlreadyExists("a user with this username exists", reason="USERNAME_TAKEN") from None
    audit.record(session, now=now, kind=audit.USER_CREATED, tenant_code=tenant, actor=caller.subject,
                 target=f"users/{user.id}", detail={"roles": user.roles})
    return user


def parse_user_name(name: str, caller: Caller) -> str:
    if name in ("users/me", "me"):
        return caller.subject
    match = re.match(r"^users/([0-9a-f]{32})$", name or "")
    if not match:
        raise InvalidArgument.field("name", "must be users/{id} or users/me")
    return match.group(1)


PERSONAL_FIELDS = (("citizen_id_enc", CITIZEN_ID), ("phone_enc", PHONE), ("email_enc", EMAIL))


def reencrypt_stale(keyring: PiiKeyring, user: User) -> bool:
    """Key rotation re-encrypts lazily: a ciphertext under an older key or algorithm is
    rewritten under the current one when its row is read (SPEC 7.5: the newest key encrypts)."""
    changed = False
    for column, context in PERSONAL_FIELDS:
        token = getattr(user, column)
        if token and keyring.needs_reencryption(token):
            setattr(user, column, keyring.reencrypt(token, context=context))
            changed = True
    return changed


async def get_user(session: AsyncSession, now: datetime, *, caller: Caller, user_id: str) -> User:
    user = await session.get(User, user_id)
    visible = user is not None and (
        user.id == caller.subject or caller.is_ministry
        or ("provincial_operator" in caller.roles and caller.sees_tenant(user.tenant_code))
    )
    if not visible:
        raise NotFound(f"user {user_id} not found")
    if user.id != caller.subject:
        audit.record_cross_tenant_read(session, now=now, caller=caller, tenant_code=user.tenant_code,
                                       target=f"users/{user.id}")
    return user


async def list_users(session: AsyncSession, *, caller: Caller, after: str | None, limit: int) -> list[User]:
    query = select(User).where(visible_to(User.tenant_code, caller)).order_by(User.id).limit(limit)
    if after:
        query = query.where(User.id > after)
    return list((await session.scalars(query)).all())


USER_MASK = frozenset({"display_name", "roles", "enabled", "phone", "email", "organisation"})


async def update_user(session: AsyncSession, keyring: PiiKeyring, now: datetime, *, caller: Caller, user_id: str,
                      mask: list[str], values: dict) -> User:
    unknown = sorted(set(mask) - USER_MASK)
    if not mask or unknown:
        raise InvalidArgument.field("update_mask", f"must list fields among {', '.join(sorted(USER_MASK))}")
    user = await get_user(session, now, caller=caller, user_id=user_id)
    if "ministry_operator" in user.roles and not caller.is_ministry:
        raise PermissionDenied("only ministry operators change a ministry operator", reason="CANNOT_GRANT_ROLE")
    if user.id == caller.subject and ({"roles", "enabled"} & set(mask)):
        raise PermissionDenied("users cannot change their own roles or status", reason="SELF_CHANGE")
    if "display_name" in mask:
        if not values["display_name"].strip() or len(values["display_name"]) > 128:
            raise InvalidArgument.field("user.display_name", "is required, at most 128 characters")
        user.display_name = values["display_name"].strip()
    if "phone" in mask:
        phone = validate_phone(values["phone"], "user.phone") if values["phone"] else ""
        user.phone_enc = keyring.encrypt(phone, context=PHONE) if phone else None
    if "email" in mask:
        email = values["email"].strip()
        if email and not _EMAIL.match(email):
            raise InvalidArgument.field("user.email", "is not a valid e-mail address")
        user.email_enc = keyring.encrypt(email, context=EMAIL) if email else None
    if "organisation" in mask:
        user.organisation_id = await _organisation_id(session, values["organisation"], "user.organisation",
                                                      tenant=user.tenant_code)
    if "roles" in mask:
        roles = sorted(set(values["roles"]))
        _check_roles(roles, caller, "user.roles")
        if roles != sorted(user.roles):
            audit.record(session, now=now, kind=audit.ROLES_CHANGED, tenant_code=user.tenant_code, actor=caller.subject,
                         target=f"users/{user.id}", detail={"from": sorted(user.roles), "to": roles})
            user.roles = roles
            await tokens.revoke_subject(session, user.id)
    if "enabled" in mask and bool(values["enabled"]) != user.enabled:
        user.enabled = bool(values["enabled"])
        kind = audit.USER_ENABLED if user.enabled else audit.USER_DISABLED
        audit.record(session, now=now, kind=kind, tenant_code=user.tenant_code, actor=caller.subject,
                     target=f"users/{user.id}")
        if not user.enabled:
            await tokens.revoke_subject(session, user.id)
    user.update_time = now
    return user


def personal_view(keyring: PiiKeyring, caller: Caller, user: User) -> dict[str, str]:
    """The personal fields as the caller may see them: clear or masked."""
    clear = caller.may_see_personal(user.tenant_code, user.id)
    citizen_id = keyring.decrypt(user.citizen_id_enc, context=CITIZEN_ID) if user.citizen_id_enc else ""
    phone = keyring.decrypt(user.phone_enc, context=PHONE) if user.phone_enc else ""
    email = keyring.decrypt(user.email_enc, context=EMAIL) if user.email_enc else ""
    if clear:
        return {"citizen_id": citizen_id, "phone": phone, "email": email}
    masked_email = (email[0] + "***@" + email.split("@", 1)[1]) if email else ""
    return {"citizen_id": mask_citizen_id(citizen_id) if citizen_id else "",
            "phone": mask_phone(phone) if phone else "", "email": masked_email}


# -- API clients --------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewClient:
    client_id: str
    display_name: str
    organisation: str
    roles: list[str]
    scopes: list[str]


async def create_client(session: AsyncSession, now: datetime, *, caller: Caller, new: NewClient,
                        tenant_code: str) -> tuple[ApiClient, str]:
    violations: list[FieldViolation] = []
    client_id = new.client_id.strip().lower() or f"client-{secrets.token_hex(6)}"
    if not _CLIENT_ID.match(client_id):
        violations.append(FieldViolation("api_client.client_id", "must be 3-48 of a-z 0-9 -"))
    if not new.display_name.strip() or len(new.display_name) > 128:
        violations.append(FieldViolation("api_client.display_name", "is required, at most 128 characters"))
    bad_scopes = sorted(set(new.scopes) - SCOPES)
    if bad_scopes:
        violations.append(FieldViolation("api_client.scopes", f"unknown scopes: {', '.join(bad_scopes)}"))
    if violations:
        raise InvalidArgument(violations)
    _check_roles(new.roles, caller, "api_client.roles", MACHINE_ROLES)
    tenant = await target_tenant(session, caller, tenant_code)
    secret = tokens.new_secret()
    client = ApiClient(client_id=client_id, display_name=new.display_name.strip(), tenant_code=tenant,
                       organisation_id=await _organisation_id(session, new.organisation, "api_client.organisation",
                                                              tenant=tenant),
                       roles=sorted(set(new.roles)), scopes=sorted(set(new.scopes)), enabled=True,
                       secret_hash=tokens.secret_digest(secret), create_time=now)
    session.add(client)
    try:
        await session.flush()
    except IntegrityError:
        raise AlreadyExists("an API client with this client_id exists", reason="CLIENT_ID_TAKEN") from None
    audit.record(session, now=now, kind=audit.CLIENT_CREATED, tenant_code=tenant, actor=caller.subject,
                 target=f"apiClients/{client_id}", detail={"roles": client.roles, "scopes": client.scopes})
    return client, secret


def parse_client_name(name: str) -> str:
    match = re.match(r"^apiClients/([a-z0-9][a-z0-9-]{2,47})$", name or "")
    if not match:
        raise InvalidArgument.field("name", "must be apiClients/{client_id}")
    return match.group(1)


async def get_client(session: AsyncSession, *, caller: Caller, client_id: str) -> ApiClient:
    client = await session.get(ApiClient, client_id)
    if client is None or not caller.sees_tenant(client.tenant_code):
        raise NotFound(f"API client {client_id} not found")
    return client


async def list_clients(session: AsyncSession, *, caller: Caller, after: str | None, limit: int) -> list[ApiClient]:
    query = select(ApiClient).where(visible_to(ApiClient.tenant_code, caller)).order_by(ApiClient.client_id)
    if after:
        query = query.where(ApiClient.client_id > after)
    return list((await session.scalars(query.limit(limit))).all())


async def rotate_client_secret(session: AsyncSession, now: datetime, *, caller: Caller, client_id: str,
                               overlap: timedelta) -> tuple[str, datetime]:
    if overlap < timedelta(0) or overlap > timedelta(days=30):
        raise InvalidArgument.field("overlap_seconds", "must be between 0 and 30 days")
    client = await get_client(session, caller=caller, client_id=client_id)
    secret = tokens.new_secret()
    client.previous_secret_hash = client.secret_hash
    client.previous_secret_expire_time = now + overlap
    client.secret_hash = tokens.secret_digest(secret)
    audit.record(session, now=now, kind=audit.CLIENT_SECRET_ROTATED, tenant_code=client.tenant_code,
                 actor=caller.subject, target=f"apiClients/{client_id}",
                 detail={"overlap_seconds": int(overlap.total_seconds())})
    return secret, client.previous_secret_expire_time


CLIENT_MASK = frozenset({"enabled", "scopes", "roles", "display_name"})


async def update_client(session: AsyncSession, now: datetime, *, caller: Caller, client_id: str, mask: list[str],
                        values: dict) -> ApiClient:
    unknown = sorted(set(mask) - CLIENT_MASK)
    if not mask or unknown:
        raise InvalidArgument.field("update_mask", f"must list fields among {', '.join(sorted(CLIENT_MASK))}")
    client = await get_client(session, caller=caller, client_id=client_id)
    if "display_name" in mask:
        if not values["display_name"].strip():
            raise InvalidArgument.field("api_client.display_name", "is required")
        client.display_name = values["display_name"].strip()
    if "scopes" in mask:
        bad = sorted(set(values["scopes"]) - SCOPES)
        if bad:
            raise InvalidArgument.field("api_client.scopes", f"unknown scopes: {', '.join(bad)}")
        client.scopes = sorted(set(values["scopes"]))
    if "roles" in mask:
        _check_roles(values["roles"], caller, "api_client.roles", MACHINE_ROLES)
        client.roles = sorted(set(values["roles"]))
    if "enabled" in mask:
        client.enabled = bool(values["enabled"])
    audit.record(session, now=now, kind=audit.CLIENT_CHANGED, tenant_code=client.tenant_code, actor=caller.subject,
                 target=f"apiClients/{client_id}", detail={"fields": sorted(mask), "enabled": client.enabled})
    await tokens.revoke_subject(session, f"service-account-{client_id}")
    return client
