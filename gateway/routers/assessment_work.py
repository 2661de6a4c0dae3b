"""REST for the assessment service beyond action plans (SPEC AS-1..AS-7): projects, budget,
experts and draws, premium-rate floating, filings, scorecards, good practice and reward/penalty
records. Thin: each route calls one RPC with the caller's token and a deadline; responses are the
proto messages in the proto3 JSON mapping (proto field names)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Path, Query, Response, UploadFile
from google.protobuf import json_format
from prevention.assessment.v1 import filings_pb2, projects_pb2, rates_pb2, records_pb2, scorecards_pb2

from gateway.deps import BackendsDep, CurrentCaller
from gateway.problems import ERROR_RESPONSES
from gateway.routers.params import IdempotencyKey, PageSize, PageToken, page_size
from gateway.schemas.assessment_work import (
    BudgetSettingsIn,
    DocumentKind,
    DocumentUploadIn,
    DrawIn,
    ExpertIn,
    ExpertReviewIn,
    FilingIn,
    FilingReviewIn,
    FundIncomeImport,
    GoodPracticeCaseIn,
    ProjectCallIn,
    ProjectIn,
    RateInputImport,
    RateRunIn,
    ResumeIn,
    RewardPenaltyIn,
    RuleSetIn,
    ScorecardConfigIn,
    TransitionIn,
)

router = APIRouter(prefix="/v1", tags=["assessment"], responses=ERROR_RESPONSES)
Hex = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
Region = Annotated[str, Path(pattern=r"^[1-9][0-9]{5}$")]
Province = Annotated[str, Path(pattern=r"^[1-9][0-9]0000$")]
Year = Annotated[int, Path(ge=2000, le=2100)]
Json = dict[str, Any]
PROJECT_STATES = ("submitted", "under_review", "approved", "in_progress", "acceptance", "completed", "failed",
                  "rejected", "withdrawn")
MAX_UPLOAD = 20 * 1024 * 1024


def out(message) -> Json:
    return json_format.MessageToDict(message, preserving_proto_field_name=True,
                                     always_print_fields_with_no_presence=True)


# -- projects (AS-1) -----------------------------------------------------------------------------


@router.post("/document-uploads", status_code=201)
async def create_document_upload(body: DocumentUploadIn, caller: CurrentCaller, backends: BackendsDep) -> Json:
    """A presigned PUT URL (15 minutes) for a call's guideline or template form, or an application's
    document; PUT the file with exactly this Content-Type, then name `object_key` in the call or
    application."""
    return out(await backends.assessment.CreateDocumentUpload(body.to_proto(projects_pb2.CreateDocumentUploadRequest()),
                                                              timeout=backends.timeout))


@router.get("/project-calls/{call_id}/documents/{kind}")
async def download_call_document(call_id: Hex, kind: Literal["guideline", "template_form"], caller: CurrentCaller,
                                 backends: BackendsDep) -> Json:
    """A presigned GET URL (15 minutes) for the call's guideline or template form."""
    return out(await backends.assessment.GetDocumentDownload(projects_pb2.GetDocumentDownloadRequest(
        parent=f"projectCalls/{call_id}", kind=kind), timeout=backends.timeout))


@router.get("/projects/{project_id}/documents/{kind}")
async def download_project_document(project_id: Hex, kind: DocumentKind, caller: CurrentCaller,
                                    backends: BackendsDep) -> Json:
    """A presigned GET URL (15 minutes) for one of the project's documents."""
    return out(await backends.assessment.GetDocumentDownload(projects_pb2.GetDocumentDownloadRequest(
        parent=f"projects/{project_id}", kind=kind), timeout=backends.timeout))


@router.post("/project-calls", status_code=201)
async def create_project_call(body: ProjectCallIn, caller: CurrentCaller, backends: BackendsDep,
                              idempotency_key: IdempotencyKey = None) -> Json:
    """A call for applications with the province's guideline and template form (uploaded first)."""
    response = await backends.assessment.CreateProjectCall(projects_pb2.CreateProjectCallRequest(
        project_call=body.to_proto(projects_pb2.ProjectCall()), request_id=idempotency_key or ""),
        timeout=backends.timeout)
    return out(response.project_call)


