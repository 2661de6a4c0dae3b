"""gRPC adapter: proto <-> domain; owns the transaction."""

from __future__ import annotations

from pathlib import Path

from prevention.sharing.v1 import sharing_pb2, sharing_pb2_grpc
from sqlalchemy.exc import IntegrityError

from services.common.context import current_caller
from services.common.db import Database
from services.common.enums import EnumLabels
from services.common.errors import DomainError, InvalidArgument, ResourceExhausted
from services.common.idempotency import idempotent_rpc
from services.common.pagination import (
    clamp_page_size,
    decode_page_token,
    encode_page_token,
    newest_first_after,
    newest_first_token,
)
from services.common.policy import Policy
from services.common.server import Registration
from services.sharing import agreements, records, service
from services.sharing.models import Accident, IdempotencyKeys, KeyIndustry, SharingAgreement
from services.sharing.rpc_analytics import AnalyticsRpcs
from services.sharing.rpc_bulletins import BulletinRpcs
from services.sharing.rpc_feed import FeedRpcs
from services.sharing.rpc_inspections import InspectionRpcs
from services.sharing.rpc_joint_meetings import JointMeetingRpcs
from services.sharing.rpc_records import RecordRpcs
from services.sharing.rpc_rectification import RectificationRpcs

_SEVERITY = EnumLabels(sharing_pb2.AccidentSeverity)
_RECORD_STATUS = EnumLabels(sharing_pb2.RecordStatus)
_AGREEMENT_STATUS = EnumLabels(sharing_pb2.AgreementStatus)
# Records in one PublishAccidents message beyond this many fail with BATCH_TOO_LARGE.
MAX_BATCH = 1000
# Records in one PublishAccidents stream: its one reply acknowledges each of them and must stay
# well under gRPC's 4 MiB message limit (about 120 bytes per result at most).
MAX_STREAM_RECORDS = 20_000


def key_industry_to_proto(row: KeyIndustry) -> sharing_pb2.KeyIndustry:
    return sharing_pb2.KeyIndustry(
        name=f"keyIndustries/{row.code}",
        code=row.code,
        display_name=row.display_name,
        display_name_en=row.display_name_en,
        divisions=row.divisions,
        tenant_code=row.tenant_code,
    )


def accident_to_proto(row: Accident, fields: tuple[str, ...] = records.ACCIDENT_FIELDS) -> sharing_pb2.Accident:
    """Metadata always; data fields only those in ``fields`` (a liaison's granted fields)."""
    message = sharing_pb2.Accident(
        name=f"accidents/{row.id}", tenant_code=row.tenant_code, version=row.version,
        status=_RECORD_STATUS.to_proto[row.status], publisher_organisation=row.publisher_organisation,
        fields=list(fields),
    )
    for field in fields:
        value = getattr(row, field)
        if field == "occurred_at":
            value = value.isoformat()
        elif field == "severity":
            value = _SEVERITY.to_proto[value]
        setattr(message, field, value)
    message.create_time.FromDatetime(row.create_time)
    message.update_time.FromDatetime(row.update_time)
    return message


def accident_data(message: sharing_pb2.Accident) -> records.AccidentData:
    return records.AccidentData(
        publisher_record_id=message.publisher_record_id, occurred_at=message.occurred_at,
        employer=message.employer, industry_code=message.industry_code,
        severity=_SEVERITY.from_proto.get(message.severity, ""), accident_type=message.accident_type,
        persons_injured=message.persons_injured, fatalities=message.fatalities, days_lost=message.days_lost,
        description=message.description,
    )


def agreement_to_proto(row: SharingAgreement) -> sharing_pb2.SharingAgreement:
    message = sharing_pb2.SharingAgreement(
        name=f"sharingAgreements/{row.id}", tenant_code=row.tenant_code,
        provider_organisation=row.provider_organisation, consumer_organisation=row.consumer_organisation,
        record_type=row.record_type, granted_fields=row.granted_fields, purpose=row.purpose,
        legal_basis=row.legal_basis, valid_from=row.valid_from.isoformat(), valid_until=row.valid_until.isoformat(),
        status=_AGREEMENT_STATUS.to_proto[row.status],
    )
    message.create_time.FromDatetime(row.create_time)
    message.update_time.FromDatetime(row.update_time)
    return message


