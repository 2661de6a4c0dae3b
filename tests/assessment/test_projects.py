"""Prevention projects (SPEC AS-1) over gRPC as third parties call it: calls, applications, the
state machine (every legal edge works; every illegal (state, action) pair generated from the
transition table is refused naming the current state and changes nothing), transitions stored
with actor, time and reason; and the budget rules of approval (SPEC AS-3)."""

from __future__ import annotations

import uuid
from collections import deque

import grpc
import pytest
from prevention.assessment.v1 import projects_pb2

from services.assessment.projects import ACTIONS, TRANSITIONS
from tests.assessment.helpers import application, approval, assessment, call_message, code_of, unique_region

TENANT = "130000"  # Hebei: no other test writes projects there
APPLICANT_ACTIONS = {"withdraw"}


def paths_to_states() -> dict[str, list[str]]:
    """Shortest action sequence from `submitted` to every state, from the transition table."""
    paths = {"submitted": []}
    queue = deque(["submitted"])
    while queue:
        state = queue.popleft()
        for action, target in TRANSITIONS[state].items():
            if target not in paths:
                paths[target] = [*paths[state], action]
                queue.append(target)
    return paths


PATHS = paths_to_states()
LEGAL = sorted((s, a) for s, moves in TRANSITIONS.items() for a in moves)
ILLEGAL = sorted((s, a) for s in TRANSITIONS for a in ACTIONS if a not in TRANSITIONS[s])


class World:
    def __init__(self, issuer, client):
        self.org = uuid.uuid4().hex
        self.po = client(issuer.token(tenant=TENANT, roles=["provincial_operator"], sub=f"po-{uuid.uuid4().hex[:6]}"))
        self.applicant = client(issuer.token(tenant=TENANT, roles=["service_institution"], org=self.org))
        self.region = unique_region(TENANT)

    async def setup(self, income_fen: int = 10**12):
        await self.po.ImportFundIncome(projects_pb2.ImportFundIncomeRequest(
            rows=[projects_pb2.FundIncome(pooling_region=self.region, year=2025, premium_income_fen=income_fen)]))
        created = await self.po.CreateProjectCall(projects_pb2.CreateProjectCallRequest(
            project_call=call_message(TENANT, year=2026)))
        self.call = created.project_call.name
        return self

    async def apply(self, **kw) -> str:
        response = await self.applicant.SubmitProjectApplication(projects_pb2.SubmitProjectApplicationRequest(
            project=application(TENANT, self.call, region=self.region, **kw)))
        return response.project.name

    async def act(self, name: str, action: str, **kw):
        who = self.applicant if action in APPLICANT_ACTIONS else self.po
        if action == "approve" and "approval" not in kw:
            kw["approval"] = approval(100_000_00)
        return await who.TransitionProject(projects_pb2.TransitionProjectRequest(
            name=name, action=action, reason=kw.pop("reason", f"because {action}"), **kw))

    async def project_in(self, state: str) -> str:
        name = await self.apply()
        for action in PATHS[state]:
            await self.act(name, action)
        return name

    async def get(self, name: str) -> projects_pb2.Project:
        return (await self.po.GetProject(projects_pb2.GetProjectRequest(name=name))).project


def test_every_state_is_reachable_and_the_table_is_closed():
    assert set(PATHS) == set(TRANSITIONS)
    assert {t for moves in TRANSITIONS.values() for t in moves.values()} <= set(TRANSITIONS)


@pytest.mark.db
async def test_every_legal_transition_works_and_is_recorded(platform, issuer):
    async with assessment(platform) as client:
        world = await World(issuer, client).setup()
        for state, action in LEGAL:
            name = await world.project_in(state)
            before = await world.get(name)
            after = (await world.act(name, action, reason=f"why {action}")).project
            assert after.state == TRANSITIONS[state][action], (state, action)
            assert len(after.transitions) == len(before.transitions) + 1
            last = after.transitions[-1]
            assert (last.from_state, last.to_state, last.action, last.reason) == (
                state, after.state, action, f"why {action}")
            assert last.actor and last.time.seconds > 0
        # The history of a completed project is the full path, submission first.
        done = await world.get(await world.project_in("completed"))
        assert [t.action for t in done.transitions] == ["submit", *PATHS["completed"]]


