"""gRPC adapter for projects, budget and the expert pool (SPEC AS-1..AS-3): proto <-> domain; owns
the transaction. A mixin of AssessmentServicer (which provides ``self.db`` and ``self.clock``)."""

from __future__ import annotations

from prevention.assessment.v1 import projects_pb2

from services.assessment import budget, documents, experts, projects
from services.assessment.models import IdempotencyKeys
from services.assessment.models_projects import Expert, ProjectCall, ReviewerDraw
from services.common.context import current_caller
from services.common.idempotency import idempotent_rpc
from services.common.pagination import clamp_page_size, decode_page_token, encode_page_token


def call_to_proto(row: ProjectCall) -> projects_pb2.ProjectCall:
    message = projects_pb2.ProjectCall(
        name=f"projectCalls/{row.id}", tenant_code=row.tenant_code, title=row.title, year=row.year,
        guideline_object=row.guideline_object, template_form_object=row.template_form_object,
        closes_on=row.closes_on.isoformat())
    message.create_time.FromDatetime(row.create_time)
    return message


def project_to_proto(view: projects.ProjectView) -> projects_pb2.Project:
    row = view.project
    message = projects_pb2.Project(
        name=f"projects/{row.id}", tenant_code=row.tenant_code, call=f"projectCalls/{row.call_id}", title=row.title,
        applicant_organisation=row.applicant_organisation, beneficiary_employer=row.beneficiary_employer,
        pooling_region=row.pooling_region, category=row.category, requested_budget_fen=row.requested_budget_fen,
        planned_start=row.planned_start.isoformat(), planned_end=row.planned_end.isoformat(),
        documents=[projects_pb2.ProjectDocument(**d) for d in row.documents],
        milestones=[projects_pb2.Milestone(**m) for m in row.milestones], state=row.state,
        approved_budget_fen=row.approved_budget_fen or 0, tender_required=row.tender_required,
        budget_year=row.budget_year)
    for t in view.transitions:
        item = message.transitions.add(from_state=t.from_state, to_state=t.to_state, action=t.action, actor=t.actor,
                                       reason=t.reason)
        item.time.FromDatetime(t.time)
    for r in view.reviews:
        review = message.reviews.add(expert=f"experts/{r.expert_id}", score=r.score,
                                     recommendation=r.recommendation, opinion=r.opinion)
        review.create_time.FromDatetime(r.create_time)
    message.create_time.FromDatetime(row.create_time)
    return message


def expert_to_proto(row: Expert) -> projects_pb2.Expert:
    return projects_pb2.Expert(name=f"experts/{row.id}", tenant_code=row.tenant_code, display_name=row.display_name,
                               specialties=row.specialties, region_code=row.region_code, employer=row.employer,
                               user_subject=row.user_subject)


def draw_to_proto(row: ReviewerDraw) -> projects_pb2.ReviewerDraw:
    message = projects_pb2.ReviewerDraw(
        name=f"reviewerDraws/{row.id}", project=f"projects/{row.project_id}", count=row.count,
        specialty=row.specialty, seed=row.seed, candidates=row.candidates,
        excluded=[projects_pb2.ExcludedExpert(**e) for e in row.excluded], reviewers=row.reviewers,
        drawn_by=row.drawn_by)
    message.create_time.FromDatetime(row.create_time)
    return message


def _page(rows: list, size: int, key) -> str:
    return encode_page_token([key(rows[size - 1])]) if len(rows) > size else ""