class SharingServicer(BulletinRpcs, JointMeetingRpcs, RecordRpcs, FeedRpcs, AnalyticsRpcs, RectificationRpcs,
                      InspectionRpcs, sharing_pb2_grpc.SharingServiceServicer):
    def __init__(self, database: Database, export_quota: int | None = None):
        self.db = database
        if export_quota is not None:
            self.export_quota = export_quota  # RELIABILITY S10: exports per caller per hour

    async def ListKeyIndustries(self, request, context):
        size = clamp_page_size(request.page_size)
        after = decode_page_token(request.page_token, shape=(str, str))
        async with self.db.session() as session:
            rows = await service.list_key_industries(
                session=session, caller=current_caller(), after=tuple(after) if after else None, limit=size + 1
            )
        last = rows[size - 1] if len(rows) > size else None
        return sharing_pb2.ListKeyIndustriesResponse(
            key_industries=[key_industry_to_proto(r) for r in rows[:size]],
            next_page_token=encode_page_token([last.tenant_code, last.code]) if last else "",
        )


    async def CreateKeyIndustry(self, request, context):
        caller = current_caller()
        k = request.key_industry
        data = service.KeyIndustryData(code=k.code, display_name=k.display_name, display_name_en=k.display_name_en,
                                       divisions=list(k.divisions))
        for attempt in (1, 2):
            try:
                async with self.db.session() as session:
                    row, created = await service.create_key_industry(session=session, caller=caller, data=data)
                    response = sharing_pb2.CreateKeyIndustryResponse(key_industry=key_industry_to_proto(row),
                                                                     replayed=not created)
                    await session.commit()
                return response
            except IntegrityError:
                # A concurrent create of the same code won; once more, this one replays or conflicts.
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def DeleteKeyIndustry(self, request, context):
        caller = current_caller()
        code = service.parse_key_industry_name(request.name)
        async with self.db.session() as session:
            await service.delete_key_industry(session=session, caller=caller, code=code)
            await session.commit()
        return sharing_pb2.DeleteKeyIndustryResponse()

    # -- accidents ---------------------------------------------------------------------------------

    async def _publish(self, caller, data: records.AccidentData) -> tuple[Accident, bool]:
        """One record in its own transaction. A concurrent publish of the same publisher_record_id
        loses on the unique key; retried once, it then replays or conflicts like any duplicate."""
        for attempt in (1, 2):
            try:
                async with self.db.session() as session:
                    row, created = await records.create_accident(session=session, caller=caller, data=data)
                    await session.commit()
                return row, created
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _publish_batch(self, caller, items: list[records.AccidentData]) -> list[records.BatchOutcome]:
        """One transaction for the batch; if a concurrent publisher committed some of the same record
        ids first (unique key), the batch is redone record by record, which replays or conflicts."""
        if not items:
            return []
        try:
            async with self.db.session() as session:
                outcomes = await records.create_accidents_batch(session=session, caller=caller, items=items)
                await session.commit()
            return outcomes
        except IntegrityError:
            pass
        outcomes = []
        for data in items:
            try:
                row, created = await self._publish(caller, data)
            except DomainError as error:
                outcomes.append(records.BatchOutcome(error=error))
            else:
                outcomes.append(records.BatchOutcome(row=row, created=created))
        return outcomes

    async def CreateAccident(self, request, context):
        caller = current_caller()
        data = accident_data(request.accident)

        async def work(session):
            row, _ = await records.create_accident(session=session, caller=caller, data=data)
            return sharing_pb2.CreateAccidentResponse(accident=accident_to_proto(row))

        if not request.request_id:
            row, _ = await self._publish(caller, data)
            return sharing_pb2.CreateAccidentResponse(accident=accident_to_proto(row))
        try:
            return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller, method="CreateAccident",
                                        request=request, response_type=sharing_pb2.CreateAccidentResponse, work=work)
        except IntegrityError:  # a concurrent publish of the same publisher_record_id committed first
            return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller, method="CreateAccident",
                                        request=request, response_type=sharing_pb2.CreateAccidentResponse, work=work)

    async def PublishAccidents(self, request_iterator, context):
        """Each message is a batch stored in one transaction (one exchange-log entry for it); the
        reply acknowledges every record by its index in the stream, with per-record errors. Record
        ids make a replayed stream (say after a lost reply) change nothing: it answers REPLAYED."""
        caller = current_caller()
        response = sharing_pb2.PublishAccidentsResponse()
        index = 0
        async for batch in request_iterator:
            if index + len(batch.accidents) > MAX_STREAM_RECORDS:
                raise ResourceExhausted(
                    f"a stream carries at most {MAX_STREAM_RECORDS} records; the {index} before this batch are "
                    "stored: send the rest in another stream (replaying stored records answers REPLAYED)",
                    reason="STREAM_TOO_LONG", metadata={"stored": str(index)})
            results = []
            for message in batch.accidents:
                results.append(sharing_pb2.PublishResult(index=index, publisher_record_id=message.publisher_record_id))
                index += 1
            for result in results[MAX_BATCH:]:
                result.outcome = sharing_pb2.PUBLISH_OUTCOME_FAILED
                result.error_reason = "BATCH_TOO_LARGE"
                result.error_message = f"a batch holds at most {MAX_BATCH} records; send the rest in another"
            accepted = [accident_data(message) for message in batch.accidents[:MAX_BATCH]]
            for result, outcome in zip(results, await self._publish_batch(caller, accepted), strict=False):
                if outcome.error is not None:
                    result.outcome = sharing_pb2.PUBLISH_OUTCOME_FAILED
                    result.error_reason = outcome.error.reason
                    result.error_message = outcome.error.message
                    if isinstance(outcome.error, InvalidArgument):
                        result.violations.extend(sharing_pb2.PublishViolation(field=v.field, description=v.description)
                                                 for v in outcome.error.violations)
                else:
                    result.name = f"accidents/{outcome.row.id}"
                    result.outcome = (sharing_pb2.PUBLISH_OUTCOME_CREATED if outcome.created
                                      else sharing_pb2.PUBLISH_OUTCOME_REPLAYED)
            response.results.extend(results)
        for result in response.results:
            if result.outcome == sharing_pb2.PUBLISH_OUTCOME_CREATED:
                response.created_count += 1
            elif result.outcome == sharing_pb2.PUBLISH_OUTCOME_REPLAYED:
                response.replayed_count += 1
            else:
                response.failed_count += 1
        return response

    async def CorrectAccident(self, request, context):
        caller = current_caller()
        accident_id = records.parse_accident_name(request.name)
        data = accident_data(request.accident)

        async def work(session):
            row = await records.correct_accident(session=session, caller=caller, accident_id=accident_id, data=data)
            return sharing_pb2.CorrectAccidentResponse(accident=accident_to_proto(row))

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller, method="CorrectAccident",
                                    request=request, response_type=sharing_pb2.CorrectAccidentResponse, work=work)

    async def VoidAccident(self, request, context):
        caller = current_caller()
        accident_id = records.parse_accident_name(request.name)

        async def work(session):
            row = await records.void_accident(session=session, caller=caller, accident_id=accident_id,
                                              reason=request.reason)
            return sharing_pb2.VoidAccidentResponse(accident=accident_to_proto(row))

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller, method="VoidAccident",
                                    request=request, response_type=sharing_pb2.VoidAccidentResponse, work=work)

    async def GetAccident(self, request, context):
        caller = current_caller()
        accident_id = records.parse_accident_name(request.name)
        async with self.db.session() as session:
            row, fields = await records.get_accident(session=session, caller=caller, accident_id=accident_id)
            await session.commit()  # the exchange-log entry (SH-4) before anything is served
        return sharing_pb2.GetAccidentResponse(accident=accident_to_proto(row, fields))

    async def ListAccidents(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        filters = records.AccidentFilter(
            occurred_from=request.occurred_from, occurred_to=request.occurred_to,
            industry_prefix=request.industry_prefix, severity=_SEVERITY.from_proto.get(request.severity, ""),
        )
        after = decode_page_token(request.page_token, filters.key(), shape=(str, str))
        async with self.db.session() as session:
            rows = await records.list_accidents(session=session, caller=caller, filters=filters,
                                                after=tuple(after) if after else None, limit=size + 1)
            await session.commit()  # the exchange-log entry (SH-4) before anything is served
        last = rows[size - 1][0] if len(rows) > size else None
        return sharing_pb2.ListAccidentsResponse(
            accidents=[accident_to_proto(row, fields) for row, fields in rows[:size]],
            next_page_token=encode_page_token([last.occurred_at.isoformat(), last.id], filters.key()) if last else "",
        )

    # -- sharing agreements ------------------------------------------------------------------------

    async def CreateSharingAgreement(self, request, context):
        caller = current_caller()
        m = request.sharing_agreement
        data = agreements.AgreementData(
            tenant_code=m.tenant_code, provider_organisation=m.provider_organisation,
            consumer_organisation=m.consumer_organisation, record_type=m.record_type,
            granted_fields=tuple(m.granted_fields), purpose=m.purpose, legal_basis=m.legal_basis,
            valid_from=m.valid_from, valid_until=m.valid_until,
        )

        async def work(session):
            row = await agreements.create_agreement(session=session, caller=caller, data=data)
            return sharing_pb2.CreateSharingAgreementResponse(sharing_agreement=agreement_to_proto(row))

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller,
                                    method="CreateSharingAgreement", request=request,
                                    response_type=sharing_pb2.CreateSharingAgreementResponse, work=work)

    async def ListSharingAgreements(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        async with self.db.session() as session:
            rows = await agreements.list_agreements(session=session, caller=caller,
                                                    after=newest_first_after(request.page_token), limit=size + 1)
        return sharing_pb2.ListSharingAgreementsResponse(
            sharing_agreements=[agreement_to_proto(r) for r in rows[:size]],
            next_page_token=newest_first_token(rows, size))

    async def RevokeSharingAgreement(self, request, context):
        caller = current_caller()
        agreement_id = agreements.parse_agreement_name(request.name)
        async with self.db.session() as session:
            row = await agreements.revoke_agreement(session=session, caller=caller, agreement_id=agreement_id)
            await session.commit()
        return sharing_pb2.RevokeSharingAgreementResponse(sharing_agreement=agreement_to_proto(row))


POLICY_FILE = Path(__file__).with_name("policy.yaml")


def build(*, database: Database, settings=None, clock=None, addresses=None, tracer_provider=None,
          **_) -> Registration:
    servicer = SharingServicer(database, export_quota=getattr(settings, "sharing_export_quota_per_hour", None))
    background = []
    channels = []
    if clock is not None:
        servicer.clock = clock
    if settings is not None:  # rectification: evidence store, deadline reminders and escalation (SH-5)
        from services.sharing.rectification_wiring import wire_rectification
        channels = wire_rectification(servicer, database=database, settings=settings, clock=clock,
                                      addresses=addresses or {}, tracer_provider=tracer_provider,
                                      background=background)
    if settings is not None:  # the exchange log's periodic checkpoint to object storage (SH-4)
        from services.common.clock import SystemClock
        from services.common.lease import leader_lock
        from services.common.storage import object_store
        from services.sharing.exchange_log import checkpoint_background
        background.append(checkpoint_background(
            sessionmaker=database.sessionmaker, store=object_store(settings), clock=clock or SystemClock(),
            lock=leader_lock(settings, "sharing-exchange-log-checkpoint")))
    return Registration(
        add_to_server=lambda server: sharing_pb2_grpc.add_SharingServiceServicer_to_server(servicer, server),
        service_names=[sharing_pb2.DESCRIPTOR.services_by_name["SharingService"].full_name],
        policy=Policy.load(POLICY_FILE),
        background=background,
        channels=channels,
    )
