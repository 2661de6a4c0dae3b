"""Rectification notices (SPEC SH-5) and joint inspections (SH-6). Departments (liaisons) and
provincial operators issue, verify, return and escalate; the employer's officers respond with
evidence uploaded by presigned PUT."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from prevention.sharing.v1 import rectification_pb2 as pb

from gateway.deps import BackendsDep, CurrentCaller
from gateway.problems import ERROR_RESPONSES
from gateway.routers.params import IdempotencyKey, PageSize, PageToken, page_size
from gateway.schemas.rectification import (
    STATE,
    Evidence,
    EvidenceDownload,
    EvidenceUpload,
    EvidenceUploadIn,
    JointInspection,
    JointInspectionIn,
    JointInspectionList,
    RaiseNoticeIn,
    Reason,
    RectificationClosureList,
    RectificationNotice,
    RectificationNoticeCreate,
    RectificationNoticeList,
    RectificationResponseIn,
    RequiredReason,
    State,
)

router = APIRouter(prefix="/v1", tags=["rectification"], responses=ERROR_RESPONSES)
Id = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


def _notice(notice_id: str) -> str:
    return f"rectificationNotices/{notice_id}"


@router.post("/rectification-notices", response_model=RectificationNotice, status_code=201)
async def create_rectification_notice(body: RectificationNoticeCreate, caller: CurrentCaller, backends: BackendsDep,
                                      idempotency_key: IdempotencyKey = None) -> RectificationNotice:
    """Issues a notice in the caller's tenant; the same source and employer again returns the first notice."""
    response = await backends.sharing.CreateRectificationNotice(
        pb.CreateRectificationNoticeRequest(rectification_notice=body.to_proto(),
                                                     request_id=idempotency_key or ""),
        timeout=backends.timeout)
    return RectificationNotice.from_proto(response.rectification_notice)


@router.get("/rectification-closure", response_model=RectificationClosureList)
async def get_rectification_closure(caller: CurrentCaller, backends: BackendsDep,
                                    year: Annotated[int | None, Query(ge=2000, le=2100,
                                                                      description="default: this year (CST)")] = None
                                    ) -> RectificationClosureList:
    """Per tenant, the notices due in ``year`` (by deadline date, CST) and how many are closed: the
    closure rate of the provincial scorecards. Ministry all tenants; provincial operators their subtree."""
    response = await backends.sharing.GetRectificationClosure(pb.GetRectificationClosureRequest(year=year or 0),
                                                              timeout=backends.timeout)
    return RectificationClosureList.from_proto(response)


@router.get("/rectification-notices", response_model=RectificationNoticeList)
async def list_rectification_notices(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                                     page_token: PageToken = "",
                                     state: Annotated[State | None, Query()] = None) -> RectificationNoticeList:
    """Newest first: the issuing department's, the tenant's (provincial operators), the employer's own."""
    response = await backends.sharing.ListRectificationNotices(
        pb.ListRectificationNoticesRequest(page_size=page_size(page_size_), page_token=page_token,
                                                    state=STATE.to_proto[state] if state else 0),
        timeout=backends.timeout)
    return RectificationNoticeList(
        rectification_notices=[RectificationNotice.from_proto(m) for m in response.rectification_notices],
        next_page_token=response.next_page_token)


@router.get("/rectification-notices/{notice_id}", response_model=RectificationNotice)
async def get_rectification_notice(notice_id: Id, caller: CurrentCaller, backends: BackendsDep) -> RectificationNotice:
    response = await backends.sharing.GetRectificationNotice(
        pb.GetRectificationNoticeRequest(name=_notice(notice_id)), timeout=backends.timeout)
    return RectificationNotice.from_proto(response.rectification_notice)


@router.post("/rectification-notices/{notice_id}/evidence-uploads", response_model=EvidenceUpload, status_code=201)
async def create_rectification_evidence_upload(notice_id: Id, body: EvidenceUploadIn, caller: CurrentCaller,
                                               backends: BackendsDep) -> EvidenceUpload:
    """A presigned PUT URL (15 minutes) for one evidence file; send it with exactly this Content-Type."""
    response = await backends.sharing.CreateRectificationEvidenceUpload(
        pb.CreateRectificationEvidenceUploadRequest(parent=_notice(notice_id), file_name=body.file_name,
                                                             content_type=body.content_type),
        timeout=backends.timeout)
    return EvidenceUpload(evidence=Evidence.from_proto(response.evidence), upload_url=response.upload_url)


@router.get("/rectification-notices/{notice_id}/evidence/{evidence_id}/download", response_model=EvidenceDownload)
async def get_rectification_evidence_download(notice_id: Id, evidence_id: Id, caller: CurrentCaller,
                                              backends: BackendsDep) -> EvidenceDownload:
    """A presigned GET URL (15 minutes) for an evidence file."""
    response = await backends.sharing.GetRectificationEvidenceDownload(
        pb.GetRectificationEvidenceDownloadRequest(name=f"{_notice(notice_id)}/evidence/{evidence_id}"),
        timeout=backends.timeout)
    return EvidenceDownload(evidence=Evidence.from_proto(response.evidence), download_url=response.download_url)