class ProjectRpcs:
    # -- calls and applications ------------------------------------------------------------------

    async def CreateProjectCall(self, request, context):
        caller = current_caller()
        m = request.project_call
        data = projects.CallData(title=m.title, year=m.year, guideline_object=m.guideline_object,
                                 template_form_object=m.template_form_object, closes_on=m.closes_on)

        async def work(session):
            row = await projects.create_call(session=session, caller=caller, data=data, now=self.clock.now(),
                                             store=self.store)
            return projects_pb2.CreateProjectCallResponse(project_call=call_to_proto(row))

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller, method="CreateProjectCall",
                                    request=request, response_type=projects_pb2.CreateProjectCallResponse, work=work)

    async def ListProjectCalls(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        after = decode_page_token(request.page_token)
        async with self.db.session() as session:
            rows = await projects.list_calls(session=session, caller=caller, after=after[0] if after else None,
                                             limit=size + 1)
        return projects_pb2.ListProjectCallsResponse(project_calls=[call_to_proto(r) for r in rows[:size]],
                                                     next_page_token=_page(rows, size, lambda r: r.id))

    async def SubmitProjectApplication(self, request, context):
        caller = current_caller()
        m = request.project
        data = projects.ApplicationData(
            call=m.call, title=m.title, beneficiary_employer=m.beneficiary_employer, pooling_region=m.pooling_region,
            category=m.category, requested_budget_fen=m.requested_budget_fen, planned_start=m.planned_start,
            planned_end=m.planned_end, documents=tuple((d.kind, d.object_key) for d in m.documents),
            milestones=tuple((x.title, x.due_date) for x in m.milestones))

        async def work(session):
            view = await projects.submit_application(session=session, caller=caller, data=data, now=self.clock.now(),
                                                     store=self.store)
            return projects_pb2.SubmitProjectApplicationResponse(project=project_to_proto(view))

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller,
                                    method="SubmitProjectApplication", request=request,
                                    response_type=projects_pb2.SubmitProjectApplicationResponse, work=work)

    async def CreateDocumentUpload(self, request, context):
        key, url = documents.create_upload(caller=current_caller(), store=self.store, kind=request.kind,
                                           content_type=request.content_type, now=self.clock.now())
        return projects_pb2.CreateDocumentUploadResponse(object_key=key, upload_url=url)

    async def GetDocumentDownload(self, request, context):
        async with self.db.session() as session:
            key, url = await documents.download(session=session, caller=current_caller(), store=self.store,
                                                parent=request.parent, kind=request.kind, now=self.clock.now())
        return projects_pb2.GetDocumentDownloadResponse(object_key=key, download_url=url)

    async def GetProject(self, request, context):
        caller = current_caller()
        project_id = projects.parse_project_name(request.name)
        async with self.db.session() as session:
            view = await projects.get_project(session=session, caller=caller, project_id=project_id)
        return projects_pb2.GetProjectResponse(project=project_to_proto(view))

    async def ListProjects(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        after = decode_page_token(request.page_token, {"state": request.state})
        async with self.db.session() as session:
            views = await projects.list_projects(session=session, caller=caller, state=request.state,
                                                 after=after[0] if after else None, limit=size + 1)
        next_token = (encode_page_token([views[size - 1].project.id], {"state": request.state})
                      if len(views) > size else "")
        return projects_pb2.ListProjectsResponse(projects=[project_to_proto(v) for v in views[:size]],
                                                 next_page_token=next_token)

    async def TransitionProject(self, request, context):
        caller = current_caller()
        project_id = projects.parse_project_name(request.name)
        approval = (projects.Approval(budget_fen=request.approval.budget_fen, start_date=request.approval.start_date,
                                      end_date=request.approval.end_date)
                    if request.HasField("approval") else None)

        async def work(session):
            view = await projects.transition(session=session, caller=caller, project_id=project_id,
                                             action=request.action, reason=request.reason, approval=approval,
                                             now=self.clock.now())
            return projects_pb2.TransitionProjectResponse(project=project_to_proto(view))

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller, method="TransitionProject",
                                    request=request, response_type=projects_pb2.TransitionProjectResponse, work=work)

    # -- budget ----------------------------------------------------------------------------------

    async def ImportFundIncome(self, request, context):
        caller = current_caller()
        rows = [budget.IncomeRow(pooling_region=r.pooling_region, year=r.year, premium_income_fen=r.premium_income_fen)
                for r in request.rows]
        async with self.db.session() as session:
            imported, errors = await budget.import_income(session=session, caller=caller, rows=rows,
                                                          now=self.clock.now())
            await session.commit()
        return projects_pb2.ImportFundIncomeResponse(
            imported=imported, errors=[projects_pb2.RowError(row=i, field=f, reason=r) for i, f, r in errors])

    async def GetBudgetSettings(self, request, context):
        caller = current_caller()
        province = budget.parse_settings_name(request.name, caller)
        async with self.db.session() as session:
            rate = await budget.cap_rate(session, province)
        return projects_pb2.GetBudgetSettingsResponse(
            budget_settings=projects_pb2.BudgetSettings(name=f"budgetSettings/{province}", cap_rate=str(rate)))

    async def UpdateBudgetSettings(self, request, context):
        caller = current_caller()
        province = budget.parse_settings_name(request.budget_settings.name, caller)
        rate = budget.parse_rate(request.budget_settings.cap_rate)
        async with self.db.session() as session:
            await budget.set_cap_rate(session=session, caller=caller, province=province, rate=rate,
                                      now=self.clock.now())
            await session.commit()
        return projects_pb2.UpdateBudgetSettingsResponse(
            budget_settings=projects_pb2.BudgetSettings(name=f"budgetSettings/{province}", cap_rate=str(rate)))

    async def GetBudgetStatus(self, request, context):
        caller = current_caller()
        region = budget.check_region(request.pooling_region, caller, "pooling_region")
        async with self.db.session() as session:
            status = await budget.status(session=session, region=region, year=request.year)
        return projects_pb2.GetBudgetStatusResponse(
            pooling_region=region, year=status.year, cap_rate=str(status.cap_rate),
            previous_year_income_fen=status.previous_year_income_fen, cap_fen=status.cap_fen,
            approved_fen=status.approved_fen, remaining_fen=status.remaining_fen)

    # -- experts and draws -----------------------------------------------------------------------

    async def CreateExpert(self, request, context):
        caller = current_caller()
        m = request.expert
        data = experts.ExpertData(display_name=m.display_name, specialties=tuple(m.specialties),
                                  region_code=m.region_code, employer=m.employer, user_subject=m.user_subject)

        async def work(session):
            row = await experts.create_expert(session=session, caller=caller, data=data, now=self.clock.now())
            return projects_pb2.CreateExpertResponse(expert=expert_to_proto(row))

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller, method="CreateExpert",
                                    request=request, response_type=projects_pb2.CreateExpertResponse, work=work)

    async def ListExperts(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        after = decode_page_token(request.page_token)
        async with self.db.session() as session:
            rows = await experts.list_experts(session=session, caller=caller, after=after[0] if after else None,
                                              limit=size + 1)
        return projects_pb2.ListExpertsResponse(experts=[expert_to_proto(r) for r in rows[:size]],
                                                next_page_token=_page(rows, size, lambda r: r.id))

    async def DrawReviewers(self, request, context):
        caller = current_caller()
        project_id = projects.parse_project_name(request.project, "project")

        async def work(session):
            row = await experts.draw_reviewers(session=session, caller=caller, project_id=project_id,
                                               count=request.count, specialty=request.specialty, now=self.clock.now())
            return projects_pb2.DrawReviewersResponse(reviewer_draw=draw_to_proto(row))

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller, method="DrawReviewers",
                                    request=request, response_type=projects_pb2.DrawReviewersResponse, work=work)

    async def VerifyReviewerDraw(self, request, context):
        caller = current_caller()
        draw_id = experts.parse_draw_name(request.name)
        async with self.db.session() as session:
            row = await experts.get_draw(session=session, caller=caller, draw_id=draw_id)
        rerun = experts.draw_order(row.seed, list(row.candidates), row.count)
        return projects_pb2.VerifyReviewerDrawResponse(reviewer_draw=draw_to_proto(row), rerun_reviewers=rerun,
                                                       matches=rerun == list(row.reviewers))

    async def SubmitExpertReview(self, request, context):
        caller = current_caller()
        project_id = projects.parse_project_name(request.project, "project")
        async with self.db.session() as session:
            row = await experts.submit_review(session=session, caller=caller, project_id=project_id,
                                              score=request.score, recommendation=request.recommendation,
                                              opinion=request.opinion, now=self.clock.now())
            await session.commit()
        review = projects_pb2.ExpertReview(expert=f"experts/{row.expert_id}", score=row.score,
                                           recommendation=row.recommendation, opinion=row.opinion)
        review.create_time.FromDatetime(row.create_time)
        return projects_pb2.SubmitExpertReviewResponse(review=review)
