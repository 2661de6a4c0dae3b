"""Implementation plans and annual reports (SPEC AS-4) and the active plan following the date
(AS-8), on an assessment service with a frozen clock: due dates from the plan, submit /
acknowledge / return, on-time flag, overdue list; reminders sent through identity's real Notify
exactly once per filing and reminder kind as the clock moves."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest
from prevention.assessment.v1 import assessment_pb2, assessment_pb2_grpc, filings_pb2
from prevention.identity.v1 import identity_pb2_grpc

from services.assessment.filings import send_due_reminders
from services.assessment.notify import IdentityNotifier
from services.common.db import Database
from tests.assessment.helpers import Client, code_of

pytestmark = pytest.mark.db


def at(clocked, iso: str) -> None:
    clocked.clock.set(datetime.fromisoformat(iso).replace(tzinfo=UTC))


async def stub_for(clocked, issuer, tenant: str, role: str):
    channel = grpc.aio.insecure_channel(clocked.address)
    token = issuer.token(tenant=tenant, roles=[role])
    return channel, Client(assessment_pb2_grpc.AssessmentServiceStub(channel), token)


def filing(kind: str, tenant: str, year: int = 0) -> filings_pb2.SubmitFilingRequest:
    return filings_pb2.SubmitFilingRequest(filing=filings_pb2.Filing(
        kind=kind, year=year, document_object=f"{tenant}/assessment/filing/{kind}-{year}", summary="Work plan"))


async def test_active_plan_follows_the_date_in_cst(clocked, issuer):
    channel, anyone = await stub_for(clocked, issuer, "110000", "trainee")
    async with channel:
        for instant, plan in (("2025-12-31T15:59:59", "actionPlans/2021-2025"),
                              ("2025-12-31T16:00:00", "actionPlans/2026-2030"),  # 2026-01-01 00:00 CST
                              ("2021-01-01T00:00:00", "actionPlans/2021-2025"),
                              ("2030-12-31T15:59:59", "actionPlans/2026-2030")):
            at(clocked, instant)
            got = await anyone.GetActionPlan(assessment_pb2.GetActionPlanRequest(name="actionPlans/active"))
            assert got.action_plan.name == plan, instant
        at(clocked, "2031-01-01T00:00:00")
        code, _ = await code_of(anyone.GetActionPlan(assessment_pb2.GetActionPlanRequest(name="actionPlans/active")))
        assert code == grpc.StatusCode.NOT_FOUND


async def test_filing_lifecycle_due_dates_and_overdue(clocked, issuer):
    at(clocked, "2026-05-01T02:00:00")
    c1, po = await stub_for(clocked, issuer, "440000", "provincial_operator")
    c2, mo = await stub_for(clocked, issuer, "100000", "ministry_operator")
    c3, other = await stub_for(clocked, issuer, "450000", "provincial_operator")
    async with c1, c2, c3:
        plan = (await po.SubmitFiling(filing("implementation_plan", "440000"))).filing
        assert (plan.action_plan, plan.year, plan.due_date, plan.state, plan.on_time) == (
            "actionPlans/2026-2030", 2026, "2026-06-30", "submitted", True)
        code, _ = await code_of(po.SubmitFiling(filing("implementation_plan", "440000")))
        assert code == grpc.StatusCode.ALREADY_EXISTS
        code, details = await code_of(mo.ReviewFiling(filings_pb2.ReviewFilingRequest(name=plan.name,
                                                                                     decision="return")))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "reason" in details
        returned = (await mo.ReviewFiling(filings_pb2.ReviewFilingRequest(
            name=plan.name, decision="return", reason="add the budget table"))).filing
        assert (returned.state, returned.return_reason) == ("returned", "add the budget table")
        code, details = await code_of(mo.ReviewFiling(filings_pb2.ReviewFilingRequest(name=plan.name,
                                                                                     decision="acknowledge")))
        assert code == grpc.StatusCode.FAILED_PRECONDITION and "filing is returned" in details
        code, _ = await code_of(other.ReviewFiling(filings_pb2.ReviewFilingRequest(name=plan.name,
                                                                                  decision="acknowledge")))
        assert code == grpc.StatusCode.PERMISSION_DENIED

        # Overdue after the due date: every province without a valid implementation plan.
        at(clocked, "2026-07-01T02:00:00")
        overdue = (await mo.ListOverdueFilings(filings_pb2.ListOverdueFilingsRequest())).overdue_filings
        status = {(o.tenant_code, o.kind): o.status for o in overdue}
        assert status[("440000", "implementation_plan")] == "returned"
        assert status[("450000", "implementation_plan")] == "missing"
        assert len([o for o in overdue if o.kind == "implementation_plan"]) == 32
        mine = (await other.ListOverdueFilings(filings_pb2.ListOverdueFilingsRequest())).overdue_filings
        assert {o.tenant_code for o in mine} == {"450000"}

        resubmitted = (await po.SubmitFiling(filing("implementation_plan", "440000"))).filing
        assert (resubmitted.name, resubmitted.state, resubmitted.on_time) == (plan.name, "submitted", True)
        acknowledged = (await mo.ReviewFiling(filings_pb2.ReviewFilingRequest(name=plan.name,
                                                                              decision="acknowledge"))).filing
        assert acknowledged.state == "acknowledged"
        overdue = (await mo.ListOverdueFilings(filings_pb2.ListOverdueFilingsRequest())).overdue_filings
        assert ("440000", "implementation_plan") not in {(o.tenant_code, o.kind) for o in overdue}

        # The 2026 annual report is due 2026-12-31 CST; filed on 2027-01-05 it is late.
        code, details = await code_of(po.SubmitFiling(filing("annual_report", "440000", 2027)))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "filing.year" in details
        at(clocked, "2027-01-05T02:00:00")
        late = (await po.SubmitFiling(filing("annual_report", "440000", 2026))).filing
        assert (late.due_date, late.on_time) == ("2026-12-31", False)
        listed = (await other.ListFilings(filings_pb2.ListFilingsRequest())).filings
        assert plan.name not in [f.name for f in listed]


class CountingNotifier(IdentityNotifier):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls: list[str] = []

    async def notify(self, **kwargs) -> None:
        await super().notify(**kwargs)
        self.calls.append(kwargs["request_id"])


async def test_reminders_exactly_once_per_filing_and_kind(clocked, platform, issuer):
    database = Database(clocked.database_url)
    provinces = ("620000", "630000")  # nobody else files for these two in this module
    async with grpc.aio.insecure_channel(platform.addresses["identity"]) as channel:
        async def token() -> str:  # stands in for the service identity the integrator wires in
            return issuer.token(tenant="100000", roles=["ministry_operator"])

        notifier = CountingNotifier(identity_pb2_grpc.IdentityServiceStub(channel), token)
        c1, po = await stub_for(clocked, issuer, "630000", "provincial_operator")
        try:
            async def run(iso: str):
                at(clocked, iso)
                return await send_due_reminders(sessionmaker=database.sessionmaker, notifier=notifier,
                                                now=clocked.clock.now(), provinces=provinces)

            assert await run("2026-05-30T02:00:00") == []  # 31 days before 2026-06-30
            first = await run("2026-05-31T02:00:00")
            assert sorted(first) == [("620000", "implementation_plan", 2026, "due_30d"),
                                     ("630000", "implementation_plan", 2026, "due_30d")]
            assert await run("2026-06-10T02:00:00") == []  # same reminder kind: not again
            at(clocked, "2026-06-20T02:00:00")
            async with c1:
                await po.SubmitFiling(filing("implementation_plan", "630000"))
            assert await run("2026-06-23T02:00:00") == [("620000", "implementation_plan", 2026, "due_7d")]
            assert await run("2026-06-30T15:59:00") == []  # still 2026-06-30 in CST
            assert await run("2026-06-30T16:00:00") == [("620000", "implementation_plan", 2026, "overdue")]
            assert await run("2026-08-01T02:00:00") == []
            assert len(notifier.calls) == len(set(notifier.calls)) == 4
        finally:
            await database.dispose()
