"""Good-practice cases and reward/penalty records (SPEC AS-7), and the retention purge (SPEC NF-8,
RELIABILITY A4) on a frozen clock: records live until T + retention and are gone after; every
purge is audited, and the purge audit survives later purges."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest
from prevention.assessment.v1 import assessment_pb2_grpc, rates_pb2, records_pb2

from services.assessment.records import purge_expired
from services.common.db import Database
from tests.assessment.helpers import Client, code_of
from tests.isolation.resources import harness_uscc

pytestmark = pytest.mark.db
TENANT = "610000"


def at(clocked, iso: str) -> datetime:
    clocked.clock.set(datetime.fromisoformat(iso).replace(tzinfo=UTC))
    return clocked.clock.now()


async def test_good_practice_and_reward_penalty_visibility(clocked, issuer):
    at(clocked, "2026-05-01T02:00:00")
    async with grpc.aio.insecure_channel(clocked.address) as channel:
        stub = assessment_pb2_grpc.AssessmentServiceStub(channel)
        po = Client(stub, issuer.token(tenant=TENANT, roles=["provincial_operator"]))
        mo = Client(stub, issuer.token(tenant="100000", roles=["ministry_operator"]))
        employer = Client(stub, issuer.token(tenant=TENANT, roles=["employer_officer"]))
        other = Client(stub, issuer.token(tenant="620000", roles=["provincial_operator"]))
        case = (await po.CreateGoodPracticeCase(records_pb2.CreateGoodPracticeCaseRequest(
            good_practice_case=records_pb2.GoodPracticeCase(title="Dust control in quarries", summary="Wet drilling",
                                                            industry_code="B10", year=2025)))).good_practice_case
        national = (await mo.CreateGoodPracticeCase(records_pb2.CreateGoodPracticeCaseRequest(
            good_practice_case=records_pb2.GoodPracticeCase(title="National case", summary="Shared", year=2025)))
        ).good_practice_case
        seen = {c.name for c in (await employer.ListGoodPracticeCases(
            records_pb2.ListGoodPracticeCasesRequest(page_size=500))).good_practice_cases}
        assert {case.name, national.name} <= seen
        seen = {c.name for c in (await other.ListGoodPracticeCases(
            records_pb2.ListGoodPracticeCasesRequest(page_size=500))).good_practice_cases}
        assert national.name in seen and case.name not in seen
        code, details = await code_of(po.CreateRewardPenaltyRecord(records_pb2.CreateRewardPenaltyRecordRequest(
            reward_penalty_record=records_pb2.RewardPenaltyRecord(organisation="nobody", kind="fine", reason="",
                                                                  decided_on="2027-01-01"))))
        assert code == grpc.StatusCode.INVALID_ARGUMENT
        for field in ("organisation", "kind", "reason", "decided_on"):
            assert f"reward_penalty_record.{field}" in details
        code, _ = await code_of(employer.CreateRewardPenaltyRecord(records_pb2.CreateRewardPenaltyRecordRequest()))
        assert code == grpc.StatusCode.PERMISSION_DENIED


async def test_retention_purge_at_t_plus_retention_is_audited(clocked, issuer):
    at(clocked, "2026-05-01T02:00:00")
    database = Database(clocked.database_url)
    async with grpc.aio.insecure_channel(clocked.address) as channel:
        stub = assessment_pb2_grpc.AssessmentServiceStub(channel)
        po = Client(stub, issuer.token(tenant=TENANT, roles=["provincial_operator"]))
        mo = Client(stub, issuer.token(tenant="100000", roles=["ministry_operator"]))
        record = (await po.CreateRewardPenaltyRecord(records_pb2.CreateRewardPenaltyRecordRequest(
            reward_penalty_record=records_pb2.RewardPenaltyRecord(
                organisation="organisations/quarry-1", kind="penalty", reason="unrectified hazard",
                amount_fen=5_000_000, decided_on="2026-04-01")))).reward_penalty_record
        old, recent = harness_uscc(), harness_uscc()
        await po.ImportRateInputs(rates_pb2.ImportRateInputsRequest(rows=[
            rates_pb2.RateInput(pooling_region=TENANT, employer=old, year=2016, risk_class=2, premiums_paid_fen=1),
            rates_pb2.RateInput(pooling_region=TENANT, employer=recent, year=2017, risk_class=2,
                                premiums_paid_fen=1)]))

        async def records_left() -> set[str]:
            listed = await po.ListRewardPenaltyRecords(records_pb2.ListRewardPenaltyRecordsRequest(page_size=500))
            return {r.name for r in listed.reward_penalty_records}

        try:
            # Retention 5 years (1825 days): decided 2026-04-01, kept through 2031-03-31 (CST).
            counts = await purge_expired(sessionmaker=database.sessionmaker, now=at(clocked, "2027-01-10T02:00:00"))
            assert counts["rate_inputs"] == 1  # 2016 ended more than 10 years before; 2017 not yet
            counts = await purge_expired(sessionmaker=database.sessionmaker, now=at(clocked, "2031-03-31T02:00:00"))
            assert record.name in await records_left() and counts["reward_penalty_records"] == 0
            counts = await purge_expired(sessionmaker=database.sessionmaker, now=at(clocked, "2031-04-01T02:00:00"))
            assert counts["reward_penalty_records"] == 1 and record.name not in await records_left()
            audit = (await mo.ListPurgeAudit(records_pb2.ListPurgeAuditRequest())).entries
            # 2017 inputs expired too by then (their year ended more than 10 years before).
            assert sorted((e.record_type, e.purged) for e in audit if e.purged) == [
                ("rate_inputs", 1), ("rate_inputs", 1), ("reward_penalty_records", 1)]
            assert len(audit) == 9  # three runs x three record types, zeros included
            await purge_expired(sessionmaker=database.sessionmaker, now=at(clocked, "2045-01-01T00:00:00"))
            later = (await mo.ListPurgeAudit(records_pb2.ListPurgeAuditRequest())).entries
            assert list(later[:9]) == list(audit) and len(later) == 12  # the purge audit is kept
        finally:
            await database.dispose()