@pytest.mark.db
async def test_every_illegal_transition_is_refused_and_changes_nothing(platform, issuer):
    async with assessment(platform) as client:
        world = await World(issuer, client).setup()
        projects = {state: await world.project_in(state) for state in TRANSITIONS}
        for state, action in ILLEGAL:
            name = projects[state]
            before = await world.get(name)
            code, details = await code_of(world.act(name, action))
            assert code == grpc.StatusCode.FAILED_PRECONDITION, (state, action, code, details)
            assert f"project is {state}" in details, details
            assert await world.get(name) == before, (state, action)


@pytest.mark.db
async def test_applicants_only_withdraw_and_see_their_own(platform, issuer):
    async with assessment(platform) as client:
        world = await World(issuer, client).setup()
        name = await world.apply()
        code, _ = await code_of(world.applicant.TransitionProject(projects_pb2.TransitionProjectRequest(
            name=name, action="start_review")))
        assert code == grpc.StatusCode.PERMISSION_DENIED
        code, _ = await code_of(world.po.TransitionProject(projects_pb2.TransitionProjectRequest(
            name=name, action="withdraw", reason="operator cannot withdraw for the applicant")))
        assert code == grpc.StatusCode.PERMISSION_DENIED
        other = client(issuer.token(tenant=TENANT, roles=["service_institution"], org=uuid.uuid4().hex))
        code, _ = await code_of(other.GetProject(projects_pb2.GetProjectRequest(name=name)))
        assert code == grpc.StatusCode.NOT_FOUND
        listed = await other.ListProjects(projects_pb2.ListProjectsRequest(page_size=500))
        assert name not in [p.name for p in listed.projects]
        mine = await world.applicant.ListProjects(projects_pb2.ListProjectsRequest(page_size=500))
        assert name in [p.name for p in mine.projects]
        foreign = client(issuer.token(tenant="110000", roles=["provincial_operator"]))
        code, _ = await code_of(foreign.GetProject(projects_pb2.GetProjectRequest(name=name)))
        assert code == grpc.StatusCode.NOT_FOUND
        ministry = client(issuer.token(tenant="100000", roles=["ministry_operator"]))
        assert (await ministry.GetProject(projects_pb2.GetProjectRequest(name=name))).project.name == name


@pytest.mark.db
async def test_application_validation_names_fields_and_stores_nothing(platform, issuer):
    async with assessment(platform) as client:
        world = await World(issuer, client).setup()
        bad = application(TENANT, world.call, region="110000", start="2026-01-01", end="2028-06-01")
        del bad.documents[1:]
        bad.category = "party"
        code, details = await code_of(world.applicant.SubmitProjectApplication(
            projects_pb2.SubmitProjectApplicationRequest(project=bad)))
        assert code == grpc.StatusCode.INVALID_ARGUMENT
        for field in ("project.pooling_region", "project.category", "project.planned_end", "project.documents"):
            assert field in details, details
        assert "at most 2 years" in details and "feasibility_report" in details
        listed = await world.applicant.ListProjects(projects_pb2.ListProjectsRequest(page_size=500))
        assert list(listed.projects) == []


@pytest.mark.db
async def test_closed_call_refuses_applications(platform, issuer):
    async with assessment(platform) as client:
        world = await World(issuer, client).setup()
        closed = await world.po.CreateProjectCall(projects_pb2.CreateProjectCallRequest(
            project_call=call_message(TENANT, closes_on="2020-01-31")))
        code, details = await code_of(world.applicant.SubmitProjectApplication(
            projects_pb2.SubmitProjectApplicationRequest(
                project=application(TENANT, closed.project_call.name, region=world.region))))
        assert code == grpc.StatusCode.FAILED_PRECONDITION and "2020-01-31" in details
        calls = await world.applicant.ListProjectCalls(projects_pb2.ListProjectCallsRequest(page_size=500))
        assert {world.call, closed.project_call.name} <= {c.name for c in calls.project_calls}


