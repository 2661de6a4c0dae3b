"""Organisation and employer RPCs (ID-1, ID-2): proto <-> domain; the transaction is owned here."""

from __future__ import annotations

from prevention.identity.v1 import identity_pb2

from services.common.clock import as_utc
from services.common.context import current_caller
from services.common.errors import InvalidArgument
from services.common.idempotency import idempotent_rpc
from services.common.pagination import clamp_page_size, decode_page_token, encode_page_token
from services.identity import organisations
from services.identity.models import IdempotencyKeys
from services.identity.org_convert import (
    TYPE_FROM_PROTO,
    implied_update_mask,
    import_result_to_proto,
    organisation_from_proto,
    organisation_to_proto,
)


class OrganisationRpcs:
    """Mixin of IdentityServicer (uses ``self.db``, ``self.keyring``, ``self.clock``)."""

    def _to_proto(self, row, caller) -> identity_pb2.Organisation:
        return organisation_to_proto(organisations.present(row, caller=caller, keyring=self.keyring))

    async def CreateOrganisation(self, request, context):
        caller = current_caller()
        new = organisation_from_proto(request.organisation)

        async def work(session):
            row = await organisations.create_organisation(
                session=session, caller=caller, keyring=self.keyring, now=self.clock.now(), organisation=new,
                tenant_code=request.tenant_code,
            )
            return identity_pb2.CreateOrganisationResponse(organisation=self._to_proto(row, caller))

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller, method="CreateOrganisation",
                                    request=request, response_type=identity_pb2.CreateOrganisationResponse, work=work)

    async def GetOrganisation(self, request, context):
        caller = current_caller()
        organisation_id = organisations.parse_organisation_name(request.name)
        async with self.db.session() as session:
            row = await organisations.get_organisation(
                session=session, caller=caller, organisation_id=organisation_id, now=self.clock.now()
            )
            message = self._to_proto(row, caller)
            await session.commit()  # the audit record of a cross-tenant read
        return identity_pb2.GetOrganisationResponse(organisation=message)

    async def ListOrganisations(self, request, context):
        caller = current_caller()
        if request.type and request.type not in TYPE_FROM_PROTO:
            raise InvalidArgument.field("type", "is not an organisation type")
        type_name = TYPE_FROM_PROTO.get(request.type, "")
        size = clamp_page_size(request.page_size)
        query = {"type": type_name}
        after = decode_page_token(request.page_token, query, shape=(str, str))
        async with self.db.session() as session:
            rows = await organisations.list_organisations(
                session=session, caller=caller, now=self.clock.now(), type=type_name,
                after=tuple(after) if after else None, limit=size + 1,
            )
            messages = [self._to_proto(r, caller) for r in rows[:size]]
            await session.commit()  # audit records of cross-tenant reads
        last = rows[size - 1] if len(rows) > size else None
        token = encode_page_token([as_utc(last.create_time).isoformat(), last.id], query) if last else ""
        return identity_pb2.ListOrganisationsResponse(organisations=messages, next_page_token=token)

    async def UpdateOrganisation(self, request, context):
        caller = current_caller()
        organisation_id = organisations.parse_organisation_name(request.organisation.name, "organisation.name")
        changes = organisation_from_proto(request.organisation)
        mask = list(request.update_mask) or implied_update_mask(request.organisation)
        async with self.db.session() as session:
            row = await organisations.update_organisation(
                session=session, caller=caller, keyring=self.keyring, now=self.clock.now(),
                organisation_id=organisation_id, changes=changes, update_mask=mask,
            )
            message = self._to_proto(row, caller)
            await session.commit()
        return identity_pb2.UpdateOrganisationResponse(organisation=message)

    async def ImportEmployers(self, request, context):
        caller = current_caller()

        async def work(session):
            result = await organisations.import_employers(
                session=session, caller=caller, keyring=self.keyring, now=self.clock.now(),
                content=request.content, filename=request.filename, validate_only=request.validate_only,
            )
            return import_result_to_proto(result)

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller, method="ImportEmployers",
                                    request=request, response_type=identity_pb2.ImportEmployersResponse, work=work)

    async def GetEmployerImportTemplate(self, request, context):
        return identity_pb2.GetEmployerImportTemplateResponse(columns=[
            identity_pb2.ImportColumn(name=name, header_zh=header, required=name in organisations.REQUIRED_COLUMNS)
            for name, header in organisations.IMPORT_COLUMNS.items()
        ])