@router.get("/project-calls")
async def list_project_calls(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                             page_token: PageToken = "") -> Json:
    return out(await backends.assessment.ListProjectCalls(projects_pb2.ListProjectCallsRequest(
        page_size=page_size(page_size_), page_token=page_token), timeout=backends.timeout))


@router.post("/projects", status_code=201)
async def submit_project_application(body: ProjectIn, caller: CurrentCaller, backends: BackendsDep,
                                     idempotency_key: IdempotencyKey = None) -> Json:
    """An application by the caller's organisation, with its five required documents."""
    response = await backends.assessment.SubmitProjectApplication(projects_pb2.SubmitProjectApplicationRequest(
        project=body.to_proto(projects_pb2.Project()), request_id=idempotency_key or ""), timeout=backends.timeout)
    return out(response.project)


@router.get("/projects")
async def list_projects(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                        page_token: PageToken = "",
                        state: Annotated[Literal["", *PROJECT_STATES], Query()] = "") -> Json:
    return out(await backends.assessment.ListProjects(projects_pb2.ListProjectsRequest(
        page_size=page_size(page_size_), page_token=page_token, state=state), timeout=backends.timeout))


@router.get("/projects/{project_id}")
async def get_project(project_id: Hex, caller: CurrentCaller, backends: BackendsDep) -> Json:
    response = await backends.assessment.GetProject(projects_pb2.GetProjectRequest(name=f"projects/{project_id}"),
                                                    timeout=backends.timeout)
    return out(response.project)


@router.post("/projects/{project_id}/transitions")
async def transition_project(project_id: Hex, body: TransitionIn, caller: CurrentCaller, backends: BackendsDep,
                             idempotency_key: IdempotencyKey = None) -> Json:
    """One step of the project state machine; an illegal step is 409 naming the current state."""
    request = body.to_proto(projects_pb2.TransitionProjectRequest())
    request.name, request.request_id = f"projects/{project_id}", idempotency_key or ""
    return out((await backends.assessment.TransitionProject(request, timeout=backends.timeout)).project)


@router.post("/projects/{project_id}/reviewer-draws", status_code=201)
async def draw_reviewers(project_id: Hex, body: DrawIn, caller: CurrentCaller, backends: BackendsDep,
                         idempotency_key: IdempotencyKey = None) -> Json:
    response = await backends.assessment.DrawReviewers(projects_pb2.DrawReviewersRequest(
        project=f"projects/{project_id}", count=body.count, specialty=body.specialty,
        request_id=idempotency_key or ""), timeout=backends.timeout)
    return out(response.reviewer_draw)


@router.post("/projects/{project_id}/reviews", status_code=201)
async def submit_expert_review(project_id: Hex, body: ExpertReviewIn, caller: CurrentCaller,
                               backends: BackendsDep) -> Json:
    """A drawn expert's score, recommendation and opinion on a project under review."""
    request = body.to_proto(projects_pb2.SubmitExpertReviewRequest())
    request.project = f"projects/{project_id}"
    return out((await backends.assessment.SubmitExpertReview(request, timeout=backends.timeout)).review)


@router.get("/reviewer-draws/{draw_id}/verification")
async def verify_reviewer_draw(draw_id: Hex, caller: CurrentCaller, backends: BackendsDep) -> Json:
    """Re-runs the stored draw from its seed and candidate set."""
    return out(await backends.assessment.VerifyReviewerDraw(projects_pb2.VerifyReviewerDrawRequest(
        name=f"reviewerDraws/{draw_id}"), timeout=backends.timeout))


# -- budget (AS-3) and experts (AS-2) ------------------------------------------------------------


@router.post("/fund-incomes")
async def import_fund_income(body: FundIncomeImport, caller: CurrentCaller, backends: BackendsDep) -> Json:
    """Premium income per pooling region and year; invalid rows are reported, the others stored."""
    return out(await backends.assessment.ImportFundIncome(body.to_proto(projects_pb2.ImportFundIncomeRequest()),
                                                          timeout=backends.timeout))


