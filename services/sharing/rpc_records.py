"""gRPC adapter of the SH-1 record types besides accidents (Create/Correct/Void/Get/List per
type, generated from the record-type descriptors), file import and export, and the agreement
lifecycle RPCs added with them (get, suspend, resume). Owns the transactions."""

from __future__ import annotations

from prevention.sharing.v1 import sharing_pb2
from sqlalchemy.exc import IntegrityError

from services.common.context import current_caller
from services.common.errors import DomainError, FieldViolation, InvalidArgument
from services.common.idempotency import idempotent_rpc
from services.common.pagination import clamp_page_size, decode_page_token, encode_page_token
from services.sharing import agreements, exports, record_files, records
from services.sharing.models import IdempotencyKeys
from services.sharing.record_types import DISEASE_CASES, HAZARD_REPORTS, MEASUREMENTS, RECOGNITIONS, RECORD_TYPES
from services.sharing.records import RecordType

_RECORD_STATUS = {"active": sharing_pb2.RECORD_STATUS_ACTIVE, "voided": sharing_pb2.RECORD_STATUS_VOIDED}
DEFAULT_EXPORT_QUOTA = 10
# An import stops publishing rows this long before its deadline, to answer in time.
IMPORT_DEADLINE_RESERVE_SECONDS = 1.0

# record type -> (message name, plural used in RPC names)
MESSAGES: dict[str, tuple[str, str]] = {
    DISEASE_CASES.name: ("DiseaseCase", "DiseaseCases"),
    RECOGNITIONS.name: ("Recognition", "Recognitions"),
    HAZARD_REPORTS.name: ("HazardReport", "HazardReports"),
    MEASUREMENTS.name: ("Measurement", "Measurements"),
}


def record_to_proto(kind: RecordType, row, fields: tuple[str, ...] | None = None):
    """Metadata always; data fields only those in ``fields`` (a liaison's granted fields)."""
    fields = kind.fields if fields is None else fields
    message = getattr(sharing_pb2, MESSAGES[kind.name][0])(
        name=f"{records.collection(kind)}/{row.id}", tenant_code=row.tenant_code, version=row.version,
        status=_RECORD_STATUS[row.status], publisher_organisation=row.publisher_organisation, fields=list(fields))
    for field in fields:
        value = getattr(row, field)
        setattr(message, field, value.isoformat() if hasattr(value, "isoformat") else value)
    message.create_time.FromDatetime(row.create_time)
    message.update_time.FromDatetime(row.update_time)
    return message


def record_data(kind: RecordType, message) -> dict:
    data = {"publisher_record_id": message.publisher_record_id}
    data.update({field: getattr(message, field) for field in kind.inputs})
    if kind is DISEASE_CASES and data["persons"] == 0:
        data["persons"] = 1  # proto3: unset is 0; a case counts one person unless told otherwise
    return data


def _filters(kind: RecordType, request) -> records.RecordFilter:
    return records.RecordFilter(
        date_from=getattr(request, f"{kind.filter_prefix}_from"), date_to=getattr(request, f"{kind.filter_prefix}_to"),
        industry_prefix=request.industry_prefix,
        enum_value=getattr(request, kind.enum_filter) if kind.enum_filter else "")


