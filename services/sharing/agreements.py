"""Sharing agreements (SPEC SH-2): provider department -> consumer department, one record type,
the fields granted, purpose, legal basis and validity period. Domain functions only.

Decisions:
- An agreement covers the records of its tenant's subtree: a provincial operator's agreements
  its own tenant (or a region of it, ``tenant_code``), a ministry operator's any tenant it names
  (default 100000: every tenant). A liaison reads through it within its own tenant subtree.
- ``provider_organisation`` names the department that owns the record type in that tenant; the
  agreement covers every record of the type there (a later slice may narrow it per publisher).
- Revocation is final; revoking twice is a no-op. Suspension is not: a suspended agreement
  grants nothing until it is resumed; suspending a suspended or resuming an active agreement is
  a no-op, suspending or resuming a revoked one FAILED_PRECONDITION (AGREEMENT_REVOKED).
- Who may suspend, resume or revoke: whoever may create it for that tenant (its subtree).
- Creating, suspending, resuming and revoking are written to the exchange log (record_type
  ``sharing_agreements``, the agreement's id) in the same transaction; a no-op is logged too.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.context import (
    MINISTRY_OPERATOR,
    NATIONAL_TENANT,
    PROVINCIAL_OPERATOR,
    Caller,
    in_subtree,
    subtree_prefix,
)
from services.common.errors import FailedPrecondition, FieldViolation, InvalidArgument, NotFound
from services.common.pagination import newest_first
from services.common.tenancy import visible_to
from services.sharing import exchange_log
from services.sharing.models import SharingAgreement
from services.sharing.record_types import RECORD_FIELDS
from services.sharing.records import (
    DEPARTMENT_LIAISON,
    ORGANISATION_NAME,
    organisation_name,
    parse_date,
    today_cst,
)

STATUSES = ("active", "suspended", "revoked")
TENANT_CODE = re.compile(r"^[0-9]{6}$")
_AGREEMENT_NAME = re.compile(r"^sharingAgreements/([0-9a-f]{32})$")
MAX_TEXT = 2000


@dataclass(frozen=True)
class AgreementData:
    tenant_code: str
    provider_organisation: str
    consumer_organisation: str
    record_type: str
    granted_fields: tuple[str, ...]
    purpose: str
    legal_basis: str
    valid_from: str
    valid_until: str


def parse_agreement_name(name: str) -> str:
    match = _AGREEMENT_NAME.match(name or "")
    if not match:
        raise InvalidArgument.field("name", "must be sharingAgreements/{id}")
    return match.group(1)


def _agreement_tenant(caller: Caller, requested: str) -> str:
    if not requested:
        return NATIONAL_TENANT if caller.is_ministry else caller.tenant
    if not TENANT_CODE.match(requested):
        raise InvalidArgument.field("sharing_agreement.tenant_code", "must be a 6-digit GB/T 2260 code")
    if not caller.sees_tenant(requested):
        raise InvalidArgument.field("sharing_agreement.tenant_code", "must be your own tenant or one of its regions")
    return requested


def validate_agreement(caller: Caller, data: AgreementData) -> dict:
    prefix = "sharing_agreement"
    violations: list[FieldViolation] = []
    values: dict = {}
    try:
        values["tenant_code"] = _agreement_tenant(caller, data.tenant_code)
    except InvalidArgument as error:
        violations.extend(error.violations)
    for field in ("provider_organisation", "consumer_organisation"):
        if not ORGANISATION_NAME.match(getattr(data, field) or ""):
            violations.append(FieldViolation(f"{prefix}.{field}", "must be organisations/{id}"))
        values[field] = getattr(data, field)
    if data.provider_organisation and data.provider_organisation == data.consumer_organisation:
        violations.append(FieldViolation(f"{prefix}.consumer_organisation", "must differ from the provider"))
    fields = RECORD_FIELDS.get(data.record_type)
    if fields is None:
        violations.append(FieldViolation(f"{prefix}.record_type", f"must be one of {', '.join(RECORD_FIELDS)}"))
    elif not data.granted_fields:
        violations.append(FieldViolation(f"{prefix}.granted_fields", "must name at least one field"))
    elif unknown := sorted(set(data.granted_fields) - set(fields)):
        violations.append(FieldViolation(f"{prefix}.granted_fields",
                                          f"unknown fields {', '.join(unknown)}; allowed: {', '.join(fields)}"))
    values["record_type"] = data.record_type
    values["granted_fields"] = sorted(set(data.granted_fields))
    for field in ("purpose", "legal_basis"):
        text = getattr(data, field)
        if not text.strip():
            violations.append(FieldViolation(f"{prefix}.{field}", "is required"))
        elif len(text) > MAX_TEXT:
            violations.append(FieldViolation(f"{prefix}.{field}", f"must be at most {MAX_TEXT} characters"))
        values[field] = text.strip()
    for field in ("valid_from", "valid_until"):
        try:
            values[field] = parse_date(getattr(data, field), f"{prefix}.{field}")
        except InvalidArgument as error:
            violations.extend(error.violations)
    if "valid_from" in values and "valid_until" in values and values["valid_until"] < values["valid_from"]:
        violations.append(FieldViolation(f"{prefix}.valid_until", "must not be before valid_from"))
    if violations:
        raise InvalidArgument(violations)
    return values


async def create_agreement(*, session: AsyncSession, caller: Caller, data: AgreementData) -> SharingAgreement:
    values = validate_agreement(caller, data)
    now = datetime.now(UTC)
    row = SharingAgreement(id=uuid.uuid4().hex, status="active", create_time=now, update_time=now,
                           created_by=caller.subject, **values)
    session.add(row)
    await session.flush()
    await _log(session, caller, "create", row.id)
    return row


async def _log(session: AsyncSession, caller: Caller, action: str, agreement_id: str) -> None:
    await exchange_log.append(session, exchange_log.Entry(
        tenant_code=caller.tenant, actor=caller.subject, action=action, record_type="sharing_agreements",
        record_ids=(agreement_id,)))


def _readable(caller: Caller):
    """MO all; PO its subtree's agreements; DL those its organisation is a party to."""
    if MINISTRY_OPERATOR in caller.roles or PROVINCIAL_OPERATOR in caller.roles:
        return visible_to(SharingAgreement.tenant_code, caller)
    org = organisation_name(caller.organisation)
    if DEPARTMENT_LIAISON in caller.roles and org:
        return or_(SharingAgreement.consumer_organisation == org, SharingAgreement.provider_organisation == org)
    return false()