@router.get("/budget-settings/{province}")
async def get_budget_settings(province: Province, caller: CurrentCaller, backends: BackendsDep) -> Json:
    return out((await backends.assessment.GetBudgetSettings(projects_pb2.GetBudgetSettingsRequest(
        name=f"budgetSettings/{province}"), timeout=backends.timeout)).budget_settings)


@router.patch("/budget-settings/{province}")
async def update_budget_settings(province: Province, body: BudgetSettingsIn, caller: CurrentCaller,
                                 backends: BackendsDep) -> Json:
    return out((await backends.assessment.UpdateBudgetSettings(projects_pb2.UpdateBudgetSettingsRequest(
        budget_settings=projects_pb2.BudgetSettings(name=f"budgetSettings/{province}", cap_rate=body.cap_rate)),
        timeout=backends.timeout)).budget_settings)


@router.get("/budget-status")
async def get_budget_status(caller: CurrentCaller, backends: BackendsDep,
                            pooling_region: Annotated[str, Query(max_length=6)] = "",
                            year: Annotated[int, Query(ge=0, le=2100)] = 0) -> Json:
    """Cap, approved and remaining budget of a pooling region for a year (both required)."""
    return out(await backends.assessment.GetBudgetStatus(projects_pb2.GetBudgetStatusRequest(
        pooling_region=pooling_region, year=year), timeout=backends.timeout))


@router.post("/experts", status_code=201)
async def create_expert(body: ExpertIn, caller: CurrentCaller, backends: BackendsDep,
                        idempotency_key: IdempotencyKey = None) -> Json:
    return out((await backends.assessment.CreateExpert(projects_pb2.CreateExpertRequest(
        expert=body.to_proto(projects_pb2.Expert()), request_id=idempotency_key or ""),
        timeout=backends.timeout)).expert)


@router.get("/experts")
async def list_experts(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                       page_token: PageToken = "") -> Json:
    return out(await backends.assessment.ListExperts(projects_pb2.ListExpertsRequest(
        page_size=page_size(page_size_), page_token=page_token), timeout=backends.timeout))


# -- premium-rate floating (AS-6) ----------------------------------------------------------------


@router.post("/rate-inputs")
async def import_rate_inputs(body: RateInputImport, caller: CurrentCaller, backends: BackendsDep) -> Json:
    return out(await backends.assessment.ImportRateInputs(body.to_proto(rates_pb2.ImportRateInputsRequest()),
                                                          timeout=backends.timeout))


@router.post("/rate-inputs/import")
async def import_rate_input_file(caller: CurrentCaller, backends: BackendsDep, file: Annotated[UploadFile, File()],
                                 pooling_region: Annotated[str, Form(max_length=6)] = "") -> Json:
    """A CSV (UTF-8 or GB18030) or XLSX file; errors name the file's line."""
    content = await file.read(MAX_UPLOAD + 1)
    return out(await backends.assessment.ImportRateInputs(rates_pb2.ImportRateInputsRequest(
        file=content, file_name=file.filename or "", pooling_region=pooling_region), timeout=backends.timeout))


@router.post("/rate-rule-sets", status_code=201)
async def create_rate_rule_set(body: RuleSetIn, caller: CurrentCaller, backends: BackendsDep) -> Json:
    """A new version of the region's rule set; earlier results keep their version."""
    return out((await backends.assessment.CreateRateRuleSet(rates_pb2.CreateRateRuleSetRequest(
        rule_set=body.to_proto(rates_pb2.RateRuleSet())), timeout=backends.timeout)).rule_set)


@router.get("/rate-rule-sets/{pooling_region}")
async def get_rate_rule_set(pooling_region: Region, caller: CurrentCaller, backends: BackendsDep) -> Json:
    return out((await backends.assessment.GetRateRuleSet(rates_pb2.GetRateRuleSetRequest(
        pooling_region=pooling_region), timeout=backends.timeout)).rule_set)