@router.post("/rectification-notices/{notice_id}/respond", response_model=RectificationNotice)
async def respond_to_rectification_notice(notice_id: Id, body: RectificationResponseIn, caller: CurrentCaller,
                                          backends: BackendsDep,
                                          idempotency_key: IdempotencyKey = None) -> RectificationNotice:
    """The employer's response (issued/returned -> responded) with uploaded evidence."""
    response = await backends.sharing.RespondToRectificationNotice(
        pb.RespondToRectificationNoticeRequest(
            name=_notice(notice_id), response=body.response,
            evidence=[f"{_notice(notice_id)}/evidence/{e}" for e in body.evidence], request_id=idempotency_key or ""),
        timeout=backends.timeout)
    return RectificationNotice.from_proto(response.rectification_notice)


@router.post("/rectification-notices/{notice_id}/verify", response_model=RectificationNotice)
async def verify_rectification_notice(notice_id: Id, body: Reason, caller: CurrentCaller,
                                      backends: BackendsDep) -> RectificationNotice:
    """responded -> closed."""
    response = await backends.sharing.VerifyRectificationNotice(
        pb.VerifyRectificationNoticeRequest(name=_notice(notice_id), reason=body.reason),
        timeout=backends.timeout)
    return RectificationNotice.from_proto(response.rectification_notice)


@router.post("/rectification-notices/{notice_id}/return", response_model=RectificationNotice)
async def return_rectification_notice(notice_id: Id, body: RequiredReason, caller: CurrentCaller,
                                      backends: BackendsDep) -> RectificationNotice:
    """responded -> returned for rework (a reason is required)."""
    response = await backends.sharing.ReturnRectificationNotice(
        pb.ReturnRectificationNoticeRequest(name=_notice(notice_id), reason=body.reason),
        timeout=backends.timeout)
    return RectificationNotice.from_proto(response.rectification_notice)


@router.post("/rectification-notices/{notice_id}/escalate", response_model=RectificationNotice)
async def escalate_rectification_notice(notice_id: Id, body: Reason, caller: CurrentCaller,
                                        backends: BackendsDep) -> RectificationNotice:
    """issued/returned past the deadline -> escalated (enforcement referral citing the law)."""
    response = await backends.sharing.EscalateRectificationNotice(
        pb.EscalateRectificationNoticeRequest(name=_notice(notice_id), reason=body.reason),
        timeout=backends.timeout)
    return RectificationNotice.from_proto(response.rectification_notice)


# -- joint inspections -----------------------------------------------------------------------------


@router.post("/joint-inspections", response_model=JointInspection, status_code=201)
async def create_joint_inspection(body: JointInspectionIn, caller: CurrentCaller, backends: BackendsDep,
                                  idempotency_key: IdempotencyKey = None) -> JointInspection:
    response = await backends.sharing.CreateJointInspection(
        pb.CreateJointInspectionRequest(joint_inspection=body.to_proto(), request_id=idempotency_key or ""),
        timeout=backends.timeout)
    return JointInspection.from_proto(response.joint_inspection)


@router.get("/joint-inspections", response_model=JointInspectionList)
async def list_joint_inspections(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                                 page_token: PageToken = "") -> JointInspectionList:
    response = await backends.sharing.ListJointInspections(
        pb.ListJointInspectionsRequest(page_size=page_size(page_size_), page_token=page_token),
        timeout=backends.timeout)
    return JointInspectionList(joint_inspections=[JointInspection.from_proto(m) for m in response.joint_inspections],
                               next_page_token=response.next_page_token)


@router.get("/joint-inspections/{inspection_id}", response_model=JointInspection)
async def get_joint_inspection(inspection_id: Id, caller: CurrentCaller, backends: BackendsDep) -> JointInspection:
    response = await backends.sharing.GetJointInspection(
        pb.GetJointInspectionRequest(name=f"jointInspections/{inspection_id}"), timeout=backends.timeout)
    return JointInspection.from_proto(response.joint_inspection)


@router.put("/joint-inspections/{inspection_id}", response_model=JointInspection)
async def update_joint_inspection(inspection_id: Id, body: JointInspectionIn, caller: CurrentCaller,
                                  backends: BackendsDep) -> JointInspection:
    """Replaces the inspection; keep a finding by repeating its id."""
    response = await backends.sharing.UpdateJointInspection(
        pb.UpdateJointInspectionRequest(joint_inspection=body.to_proto(inspection_id)),
        timeout=backends.timeout)
    return JointInspection.from_proto(response.joint_inspection)


@router.delete("/joint-inspections/{inspection_id}", status_code=204)
async def delete_joint_inspection(inspection_id: Id, caller: CurrentCaller, backends: BackendsDep) -> Response:
    await backends.sharing.DeleteJointInspection(
        pb.DeleteJointInspectionRequest(name=f"jointInspections/{inspection_id}"), timeout=backends.timeout)
    return Response(status_code=204)


@router.post("/joint-inspections/{inspection_id}/findings/{finding_id}/raise-notice",
             response_model=RectificationNotice, status_code=201)
async def raise_finding_notice(inspection_id: Id, finding_id: Id, body: RaiseNoticeIn, caller: CurrentCaller,
                               backends: BackendsDep) -> RectificationNotice:
    """Raises the finding's rectification notice (once; again returns the same notice)."""
    response = await backends.sharing.RaiseFindingNotice(
        pb.RaiseFindingNoticeRequest(name=f"jointInspections/{inspection_id}/findings/{finding_id}",
                                              deadline_date=body.deadline_date), timeout=backends.timeout)
    return RectificationNotice.from_proto(response.rectification_notice)