def _record_rpcs(kind: RecordType) -> dict:
    message, plural = MESSAGES[kind.name]
    single = kind.singular
    create_response = getattr(sharing_pb2, f"Create{message}Response")
    correct_response = getattr(sharing_pb2, f"Correct{message}Response")
    void_response = getattr(sharing_pb2, f"Void{message}Response")
    get_response = getattr(sharing_pb2, f"Get{message}Response")
    list_response = getattr(sharing_pb2, f"List{plural}Response")

    async def create(self, request, context):
        caller = current_caller()
        data = record_data(kind, getattr(request, single))

        async def work(session):
            row, _ = await records.create_record(session=session, caller=caller, kind=kind, data=data)
            return create_response(**{single: record_to_proto(kind, row)})

        if not request.request_id:
            row, _ = await self._publish_record(caller, kind, data)
            return create_response(**{single: record_to_proto(kind, row)})
        try:
            return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller,
                                        method=f"Create{message}", request=request, response_type=create_response,
                                        work=work)
        except IntegrityError:  # a concurrent publish of the same publisher_record_id committed first
            return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller,
                                        method=f"Create{message}", request=request, response_type=create_response,
                                        work=work)

    async def correct(self, request, context):
        caller = current_caller()
        record_id = records.parse_record_name(kind, request.name)
        data = record_data(kind, getattr(request, single))

        async def work(session):
            row = await records.correct_record(session=session, caller=caller, kind=kind, record_id=record_id,
                                               data=data)
            return correct_response(**{single: record_to_proto(kind, row)})

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller, method=f"Correct{message}",
                                    request=request, response_type=correct_response, work=work)

    async def void(self, request, context):
        caller = current_caller()
        record_id = records.parse_record_name(kind, request.name)

        async def work(session):
            row = await records.void_record(session=session, caller=caller, kind=kind, record_id=record_id,
                                            reason=request.reason)
            return void_response(**{single: record_to_proto(kind, row)})

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller, method=f"Void{message}",
                                    request=request, response_type=void_response, work=work)

    async def get(self, request, context):
        caller = current_caller()
        record_id = records.parse_record_name(kind, request.name)
        async with self.db.session() as session:
            row, fields = await records.get_record(session=session, caller=caller, kind=kind, record_id=record_id)
            await session.commit()  # the exchange-log entry (SH-4) before anything is served
        return get_response(**{single: record_to_proto(kind, row, fields)})

    async def list_(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        filters = _filters(kind, request)
        after = decode_page_token(request.page_token, filters.key(), shape=(str, str))
        async with self.db.session() as session:
            rows = await records.list_records(session=session, caller=caller, kind=kind, filters=filters,
                                              after=tuple(after) if after else None, limit=size + 1)
            await session.commit()  # the exchange-log entry (SH-4) before anything is served
        last = rows[size - 1][0] if len(rows) > size else None
        token = encode_page_token([getattr(last, kind.date_field).isoformat(), last.id], filters.key()) if last else ""
        return list_response(**{kind.name: [record_to_proto(kind, row, fields) for row, fields in rows[:size]],
                                "next_page_token": token})

    return {f"Create{message}": create, f"Correct{message}": correct, f"Void{message}": void,
            f"Get{message}": get, f"List{plural}": list_}


def _record_type(name: str) -> RecordType:
    kind = RECORD_TYPES.get(name)
    if kind is None:
        raise InvalidArgument.field("record_type", f"must be one of {', '.join(RECORD_TYPES)}")
    return kind


class _RecordRpcBase:
    db = None
    export_quota = DEFAULT_EXPORT_QUOTA

    async def _publish_record(self, caller, kind: RecordType, data: dict):
        """One record in its own transaction. A concurrent publish of the same publisher_record_id
        loses on the unique key; retried once, it then replays or conflicts like any duplicate."""
        for attempt in (1, 2):
            try:
                async with self.db.session() as session:
                    row, created = await records.create_record(session=session, caller=caller, kind=kind, data=data)
                    await session.commit()
                return row, created
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    # -- import and export ---------------------------------------------------------------------

    async def ImportRecords(self, request, context):
        caller = current_caller()
        kind = _record_type(request.record_type)
        rows = record_files.read_rows(kind, request.content, request.filename)
        response = sharing_pb2.ImportRecordsResponse()
        for row in rows:
            result = sharing_pb2.ImportRowResult(row=row.number,
                                                 publisher_record_id=str(row.data.get("publisher_record_id", "")))
            violations: list[FieldViolation] = list(row.violations)
            created = None
            remaining = context.time_remaining() if context is not None else None
            if remaining is not None and remaining < IMPORT_DEADLINE_RESERVE_SECONDS:
                # Answer within the deadline with what was done; importing the file again replays
                # the rows done and continues with these.
                result.error_reason = "IMPORT_TIME_EXHAUSTED"
                result.error_message = "not imported before the deadline; import the file again to continue"
            elif not violations:
                try:
                    record, created = await self._publish_record(caller, kind, row.data)
                except DomainError as error:
                    result.error_reason, result.error_message = error.reason, error.message
                    if isinstance(error, InvalidArgument):
                        prefix = f"{kind.singular}."
                        violations = [FieldViolation(v.field.removeprefix(prefix), v.description)
                                      for v in error.violations]
                else:
                    result.name = f"{records.collection(kind)}/{record.id}"
            elif not result.error_reason and violations:
                result.error_reason, result.error_message = "INVALID_ARGUMENT", "the row has invalid cells"
            if created is None:
                result.outcome = sharing_pb2.PUBLISH_OUTCOME_FAILED
                result.violations.extend(sharing_pb2.PublishViolation(field=v.field, description=v.description)
                                         for v in violations)
                response.failed_count += 1
            elif created:
                result.outcome = sharing_pb2.PUBLISH_OUTCOME_CREATED
                response.created_count += 1
            else:
                result.outcome = sharing_pb2.PUBLISH_OUTCOME_REPLAYED
                response.replayed_count += 1
            response.results.append(result)
        return response

    async def ExportRecords(self, request, context):
        caller = current_caller()
        kind = _record_type(request.record_type)
        filters = exports.parse_filters(kind, dict(request.filters))
        async with self.db.session() as session:
            exported = await exports.export_records(session=session, caller=caller, kind=kind, filters=filters,
                                                    file_type=request.format, reason=request.reason,
                                                    quota=self.export_quota)
            await session.commit()  # the exchange-log entry (S10, SH-4) before anything is served
        return sharing_pb2.ExportRecordsResponse(content=exported.content, content_type=exported.media_type,
                                                 filename=exported.filename, record_count=exported.count)

    # -- sharing agreements: get, suspend, resume ------------------------------------------------

    async def GetSharingAgreement(self, request, context):
        from services.sharing.servicer import agreement_to_proto

        caller = current_caller()
        agreement_id = agreements.parse_agreement_name(request.name)
        async with self.db.session() as session:
            row = await agreements.get_agreement(session=session, caller=caller, agreement_id=agreement_id)
        return sharing_pb2.GetSharingAgreementResponse(sharing_agreement=agreement_to_proto(row))

    async def _agreement_status(self, request, change, response_type):
        from services.sharing.servicer import agreement_to_proto

        caller = current_caller()
        agreement_id = agreements.parse_agreement_name(request.name)
        async with self.db.session() as session:
            row = await change(session=session, caller=caller, agreement_id=agreement_id)
            await session.commit()
        return response_type(sharing_agreement=agreement_to_proto(row))

    async def SuspendSharingAgreement(self, request, context):
        return await self._agreement_status(request, agreements.suspend_agreement,
                                            sharing_pb2.SuspendSharingAgreementResponse)

    async def ResumeSharingAgreement(self, request, context):
        return await self._agreement_status(request, agreements.resume_agreement,
                                            sharing_pb2.ResumeSharingAgreementResponse)


RecordRpcs = type("RecordRpcs", (_RecordRpcBase,), {
    name: method for kind_name in MESSAGES for name, method in _record_rpcs(RECORD_TYPES[kind_name]).items()
})