@router.post("/rate-runs", status_code=201)
async def start_rate_run(body: RateRunIn, caller: CurrentCaller, backends: BackendsDep) -> Json:
    """Runs batches until done or the deadline nears; a `running` run continues with /resume."""
    return out((await backends.assessment.StartRateRun(body.to_proto(rates_pb2.StartRateRunRequest()),
                                                       timeout=backends.timeout)).rate_run)


@router.post("/rate-runs/{run_id}/resume")
async def resume_rate_run(run_id: Hex, body: ResumeIn, caller: CurrentCaller, backends: BackendsDep) -> Json:
    request = body.to_proto(rates_pb2.ResumeRateRunRequest())
    request.name = f"rateRuns/{run_id}"
    return out((await backends.assessment.ResumeRateRun(request, timeout=backends.timeout)).rate_run)


@router.get("/rate-runs")
async def list_rate_runs(caller: CurrentCaller, backends: BackendsDep,
                         pooling_region: Annotated[str, Query(pattern=r"^([1-9][0-9]{5})?$")] = "",
                         page_size_: PageSize = 0, page_token: PageToken = "") -> Json:
    """Runs the caller may see (one pooling region's when given), newest first."""
    return out(await backends.assessment.ListRateRuns(rates_pb2.ListRateRunsRequest(
        pooling_region=pooling_region, page_size=page_size(page_size_), page_token=page_token),
        timeout=backends.timeout))


@router.get("/rate-runs/{run_id}")
async def get_rate_run(run_id: Hex, caller: CurrentCaller, backends: BackendsDep) -> Json:
    return out((await backends.assessment.GetRateRun(rates_pb2.GetRateRunRequest(name=f"rateRuns/{run_id}"),
                                                     timeout=backends.timeout)).rate_run)


@router.get("/rate-runs/{run_id}/results")
async def list_rate_results(run_id: Hex, caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                            page_token: PageToken = "") -> Json:
    return out(await backends.assessment.ListRateResults(rates_pb2.ListRateResultsRequest(
        parent=f"rateRuns/{run_id}", page_size=page_size(page_size_), page_token=page_token),
        timeout=backends.timeout))


@router.get("/rate-runs/{run_id}/export", response_class=Response,
            responses={200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument."
                                                         "spreadsheetml.sheet": {}}}})
async def export_rate_results(run_id: Hex, caller: CurrentCaller, backends: BackendsDep,
                              format: Annotated[Literal["csv", "xlsx"], Query()] = "csv") -> Response:
    response = await backends.assessment.ExportRateResults(rates_pb2.ExportRateResultsRequest(
        parent=f"rateRuns/{run_id}", format=format), timeout=backends.timeout)
    return Response(response.content, media_type=response.content_type,
                    headers={"Content-Disposition": f'attachment; filename="rate-results-{run_id}.{format}"'})


# -- filings (AS-4) ------------------------------------------------------------------------------


@router.post("/filings", status_code=201)
async def submit_filing(body: FilingIn, caller: CurrentCaller, backends: BackendsDep,
                        idempotency_key: IdempotencyKey = None) -> Json:
    return out((await backends.assessment.SubmitFiling(filings_pb2.SubmitFilingRequest(
        filing=body.to_proto(filings_pb2.Filing()), request_id=idempotency_key or ""),
        timeout=backends.timeout)).filing)


@router.get("/filings")
async def list_filings(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                       page_token: PageToken = "") -> Json:
    return out(await backends.assessment.ListFilings(filings_pb2.ListFilingsRequest(
        page_size=page_size(page_size_), page_token=page_token), timeout=backends.timeout))


@router.post("/filings/{filing_id}/review")
async def review_filing(filing_id: Hex, body: FilingReviewIn, caller: CurrentCaller, backends: BackendsDep) -> Json:
    return out((await backends.assessment.ReviewFiling(filings_pb2.ReviewFilingRequest(
        name=f"filings/{filing_id}", decision=body.decision, reason=body.reason), timeout=backends.timeout)).filing)


