"""gRPC adapter for rectification notices (SPEC SH-5): proto <-> domain; owns the transaction.
A mixin of SharingServicer (``self.db``; ``self.clock`` and ``self.store`` set by ``build``)."""

from __future__ import annotations

from prevention.sharing.v1 import rectification_pb2 as pb

from services.common.clock import Clock, SystemClock, as_utc
from services.common.context import current_caller
from services.common.enums import EnumLabels
from services.common.errors import Unavailable
from services.common.idempotency import idempotent_rpc
from services.common.pagination import clamp_page_size, decode_page_token, encode_page_token
from services.sharing import rectification
from services.sharing.models import IdempotencyKeys
from services.sharing.rectification_models import (
    RectificationEvidence,
    RectificationNotice,
    RectificationTransition,
)

STATE = EnumLabels(pb.RectificationState)
SOURCE_TYPE = EnumLabels(pb.RectificationSourceType)
LAW = EnumLabels(pb.EnforcementLaw)


def evidence_to_proto(row: RectificationEvidence) -> pb.RectificationEvidence:
    message = pb.RectificationEvidence(
        name=f"rectificationNotices/{row.notice_id}/evidence/{row.id}", file_name=row.file_name,
        content_type=row.content_type, size_bytes=row.size_bytes, sha256=row.sha256, attached=row.attached)
    message.create_time.FromDatetime(as_utc(row.create_time))
    return message


def transition_to_proto(row: RectificationTransition) -> pb.RectificationTransition:
    message = pb.RectificationTransition(
        from_state=STATE.to_proto.get(row.from_state, 0), to_state=STATE.to_proto[row.to_state], actor=row.actor,
        reason=row.reason)
    message.time.FromDatetime(as_utc(row.time))
    return message


def notice_to_proto(row: RectificationNotice, transitions=(), evidence=()) -> pb.RectificationNotice:
    message = pb.RectificationNotice(
        name=f"rectificationNotices/{row.id}", tenant_code=row.tenant_code, employer=row.employer, source=row.source,
        source_type=SOURCE_TYPE.to_proto[row.source_type], required_action=row.required_action,
        deadline_date=row.deadline_date.isoformat(), law=LAW.to_proto[row.law], state=STATE.to_proto[row.state],
        issuing_organisation=row.issuing_organisation, issued_by=row.issued_by, response=row.response,
        evidence=[evidence_to_proto(e) for e in evidence],
        transitions=[transition_to_proto(t) for t in transitions], enforcement_referral=row.enforcement_referral,
    )
    message.due_time.FromDatetime(as_utc(row.due_time))
    message.create_time.FromDatetime(as_utc(row.create_time))
    message.update_time.FromDatetime(as_utc(row.update_time))
    return message


async def full_notice(session, row: RectificationNotice) -> pb.RectificationNotice:
    transitions, evidence = await rectification.history(session, row.id)
    return notice_to_proto(row, transitions, evidence)


