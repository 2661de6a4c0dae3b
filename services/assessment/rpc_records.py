"""gRPC adapter for good practice, reward/penalty records (SPEC AS-7) and the purge audit (NF-8).
A mixin of AssessmentServicer (``self.db``, ``self.clock``)."""

from __future__ import annotations

from prevention.assessment.v1 import records_pb2

from services.assessment import records
from services.assessment.models import IdempotencyKeys
from services.assessment.models_filings import GoodPracticeCase, RewardPenaltyRecord
from services.common.context import current_caller
from services.common.idempotency import idempotent_rpc
from services.common.pagination import clamp_page_size, decode_page_token, encode_page_token


def case_to_proto(row: GoodPracticeCase) -> records_pb2.GoodPracticeCase:
    message = records_pb2.GoodPracticeCase(name=f"goodPracticeCases/{row.id}", tenant_code=row.tenant_code,
                                           title=row.title, summary=row.summary, industry_code=row.industry_code,
                                           year=row.year)
    message.create_time.FromDatetime(row.create_time)
    return message


def record_to_proto(row: RewardPenaltyRecord) -> records_pb2.RewardPenaltyRecord:
    message = records_pb2.RewardPenaltyRecord(
        name=f"rewardPenaltyRecords/{row.id}", tenant_code=row.tenant_code, organisation=row.organisation,
        kind=row.kind, reason=row.reason, amount_fen=row.amount_fen, decided_on=row.decided_on.isoformat())
    message.create_time.FromDatetime(row.create_time)
    return message


class RecordRpcs:
    async def CreateGoodPracticeCase(self, request, context):
        caller = current_caller()
        m = request.good_practice_case
        data = records.CaseData(title=m.title, summary=m.summary, industry_code=m.industry_code, year=m.year)

        async def work(session):
            row = await records.create_case(session=session, caller=caller, data=data, now=self.clock.now())
            return records_pb2.CreateGoodPracticeCaseResponse(good_practice_case=case_to_proto(row))

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller,
                                    method="CreateGoodPracticeCase", request=request,
                                    response_type=records_pb2.CreateGoodPracticeCaseResponse, work=work)

    async def ListGoodPracticeCases(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        after = decode_page_token(request.page_token)
        async with self.db.session() as session:
            rows = await records.list_cases(session=session, caller=caller, after=after[0] if after else None,
                                            limit=size + 1)
        return records_pb2.ListGoodPracticeCasesResponse(
            good_practice_cases=[case_to_proto(r) for r in rows[:size]],
            next_page_token=encode_page_token([rows[size - 1].id]) if len(rows) > size else "")

    async def CreateRewardPenaltyRecord(self, request, context):
        caller = current_caller()
        m = request.reward_penalty_record
        data = records.RewardPenaltyData(organisation=m.organisation, kind=m.kind, reason=m.reason,
                                         amount_fen=m.amount_fen, decided_on=m.decided_on)

        async def work(session):
            row = await records.create_reward_penalty(session=session, caller=caller, data=data, now=self.clock.now())
            return records_pb2.CreateRewardPenaltyRecordResponse(reward_penalty_record=record_to_proto(row))

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller,
                                    method="CreateRewardPenaltyRecord", request=request,
                                    response_type=records_pb2.CreateRewardPenaltyRecordResponse, work=work)

    async def ListRewardPenaltyRecords(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        after = decode_page_token(request.page_token)
        async with self.db.session() as session:
            rows = await records.list_reward_penalty(session=session, caller=caller,
                                                     after=after[0] if after else None, limit=size + 1)
        return records_pb2.ListRewardPenaltyRecordsResponse(
            reward_penalty_records=[record_to_proto(r) for r in rows[:size]],
            next_page_token=encode_page_token([rows[size - 1].id]) if len(rows) > size else "")

    async def ListPurgeAudit(self, request, context):
        async with self.db.session() as session:
            rows = await records.purge_audit(session=session)
        entries = []
        for row in rows:
            entry = records_pb2.PurgeAuditEntry(record_type=row.record_type, purged=row.purged)
            entry.cutoff.FromDatetime(row.cutoff)
            entry.run_time.FromDatetime(row.run_time)
            entries.append(entry)
        return records_pb2.ListPurgeAuditResponse(entries=entries)