async def list_agreements(*, session: AsyncSession, caller: Caller, after: tuple[str, str] | None,
                          limit: int) -> list[SharingAgreement]:
    query = select(SharingAgreement).where(_readable(caller))
    query = newest_first(query, SharingAgreement.create_time, SharingAgreement.id, after, limit)
    rows = (await session.scalars(query)).all()
    if MINISTRY_OPERATOR in caller.roles or PROVINCIAL_OPERATOR in caller.roles:
        return list(rows)
    # A liaison sees the agreements of its party that apply where it works.
    return [r for r in rows if in_subtree(caller.tenant, r.tenant_code) or caller.sees_tenant(r.tenant_code)]


async def get_agreement(*, session: AsyncSession, caller: Caller, agreement_id: str) -> SharingAgreement:
    row = (await session.scalars(select(SharingAgreement).where(SharingAgreement.id == agreement_id,
                                                                 _readable(caller)))).first()
    if row is None or not (MINISTRY_OPERATOR in caller.roles or PROVINCIAL_OPERATOR in caller.roles
                           or in_subtree(caller.tenant, row.tenant_code) or caller.sees_tenant(row.tenant_code)):
        raise NotFound(f"sharing agreement {agreement_id} not found")
    return row


async def _managed(session: AsyncSession, caller: Caller, agreement_id: str) -> SharingAgreement:
    query = select(SharingAgreement).where(SharingAgreement.id == agreement_id,
                                           visible_to(SharingAgreement.tenant_code, caller))
    row = (await session.scalars(query.with_for_update())).first()
    if row is None:
        raise NotFound(f"sharing agreement {agreement_id} not found")
    return row


async def _set_status(session: AsyncSession, caller: Caller, agreement_id: str, action: str) -> SharingAgreement:
    target = {"suspend": "suspended", "resume": "active", "revoke": "revoked"}[action]
    row = await _managed(session, caller, agreement_id)
    if row.status == "revoked" and target != "revoked":
        raise FailedPrecondition("a revoked sharing agreement is final", reason="AGREEMENT_REVOKED")
    if row.status != target:
        row.status = target
        row.update_time = datetime.now(UTC)
        await session.flush()
    await _log(session, caller, action, row.id)
    return row


async def revoke_agreement(*, session: AsyncSession, caller: Caller, agreement_id: str) -> SharingAgreement:
    return await _set_status(session, caller, agreement_id, "revoke")


async def suspend_agreement(*, session: AsyncSession, caller: Caller, agreement_id: str) -> SharingAgreement:
    return await _set_status(session, caller, agreement_id, "suspend")


async def resume_agreement(*, session: AsyncSession, caller: Caller, agreement_id: str) -> SharingAgreement:
    return await _set_status(session, caller, agreement_id, "resume")


async def active_grants(*, session: AsyncSession, caller: Caller,
                        record_type: str) -> list[tuple[str, frozenset[str]]]:
    """(tenant prefix covered, fields granted) of every active, in-date agreement whose consumer is
    the caller's organisation, restricted to the caller's own tenant subtree."""
    org = organisation_name(caller.organisation)
    if not org:
        return []
    today = today_cst()
    rows = (await session.scalars(select(SharingAgreement).where(
        SharingAgreement.consumer_organisation == org,
        SharingAgreement.record_type == record_type,
        SharingAgreement.status == "active",
        SharingAgreement.valid_from <= today,
        SharingAgreement.valid_until >= today,
    ))).all()
    grants = []
    for row in rows:
        if in_subtree(caller.tenant, row.tenant_code):
            prefix = subtree_prefix(caller.tenant)  # the agreement covers all of the caller's subtree
        elif caller.sees_tenant(row.tenant_code):
            prefix = subtree_prefix(row.tenant_code)  # a region of the caller's subtree
        else:
            continue
        grants.append((prefix, frozenset(row.granted_fields)))
    return grants
