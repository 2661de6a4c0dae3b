"""Expert pool and reviewer draws (SPEC AS-2) over gRPC: over 1,000 draws no conflicted expert
(employed by the applicant or by the project's employer) is ever drawn; a stored draw re-runs to
the same reviewers; too few eligible experts is a clear error."""

from __future__ import annotations

import uuid

import grpc
import pytest
from prevention.assessment.v1 import projects_pb2

from tests.assessment.helpers import application, assessment, call_message, code_of, unique_region

TENANT = "140000"  # Shanxi: no other test keeps experts there
DRAWS = 1000


def expert(employer: str, specialty: str = "work_safety") -> projects_pb2.CreateExpertRequest:
    return projects_pb2.CreateExpertRequest(expert=projects_pb2.Expert(
        display_name=f"Expert {uuid.uuid4().hex[:6]}", specialties=[specialty], region_code=TENANT,
        employer=employer))


@pytest.mark.db
async def test_draws_never_pick_conflicted_experts_and_rerun_identically(platform, issuer):
    async with assessment(platform) as client:
        applicant_org, beneficiary = uuid.uuid4().hex, f"organisations/{uuid.uuid4().hex}"
        po = client(issuer.token(tenant=TENANT, roles=["provincial_operator"]))
        applicant = client(issuer.token(tenant=TENANT, roles=["service_institution"], org=applicant_org))
        conflicted = set()
        for employer in [f"organisations/{applicant_org}"] * 3 + [beneficiary] * 3:
            conflicted.add((await po.CreateExpert(expert(employer))).expert.name)
        free = {(await po.CreateExpert(expert(f"organisations/{uuid.uuid4().hex}"))).expert.name for _ in range(6)}
        call = (await po.CreateProjectCall(projects_pb2.CreateProjectCallRequest(
            project_call=call_message(TENANT)))).project_call.name
        project = (await applicant.SubmitProjectApplication(projects_pb2.SubmitProjectApplicationRequest(
            project=application(TENANT, call, region=unique_region(TENANT), beneficiary=beneficiary)))).project

        seen: set[str] = set()
        draws = []
        for _ in range(DRAWS):
            draw = (await po.DrawReviewers(projects_pb2.DrawReviewersRequest(project=project.name, count=3))
                    ).reviewer_draw
            assert len(draw.reviewers) == 3 and not conflicted & set(draw.reviewers), draw
            assert set(draw.reviewers) <= set(draw.candidates)
            assert conflicted <= {e.expert for e in draw.excluded}
            seen |= set(draw.reviewers)
            draws.append(draw)
        assert free <= seen  # every eligible expert of the province is drawn at some point
        assert len({d.seed for d in draws}) == DRAWS

        for draw in draws[:: DRAWS // 20]:
            verified = await po.VerifyReviewerDraw(projects_pb2.VerifyReviewerDrawRequest(name=draw.name))
            assert verified.matches and list(verified.rerun_reviewers) == list(draw.reviewers)
            assert verified.reviewer_draw == draw

        code, details = await code_of(po.DrawReviewers(projects_pb2.DrawReviewersRequest(
            project=project.name, count=len(seen) + 1 + 20)))
        assert code == grpc.StatusCode.INVALID_ARGUMENT and "count" in details
        code, details = await code_of(po.DrawReviewers(projects_pb2.DrawReviewersRequest(
            project=project.name, count=3, specialty="occupational_health")))
        assert code == grpc.StatusCode.FAILED_PRECONDITION and "eligible experts" in details, details


@pytest.mark.db
async def test_expert_sees_only_projects_drawn_for(platform, issuer):
    async with assessment(platform) as client:
        po = client(issuer.token(tenant=TENANT, roles=["provincial_operator"]))
        subject = f"expert-{uuid.uuid4().hex[:8]}"
        request = expert(f"organisations/{uuid.uuid4().hex}", specialty="occupational_health")
        request.expert.user_subject = subject
        mine = (await po.CreateExpert(request)).expert.name
        applicant = client(issuer.token(tenant=TENANT, roles=["employer_officer"], org=uuid.uuid4().hex))
        call = (await po.CreateProjectCall(projects_pb2.CreateProjectCallRequest(
            project_call=call_message(TENANT)))).project_call.name
        project = (await applicant.SubmitProjectApplication(projects_pb2.SubmitProjectApplicationRequest(
            project=application(TENANT, call, region=unique_region(TENANT))))).project
        me = client(issuer.token(tenant=TENANT, roles=["expert"], sub=subject))
        code, _ = await code_of(me.GetProject(projects_pb2.GetProjectRequest(name=project.name)))
        assert code == grpc.StatusCode.NOT_FOUND
        probe = (await po.DrawReviewers(projects_pb2.DrawReviewersRequest(
            project=project.name, count=1, specialty="occupational_health"))).reviewer_draw
        # Drawing every candidate (the national pool may hold more) makes this expert a reviewer.
        draw = (await po.DrawReviewers(projects_pb2.DrawReviewersRequest(
            project=project.name, count=len(probe.candidates), specialty="occupational_health"))).reviewer_draw
        assert mine in draw.reviewers
        got = await me.GetProject(projects_pb2.GetProjectRequest(name=project.name))
        assert got.project.name == project.name
        assert project.name in [p.name for p in (await me.ListProjects(projects_pb2.ListProjectsRequest())).projects]
        listed = await me.ListExperts(projects_pb2.ListExpertsRequest())
        assert [e.name for e in listed.experts] == [mine]

        review = projects_pb2.SubmitExpertReviewRequest(project=project.name, score=85, recommendation="approve",
                                                        opinion="Feasible; budget reasonable.")
        code, details = await code_of(me.SubmitExpertReview(review))
        assert code == grpc.StatusCode.FAILED_PRECONDITION and "project is submitted" in details
        await po.TransitionProject(projects_pb2.TransitionProjectRequest(name=project.name, action="start_review"))
        done = (await me.SubmitExpertReview(review)).review
        assert (done.expert, done.score, done.recommendation) == (mine, 85, "approve")
        code, _ = await code_of(me.SubmitExpertReview(review))
        assert code == grpc.StatusCode.ALREADY_EXISTS
        stranger = client(issuer.token(tenant=TENANT, roles=["expert"], sub=f"expert-{uuid.uuid4().hex[:8]}"))
        code, _ = await code_of(stranger.SubmitExpertReview(review))
        assert code == grpc.StatusCode.NOT_FOUND
        shown = (await po.GetProject(projects_pb2.GetProjectRequest(name=project.name))).project
        assert [(r.expert, r.opinion) for r in shown.reviews] == [(mine, "Feasible; budget reasonable.")]
