"""Organisations: proto <-> domain (services.identity.organisations)."""

from __future__ import annotations

from prevention.identity.v1 import identity_pb2

from services.common.enums import EnumLabels
from services.identity.organisations import (
    EmployerProfile,
    ImportResult,
    OrganisationInput,
    OrganisationView,
)

_TYPES = EnumLabels(identity_pb2.OrganisationType)
_DEPARTMENTS = EnumLabels(identity_pb2.DepartmentType)
TYPE_TO_PROTO, TYPE_FROM_PROTO = _TYPES.to_proto, _TYPES.from_proto
DEPARTMENT_TO_PROTO, DEPARTMENT_FROM_PROTO = _DEPARTMENTS.to_proto, _DEPARTMENTS.from_proto

# Identifying, immutable and output-only fields: never part of an implied update mask.
_NOT_IMPLIED = frozenset({"name", "tenant_code", "type", "create_time", "update_time"})


def organisation_from_proto(message: identity_pb2.Organisation) -> OrganisationInput:
    employer = None
    if message.HasField("employer"):
        e = message.employer
        employer = EmployerProfile(
            uscc=e.uscc, industry_code=e.industry_code, risk_class=e.risk_class, headcount=e.headcount,
            insured_headcount=e.insured_headcount, pooling_region_code=e.pooling_region_code,
        )
    return OrganisationInput(
        # An unknown enum number becomes a name no rule accepts, so the caller hears about it.
        type=TYPE_FROM_PROTO.get(message.type, "" if not message.type else f"#{message.type}"),
        display_name=message.display_name,
        department_type=DEPARTMENT_FROM_PROTO.get(
            message.department_type, "" if not message.department_type else f"#{message.department_type}"
        ),
        sector=message.sector,
        employer=employer,
        contact_name=message.contact_name,
        contact_phone=message.contact_phone,
    )


def implied_update_mask(message: identity_pb2.Organisation) -> list[str]:
    """AIP-134: without an update_mask, the populated (non-default) fields are the mask (leaving
    out the name, the immutable type and output-only fields, so a resource read back can be sent)."""
    mask = []
    for descriptor, _value in message.ListFields():
        if descriptor.name in _NOT_IMPLIED:
            continue
        if descriptor.name == "employer":
            mask += [f"employer.{d.name}" for d, _ in message.employer.ListFields()]
        else:
            mask.append(descriptor.name)
    return mask


def organisation_to_proto(view: OrganisationView) -> identity_pb2.Organisation:
    message = identity_pb2.Organisation(
        name=f"organisations/{view.id}",
        tenant_code=view.tenant_code,
        type=TYPE_TO_PROTO.get(view.type, identity_pb2.ORGANISATION_TYPE_UNSPECIFIED),
        display_name=view.display_name,
        department_type=DEPARTMENT_TO_PROTO.get(view.department_type, identity_pb2.DEPARTMENT_TYPE_UNSPECIFIED),
        sector=view.sector,
        contact_name=view.contact_name,
        contact_phone=view.contact_phone,
    )
    if view.employer is not None:
        e = view.employer
        message.employer.CopyFrom(identity_pb2.EmployerProfile(
            uscc=e.uscc, industry_code=e.industry_code, risk_class=e.risk_class, headcount=e.headcount,
            insured_headcount=e.insured_headcount, pooling_region_code=e.pooling_region_code,
        ))
    message.create_time.FromDatetime(view.create_time)
    message.update_time.FromDatetime(view.update_time)
    return message


def import_result_to_proto(result: ImportResult) -> identity_pb2.ImportEmployersResponse:
    return identity_pb2.ImportEmployersResponse(
        rows=result.rows,
        created=result.created,
        errors=[identity_pb2.RowError(row=e.row, field=e.field, description=e.description) for e in result.errors],
    )