class RectificationRpcs:
    clock: Clock = SystemClock()
    store = None  # the object store for evidence (set by build)

    def _store(self):
        if self.store is None:
            raise Unavailable("object storage is not configured", reason="OBJECT_STORE_UNAVAILABLE")
        return self.store

    async def CreateRectificationNotice(self, request, context):
        caller = current_caller()
        m = request.rectification_notice
        now = self.clock.now()

        async def work(session):
            row, _ = await rectification.raise_notice(
                session, caller, source=m.source, source_type=SOURCE_TYPE.from_proto.get(m.source_type, ""),
                employer=m.employer, required_action=m.required_action, deadline_date=m.deadline_date,
                law=LAW.from_proto.get(m.law, ""), now=now)
            return pb.CreateRectificationNoticeResponse(rectification_notice=await full_notice(session, row))

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller,
                                    method="CreateRectificationNotice", request=request,
                                    response_type=pb.CreateRectificationNoticeResponse, work=work)

    async def GetRectificationNotice(self, request, context):
        caller = current_caller()
        notice_id = rectification.parse_notice_name(request.name)
        async with self.db.session() as session:
            row = await rectification.get_notice(session=session, caller=caller, notice_id=notice_id)
            message = await full_notice(session, row)
        return pb.GetRectificationNoticeResponse(rectification_notice=message)

    async def GetRectificationClosure(self, request, context):
        caller = current_caller()
        year = request.year or rectification.current_year()  # 0: this year (CST), resolved once
        async with self.db.session() as session:
            rows = await rectification.closure_by_tenant(session=session, caller=caller, year=year)
        return pb.GetRectificationClosureResponse(year=year, tenants=[
            pb.RectificationClosure(tenant_code=tenant, due=due, closed=closed) for tenant, due, closed in rows])

    async def ListRectificationNotices(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        state = STATE.from_proto.get(request.state, "")
        query = {"state": state}
        after = decode_page_token(request.page_token, query, shape=(str, str))
        async with self.db.session() as session:
            rows = await rectification.list_notices(session=session, caller=caller, state=state,
                                                    after=tuple(after) if after else None, limit=size + 1)
        last = rows[size - 1] if len(rows) > size else None
        return pb.ListRectificationNoticesResponse(
            rectification_notices=[notice_to_proto(r) for r in rows[:size]],
            next_page_token=encode_page_token([as_utc(last.create_time).isoformat(), last.id], query) if last else "",
        )

    async def CreateRectificationEvidenceUpload(self, request, context):
        caller = current_caller()
        notice_id = rectification.parse_notice_name(request.parent, "parent")
        store = self._store()
        async with self.db.session() as session:
            evidence, url = await rectification.create_evidence_upload(
                session=session, caller=caller, store=store, notice_id=notice_id, file_name=request.file_name,
                content_type=request.content_type, now=self.clock.now())
            await session.commit()
        return pb.CreateRectificationEvidenceUploadResponse(evidence=evidence_to_proto(evidence),
                                                                     upload_url=url)

    async def GetRectificationEvidenceDownload(self, request, context):
        caller = current_caller()
        notice_id, evidence_id = rectification.parse_evidence_name(request.name)
        async with self.db.session() as session:
            evidence, url = await rectification.evidence_download(
                session=session, caller=caller, store=self._store(), notice_id=notice_id, evidence_id=evidence_id,
                now=self.clock.now())
        return pb.GetRectificationEvidenceDownloadResponse(download_url=url,
                                                                    evidence=evidence_to_proto(evidence))

    async def RespondToRectificationNotice(self, request, context):
        caller = current_caller()
        notice_id = rectification.parse_notice_name(request.name)
        store = self._store()
        now = self.clock.now()

        async def work(session):
            row = await rectification.respond(session=session, caller=caller, store=store, notice_id=notice_id,
                                              response=request.response, evidence_names=list(request.evidence),
                                              now=now)
            message = await full_notice(session, row)
            return pb.RespondToRectificationNoticeResponse(rectification_notice=message)

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller,
                                    method="RespondToRectificationNotice", request=request,
                                    response_type=pb.RespondToRectificationNoticeResponse, work=work)

    async def _transition(self, request, action: str):
        caller = current_caller()
        notice_id = rectification.parse_notice_name(request.name)
        async with self.db.session() as session:
            row = await rectification.transition(session=session, caller=caller, notice_id=notice_id, action=action,
                                                 reason=request.reason, now=self.clock.now())
            message = await full_notice(session, row)
            await session.commit()
        return message

    async def VerifyRectificationNotice(self, request, context):
        return pb.VerifyRectificationNoticeResponse(
            rectification_notice=await self._transition(request, "verify"))

    async def ReturnRectificationNotice(self, request, context):
        return pb.ReturnRectificationNoticeResponse(
            rectification_notice=await self._transition(request, "return"))

    async def EscalateRectificationNotice(self, request, context):
        return pb.EscalateRectificationNoticeResponse(
            rectification_notice=await self._transition(request, "escalate"))
