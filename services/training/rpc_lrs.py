"""gRPC adapter of the learning-record store: the ingestion stream for platforms (TR-3) and the
statement/document RPCs behind the gateway's /xapi LRS. Owns the transactions."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from datetime import UTC, datetime

import grpc
from google.protobuf.message import DecodeError
from prevention.training.v1 import training_pb2, training_pb2_grpc
from sqlalchemy.exc import IntegrityError

from services.common.context import Caller, current_caller
from services.common.errors import (
    Aborted,
    AlreadyExists,
    DomainError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from services.common.storage import object_key
from services.training import recommended
from services.training.lrs import documents, signatures, store
from services.training.lrs import statements as st
from services.training.lrs.models import StatementAttachment

MAX_BATCH = 500
MAX_DRAIN = 16
DRAIN_SECONDS = 0.2
_KINDS = {training_pb2.XAPI_DOCUMENT_KIND_STATE: "state",
          training_pb2.XAPI_DOCUMENT_KIND_ACTIVITY_PROFILE: "activity_profile",
          training_pb2.XAPI_DOCUMENT_KIND_AGENT_PROFILE: "agent_profile"}


def _load_json(text: str, field: str):
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidArgument.field(field, "is not valid JSON") from None


def _error_of(error: DomainError) -> tuple[str, str, tuple[str, ...]]:
    fields = tuple(v.field for v in getattr(error, "violations", ()))
    return error.reason, error.message, fields


class LearningRecordRpcs:
    """Mixed into TrainingServicer, which provides ``db``, ``may_push`` and ``object_store``."""

    async def _check_push(self, session, caller: Caller) -> None:
        check = self.may_push or recommended.may_push
        if "training_platform" in caller.roles and not await check(
                session, tenant_code=caller.tenant, client_id=store.writer_of(caller)):
            raise PermissionDenied("this platform is not on the tenant's recommended list",
                                   reason="PLATFORM_NOT_RECOMMENDED")

    async def _write(self, caller: Caller, prepared: list[st.Prepared]) -> list[store.Outcome]:
        try:
            async with self.db.session() as session:
                await self._check_push(session, caller)
                outcomes = await store.write(session, caller=caller, prepared=prepared)
                await session.commit()
        except IntegrityError:
            raise Aborted("a statement with the same id was written concurrently; retry",
                          reason="CONCURRENT_WRITE") from None
        return outcomes

    async def IngestLearningRecords(self, request_iterator, context):
        try:
            async for ack in self._ingest(request_iterator):
                yield ack
        except DomainError:
            # Read what the client already sent before answering with the error: a stream closed
            # while the client still writes reaches it as a transport failure, not our status.
            # Bounded in count and time: a client that waits for an ack sends nothing more.
            with contextlib.suppress(TimeoutError, grpc.RpcError):
                async with asyncio.timeout(DRAIN_SECONDS):
                    drained = 0
                    async for _ in request_iterator:
                        drained += 1
                        if drained >= MAX_DRAIN:
                            break
            raise

    async def _ingest(self, request_iterator):
        caller = current_caller()
        authority = store.authority_of(caller)
        async for batch in request_iterator:
            if batch is UNDECODABLE:
                raise InvalidArgument.field("request", "is not an IngestLearningRecordsRequest message")
            if len(batch.records) > MAX_BATCH:
                raise InvalidArgument.field("records", f"a batch holds at most {MAX_BATCH} records")
            ack = training_pb2.IngestLearningRecordsResponse(batch_number=batch.batch_number)
            stored = datetime.now(UTC)
            prepared: list[tuple[int, st.Prepared]] = []
            for index, record in enumerate(batch.records):
                try:
                    statement = _load_json(record.statement_json, "statement_json")
                    prepared.append((index, st.prepare(statement, stored=stored, authority=authority,
                                                       version="1.0.3")))
                except DomainError as error:
                    reason, message, fields = _error_of(error)
                    sid = statement.get("id", "") if isinstance(statement := _safe(record), dict) else ""
                    ack.errors.append(training_pb2.RecordError(index=index, statement_id=str(sid)[:64],
                                                               reason=reason, message=message, fields=fields))
            if prepared:
                try:
                    outcomes = await self._write(caller, [p for _, p in prepared])
                except InvalidArgument as error:  # a batch-level rule (voiding a voiding statement)
                    reason, message, fields = _error_of(error)
                    outcomes = [store.Outcome(store.INVALID, p.statement_id, reason, message, fields)
                                for _, p in prepared]
                for (index, _), outcome in zip(prepared, outcomes, strict=True):
                    if outcome.status == store.STORED:
                        ack.stored += 1
                    elif outcome.status == store.REPLAYED:
                        ack.replayed += 1
                    else:
                        ack.errors.append(training_pb2.RecordError(
                            index=index, statement_id=outcome.statement_id, reason=outcome.reason,
                            message=outcome.message, fields=list(outcome.fields)))
            ack.errors.sort(key=lambda e: e.index)
            yield ack

    async def StoreStatements(self, request, context):
        caller = current_caller()
        version = request.xapi_version or "1.0.3"
        body = _load_json(request.statements_json, "statements")
        if request.statement_id:
            if not isinstance(body, dict):
                raise InvalidArgument.field("statement", "PUT takes one statement object")
            checker = st._Checker(version)
            checker.uuid(request.statement_id, "statementId")
            if checker.errors:
                raise InvalidArgument(checker.errors)
            if "id" in body and str(body["id"]).lower() != request.statement_id.lower():
                raise InvalidArgument.field("statement.id", "differs from the statementId parameter")
            body = {**body, "id": request.statement_id.lower()}
            items = [body]
        else:
            items = body if isinstance(body, list) else [body]
        if not items:
            raise InvalidArgument.field("statements", "must hold at least one statement")
        stored = datetime.now(UTC)
        authority = store.authority_of(caller)
        prepared = [st.prepare(item, stored=stored, authority=authority, version=version,
                               path="statement" if len(items) == 1 else f"statements[{i}]")
                    for i, item in enumerate(items)]
        ids = [p.statement_id for p in prepared]
        if len(set(ids)) != len(ids):
            raise InvalidArgument.field("statements", "holds the same statement id twice")
        parts = {hashlib.sha256(part.content).hexdigest(): part.content for part in request.attachments}
        for i, item in enumerate(items):
            signatures.check(item, parts, path="statement" if len(items) == 1 else f"statements[{i}]")
        await self._store_attachments(caller, prepared, request.attachments)
        outcomes = await self._write(caller, prepared)
        if any(o.status == store.CONFLICT for o in outcomes):
            raise AlreadyExists("a different statement with this id is already stored", reason="STATEMENT_CONFLICT")
        return training_pb2.StoreStatementsResponse(statement_ids=ids)

    async def _store_attachments(self, caller: Caller, prepared: list[st.Prepared], parts) -> None:
        """Every attachment without a fileUrl needs a part whose SHA-256 is the declared sha2; the
        object is written (checksum-verified by the store) before the statement commits."""
        declared = {sha for p in prepared for sha in p.attachment_sha2s}
        by_sha: dict[str, training_pb2.StatementAttachment] = {}
        for i, part in enumerate(parts):
            actual = hashlib.sha256(part.content).hexdigest()
            if part.sha2.lower() != actual:
                raise InvalidArgument.field(f"attachments[{i}].sha2", "does not match the part's SHA-256")
            by_sha[actual] = part
        missing = declared - set(by_sha)
        if missing:
            raise InvalidArgument.field("attachments", "a statement attachment without fileUrl has no matching part")
        # A part may also carry the content of an attachment that has a fileUrl.
        allowed = declared | {a.get("sha2") for p in prepared for a in _attachments_of(p.statement)}
        if set(by_sha) - allowed:
            raise InvalidArgument.field("attachments", "a part matches no attachment of the statements")
        if not by_sha:
            return
        async with self.db.session() as session:
            for sha, part in by_sha.items():
                key = object_key(caller.tenant, "training", "xapi-attachment", sha)
                if await session.get(StatementAttachment, (caller.tenant, sha)) is not None:
                    continue
                # Stored as opaque bytes (the store accepts a fixed list of types); the declared type
                # is kept in the row and returned with the attachment.
                await self.object_store.put(key, part.content, "application/octet-stream")
                session.add(StatementAttachment(tenant_code=caller.tenant, sha2=sha,
                                                content_type=part.content_type or "application/octet-stream",
                                                length=len(part.content), object_key=key))
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()  # the same content stored concurrently: it is there

    async def GetStatements(self, request, context):
        caller = current_caller()
        response = training_pb2.GetStatementsResponse(consistent_through=st.iso(datetime.now(UTC)))
        single = request.statement_id or request.voided_statement_id
        async with self.db.session() as session:
            if single:
                if any((request.agent, request.verb, request.activity, request.registration, request.since,
                        request.until, request.limit, request.page_token, request.ascending,
                        request.related_activities, request.related_agents)):
                    raise InvalidArgument.field("statementId", "cannot be combined with query parameters")
                row = await store.get_one(session, caller=caller, statement_id=single,
                                          voided=bool(request.voided_statement_id))
                if row is None:
                    raise NotFound("no such statement")
                statement = json.loads(row.statement_json)
                rows_json = [self._format(statement, request.format)]
                response.statements_json = rows_json[0]
                response.last_modified = st.iso(row.stored)
                statements = [statement]
            else:
                if request.page_token:
                    query, after = store.Query.decode(request.page_token)
                else:
                    query = store.Query(agent=request.agent, verb=request.verb, activity=request.activity,
                                        registration=request.registration,
                                        related_activities=request.related_activities,
                                        related_agents=request.related_agents, since=request.since,
                                        until=request.until, limit=request.limit, format=request.format or "exact",
                                        attachments=request.attachments, ascending=request.ascending)
                    after = None
                if query.format not in ("exact", "ids", "canonical"):
                    raise InvalidArgument.field("format", "must be exact, ids or canonical")
                rows, last = await store.query(session, caller=caller, q=query, after=after)
                if query.format == "ids":
                    statements = [json.loads(r.statement_json) for r in rows]
                    response.statements_json = "[" + ",".join(self._format(s, "ids") for s in statements) + "]"
                else:
                    response.statements_json = "[" + ",".join(r.statement_json for r in rows) + "]"
                    statements = [json.loads(r.statement_json) for r in rows] if query.attachments else []
                response.next_page_token = query.encode(last) if last else ""
            if request.attachments:
                await self._attach(session, caller, statements, response)
        return response

    @staticmethod
    def _format(statement: dict, fmt: str) -> str:
        return st.canonical_json(st.ids_format(statement) if fmt == "ids" else statement)

    async def _attach(self, session, caller: Caller, statements: list[dict], response) -> None:
        wanted: list[str] = []
        for s in statements:
            for a in list(s.get("attachments") or []) + list((s.get("object") or {}).get("attachments") or []):
                # an attachment with a fileUrl is returned too when its content was sent as a part
                if a.get("sha2") and a.get("sha2") not in wanted:
                    wanted.append(a["sha2"])
        for sha in wanted:
            row = await session.get(StatementAttachment, (caller.tenant, sha))
            if row is None:
                continue
            content = await self.object_store.get(row.object_key)
            response.attachments.append(training_pb2.StatementAttachment(sha2=sha, content_type=row.content_type,
                                                                         content=content))

    # --- documents -------------------------------------------------------------------------------
    @staticmethod
    def _key(message) -> documents.Key:
        kind = _KINDS.get(message.kind)
        if kind is None:
            raise InvalidArgument.field("key.kind", "is required")
        return documents.Key(kind=kind, activity_id=message.activity_id, agent=message.agent,
                             registration=message.registration, document_id=message.document_id)

    async def GetXapiDocument(self, request, context):
        caller = current_caller()
        key = self._key(request.key)
        async with self.db.session() as session:
            if not key.document_id:
                ids = await documents.list_ids(session, caller=caller, key=key, since=request.since)
                return training_pb2.GetXapiDocumentResponse(document_ids=ids, found=True)
            row = await documents.get(session, caller=caller, key=key)
            return training_pb2.GetXapiDocumentResponse(content=row.content, content_type=row.content_type,
                                                        etag=row.etag, updated=st.iso(row.updated), found=True)

    async def PutXapiDocument(self, request, context):
        caller = current_caller()
        key = self._key(request.key)
        async with self.db.session() as session:
            etag = await documents.put(session, caller=caller, key=key, content=request.content,
                                       content_type=request.content_type, merge=request.merge,
                                       if_match=request.if_match, if_none_match=request.if_none_match,
                                       require_precondition=request.require_precondition, now=datetime.now(UTC),
                                       require_precondition_when_new=request.require_precondition_when_new)
            await session.commit()
        return training_pb2.PutXapiDocumentResponse(etag=etag)

    async def DeleteXapiDocument(self, request, context):
        caller = current_caller()
        key = self._key(request.key)
        async with self.db.session() as session:
            await documents.remove(session, caller=caller, key=key, if_match=request.if_match)
            await session.commit()
        return training_pb2.DeleteXapiDocumentResponse()


def _attachments_of(statement: dict) -> list[dict]:
    obj = statement.get("object") or {}
    return list(statement.get("attachments") or []) + list(obj.get("attachments") or [])


def _safe(record) -> object:
    try:
        return json.loads(record.statement_json)
    except (ValueError, RecursionError):
        return None


UNDECODABLE = object()  # a stream message that is not protobuf: the handler refuses it cleanly


def _tolerant(data: bytes):
    try:
        return training_pb2.IngestLearningRecordsRequest.FromString(data)
    except DecodeError:
        return UNDECODABLE


class _Capture:
    """Collects what the generated add_*_to_server registers, so one handler can be changed."""

    def __init__(self):
        self.registered: tuple[str, dict] | None = None

    def add_generic_rpc_handlers(self, handlers) -> None:
        pass

    def add_registered_method_handlers(self, name: str, handlers: dict) -> None:
        self.registered = (name, handlers)


def add_to_server(servicer, server) -> None:
    """The generated registration, except that a hostile ingestion stream's undecodable message
    is answered with INVALID_ARGUMENT, not grpc's INTERNAL (RELIABILITY S14)."""
    capture = _Capture()
    training_pb2_grpc.add_TrainingServiceServicer_to_server(servicer, capture)
    name, handlers = capture.registered
    handlers["IngestLearningRecords"] = grpc.stream_stream_rpc_method_handler(
        servicer.IngestLearningRecords, request_deserializer=_tolerant,
        response_serializer=training_pb2.IngestLearningRecordsResponse.SerializeToString)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(name, handlers),))
    server.add_registered_method_handlers(name, handlers)
