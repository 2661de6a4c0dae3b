"""`prevention seed` for identity: the tenant tree (idempotent); with --demo (embedded mode only,
SPEC 7.6) one user per role, operators for 110000 and 120000 (TOTP enrolled), and a training
platform's API client. Passwords, TOTP secrets and client secrets are random; they are returned
once for the CLI to print and write to <data dir>/demo-credentials.txt (0600)."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime

import pyotp
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.pii import PiiKeyring
from services.identity import tokens
from services.identity.models import ApiClient, Tenant, User
from services.identity.reference import NATIONAL, PROVINCES

DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    # username, tenant, role
    ("demo-ministry", "100000", "ministry_operator"),
    ("demo-beijing-operator", "110000", "provincial_operator"),
    ("demo-tianjin-operator", "120000", "provincial_operator"),
    ("demo-liaison", "110000", "department_liaison"),
    ("demo-employer", "110000", "employer_officer"),
    ("demo-trainee", "110000", "trainee"),
    ("demo-expert", "110000", "expert"),
    ("demo-institution", "110000", "service_institution"),
)
DEMO_CLIENT = "demo-training-platform"


async def seed(session: AsyncSession, *, demo: bool = False, settings=None) -> dict:
    code, name, name_en = NATIONAL
    rows = [Tenant(code=code, parent_code=None, level="national", display_name=name, display_name_en=name_en)]
    rows += [
        Tenant(code=c, parent_code=NATIONAL[0], level="province", display_name=n, display_name_en=e)
        for c, n, e in PROVINCES
    ]
    for row in rows:
        await session.merge(row)
    result: dict = {"tenants": len(rows)}
    if settings is not None:
        result["service_clients"] = await _service_clients(session, settings)
    if demo:
        result["credentials"] = await _demo(session, PiiKeyring.from_settings(settings))
    await session.commit()
    return result


async def _demo(session: AsyncSession, keyring: PiiKeyring) -> list[str]:
    now = datetime.now(UTC)
    lines = []
    existing = set((await session.scalars(select(User.username))).all())
    for username, tenant, role in DEMO_USERS:
        if username in existing:
            continue
        password = secrets.token_urlsafe(12) + "7a"
        user = User(id=uuid.uuid4().hex, username=username, display_name=username, tenant_code=tenant,
                    roles=[role], password_hash=tokens.hash_password(password), enabled=True, totp_enabled=False,
                    failed_logins=0, create_time=now, update_time=now)
        line = f"user {username} tenant {tenant} role {role} password {password}"
        if role in tokens.OPERATOR_ROLES:
            secret = pyotp.random_base32()
            user.totp_secret_enc = keyring.encrypt(secret, context=tokens.TOTP_CONTEXT)
            user.totp_enabled = True
            line += f" totp-secret {secret}"
        session.add(user)
        lines.append(line)
    if await session.get(ApiClient, DEMO_CLIENT) is None:
        secret = tokens.new_secret()
        session.add(ApiClient(client_id=DEMO_CLIENT, display_name="Demo training platform", tenant_code="110000",
                              roles=["training_platform"], scopes=["learning_records.write", "learning_records.read",
                                                                   "xapi"],
                              enabled=True, secret_hash=tokens.secret_digest(secret), create_time=now))
        lines.append(f"client {DEMO_CLIENT} tenant 110000 role training_platform secret {secret}")
    return lines


# Service identities for scheduled work (services/common/service_clients.py): tenant 100000 with
# the least role the work needs. sharing: its rectification deadline job calls Notify, which admits
# operators and department liaisons; a liaison of tenant 100000 reaches every province's users.
# assessment: its filing-reminder job calls Notify for the provinces' operators, likewise.
SERVICE_CLIENTS: dict[str, list[str]] = {"sharing": ["department_liaison"], "assessment": ["department_liaison"]}


async def _service_clients(session: AsyncSession, settings) -> int:
    from services.common.service_clients import service_client_id, service_client_secret

    now = datetime.now(UTC)
    for service, roles in SERVICE_CLIENTS.items():
        client_id = service_client_id(service)
        digest = tokens.secret_digest(service_client_secret(settings.data_dir, service))
        row = await session.get(ApiClient, client_id)
        if row is None:
            session.add(ApiClient(client_id=client_id, display_name=f"{service} service (scheduled work)",
                                  tenant_code="100000", roles=roles, scopes=[], enabled=True, secret_hash=digest,
                                  create_time=now))
        elif row.secret_hash != digest:  # the secret was rotated: the seed job follows it
            row.secret_hash = digest
    return len(SERVICE_CLIENTS)