@router.get("/overdue-filings")
async def list_overdue_filings(caller: CurrentCaller, backends: BackendsDep) -> Json:
    return out(await backends.assessment.ListOverdueFilings(filings_pb2.ListOverdueFilingsRequest(),
                                                            timeout=backends.timeout))


# -- scorecards (AS-5) ---------------------------------------------------------------------------


@router.get("/scorecard-configs/{year}")
async def get_scorecard_config(year: Year, caller: CurrentCaller, backends: BackendsDep) -> Json:
    return out((await backends.assessment.GetScorecardConfig(scorecards_pb2.GetScorecardConfigRequest(
        name=f"scorecardConfigs/{year}"), timeout=backends.timeout)).scorecard_config)


@router.put("/scorecard-configs/{year}")
async def update_scorecard_config(year: Year, body: ScorecardConfigIn, caller: CurrentCaller,
                                  backends: BackendsDep) -> Json:
    config = body.to_proto(scorecards_pb2.ScorecardConfig())
    config.year = year
    return out((await backends.assessment.UpdateScorecardConfig(scorecards_pb2.UpdateScorecardConfigRequest(
        scorecard_config=config), timeout=backends.timeout)).scorecard_config)


@router.post("/scorecards/{year}/compute")
async def compute_scorecards(year: Year, caller: CurrentCaller, backends: BackendsDep) -> Json:
    """Scores and ranks every province for the year (replacing that year's scorecards)."""
    return out(await backends.assessment.ComputeScorecards(scorecards_pb2.ComputeScorecardsRequest(year=year),
                                                           timeout=backends.timeout))


@router.get("/scorecards")
async def list_scorecards(caller: CurrentCaller, backends: BackendsDep,
                          year: Annotated[int, Query(ge=0, le=2100)] = 0) -> Json:
    """The year's scorecards (required): all for the ministry, the own province's for a province."""
    return out(await backends.assessment.ListScorecards(scorecards_pb2.ListScorecardsRequest(year=year),
                                                        timeout=backends.timeout))


# -- good practice, reward/penalty (AS-7), purge audit (NF-8) ------------------------------------


@router.post("/good-practice-cases", status_code=201)
async def create_good_practice_case(body: GoodPracticeCaseIn, caller: CurrentCaller, backends: BackendsDep,
                                    idempotency_key: IdempotencyKey = None) -> Json:
    return out((await backends.assessment.CreateGoodPracticeCase(records_pb2.CreateGoodPracticeCaseRequest(
        good_practice_case=body.to_proto(records_pb2.GoodPracticeCase()), request_id=idempotency_key or ""),
        timeout=backends.timeout)).good_practice_case)


@router.get("/good-practice-cases")
async def list_good_practice_cases(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                                   page_token: PageToken = "") -> Json:
    return out(await backends.assessment.ListGoodPracticeCases(records_pb2.ListGoodPracticeCasesRequest(
        page_size=page_size(page_size_), page_token=page_token), timeout=backends.timeout))


@router.post("/reward-penalty-records", status_code=201)
async def create_reward_penalty_record(body: RewardPenaltyIn, caller: CurrentCaller, backends: BackendsDep,
                                       idempotency_key: IdempotencyKey = None) -> Json:
    return out((await backends.assessment.CreateRewardPenaltyRecord(records_pb2.CreateRewardPenaltyRecordRequest(
        reward_penalty_record=body.to_proto(records_pb2.RewardPenaltyRecord()), request_id=idempotency_key or ""),
        timeout=backends.timeout)).reward_penalty_record)


@router.get("/reward-penalty-records")
async def list_reward_penalty_records(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                                      page_token: PageToken = "") -> Json:
    return out(await backends.assessment.ListRewardPenaltyRecords(records_pb2.ListRewardPenaltyRecordsRequest(
        page_size=page_size(page_size_), page_token=page_token), timeout=backends.timeout))


@router.get("/retention/purge-audit")
async def list_purge_audit(caller: CurrentCaller, backends: BackendsDep) -> Json:
    return out(await backends.assessment.ListPurgeAudit(records_pb2.ListPurgeAuditRequest(),
                                                        timeout=backends.timeout))