# -- budget (SPEC AS-3) --------------------------------------------------------------------------


@pytest.mark.db
async def test_approval_crossing_the_cap_is_refused_and_passes_at_five_percent(platform, issuer):
    async with assessment(platform) as client:
        # 2025 premium income 100,000,000 yuan: cap 3 % = 3,000,000 yuan = 300,000,000 fen.
        world = await World(issuer, client).setup(income_fen=100_000_000_00)
        first = await world.project_in("under_review")
        approved = (await world.act(first, "approve", approval=approval(2_000_000_00))).project
        assert approved.state == "approved" and approved.approved_budget_fen == 2_000_000_00
        assert approved.tender_required  # >= 500,000 yuan
        second = await world.project_in("under_review")
        before = await world.get(second)
        code, details = await code_of(world.act(second, "approve", approval=approval(1_500_000_00)))
        assert code == grpc.StatusCode.FAILED_PRECONDITION
        assert "remaining 100000000 fen" in details, details
        assert await world.get(second) == before
        status = await world.po.GetBudgetStatus(projects_pb2.GetBudgetStatusRequest(
            pooling_region=world.region, year=2026))
        assert (status.cap_fen, status.approved_fen, status.remaining_fen) == (
            3_000_000_00, 2_000_000_00, 1_000_000_00)

        settings = projects_pb2.BudgetSettings(name=f"budgetSettings/{TENANT}", cap_rate="0.05")
        await world.po.UpdateBudgetSettings(projects_pb2.UpdateBudgetSettingsRequest(budget_settings=settings))
        try:
            passed = (await world.act(second, "approve", approval=approval(1_500_000_00))).project
            assert passed.state == "approved"
        finally:
            settings.cap_rate = "0.03"
            await world.po.UpdateBudgetSettings(projects_pb2.UpdateBudgetSettingsRequest(budget_settings=settings))


@pytest.mark.db
async def test_approval_rules_duration_tender_and_missing_income(platform, issuer):
    async with assessment(platform) as client:
        world = await World(issuer, client).setup()
        name = await world.project_in("under_review")
        code, details = await code_of(world.act(name, "approve", approval=approval(100, "2026-01-01", "2028-01-02")))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "approval.end_date" in details
        small = (await world.act(name, "approve", approval=approval(499_999_99, "2026-01-01", "2028-01-01"))).project
        assert small.state == "approved" and not small.tender_required

        other_region = World(issuer, client)
        other_region.call = world.call
        orphan = await other_region.project_in("under_review")
        code, details = await code_of(other_region.act(orphan, "approve"))
        assert code == grpc.StatusCode.FAILED_PRECONDITION and "no fund premium income" in details

        result = await world.po.ImportFundIncome(projects_pb2.ImportFundIncomeRequest(rows=[
            projects_pb2.FundIncome(pooling_region="110000", year=2025, premium_income_fen=1),
            projects_pb2.FundIncome(pooling_region=world.region, year=1800, premium_income_fen=1),
            projects_pb2.FundIncome(pooling_region=world.region, year=2024, premium_income_fen=-1),
            projects_pb2.FundIncome(pooling_region=world.region, year=2024, premium_income_fen=5)]))
        assert result.imported == 1
        assert [(e.row, e.field) for e in result.errors] == [
            (0, "pooling_region"), (1, "year"), (2, "premium_income_fen")]
        code, _ = await code_of(world.po.UpdateBudgetSettings(projects_pb2.UpdateBudgetSettingsRequest(
            budget_settings=projects_pb2.BudgetSettings(name=f"budgetSettings/{TENANT}", cap_rate="0.5"))))
        assert code == grpc.StatusCode.INVALID_ARGUMENT
        code, _ = await code_of(world.po.GetBudgetSettings(projects_pb2.GetBudgetSettingsRequest(
            name="budgetSettings/110000")))
        assert code == grpc.StatusCode.NOT_FOUND
