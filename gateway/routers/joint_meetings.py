"""Joint meetings (SPEC SH-6) of a tenant's departments: provincial operators and liaisons."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from prevention.sharing.v1 import sharing_pb2

from gateway.deps import BackendsDep, CurrentCaller
from gateway.problems import ERROR_RESPONSES
from gateway.routers.params import IdempotencyKey, PageSize, PageToken, page_size
from gateway.schemas.joint_meetings import JointMeeting, JointMeetingCreate, JointMeetingList, JointMeetingMinutes

router = APIRouter(prefix="/v1", tags=["joint meetings"], responses=ERROR_RESPONSES)
MeetingId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


@router.post("/joint-meetings", response_model=JointMeeting, status_code=201)
async def create_joint_meeting(body: JointMeetingCreate, caller: CurrentCaller, backends: BackendsDep,
                               idempotency_key: IdempotencyKey = None) -> JointMeeting:
    """In the caller's tenant. A retry with the same Idempotency-Key creates nothing new."""
    response = await backends.sharing.CreateJointMeeting(
        sharing_pb2.CreateJointMeetingRequest(joint_meeting=body.to_proto(), request_id=idempotency_key or ""),
        timeout=backends.timeout,
    )
    return JointMeeting.from_proto(response.joint_meeting)


@router.get("/joint-meetings", response_model=JointMeetingList)
async def list_joint_meetings(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                              page_token: PageToken = "") -> JointMeetingList:
    """The caller's tenant's meetings, newest meeting first."""
    response = await backends.sharing.ListJointMeetings(
        sharing_pb2.ListJointMeetingsRequest(page_size=page_size(page_size_), page_token=page_token),
        timeout=backends.timeout,
    )
    return JointMeetingList(joint_meetings=[JointMeeting.from_proto(m) for m in response.joint_meetings],
                            next_page_token=response.next_page_token)


@router.get("/joint-meetings/{meeting_id}", response_model=JointMeeting)
async def get_joint_meeting(meeting_id: MeetingId, caller: CurrentCaller, backends: BackendsDep) -> JointMeeting:
    response = await backends.sharing.GetJointMeeting(
        sharing_pb2.GetJointMeetingRequest(name=f"jointMeetings/{meeting_id}"), timeout=backends.timeout)
    return JointMeeting.from_proto(response.joint_meeting)


@router.post("/joint-meetings/{meeting_id}/minutes", response_model=JointMeeting)
async def record_joint_meeting_minutes(meeting_id: MeetingId, body: JointMeetingMinutes, caller: CurrentCaller,
                                       backends: BackendsDep) -> JointMeeting:
    """Replaces the minutes and the action items (resolutions) as a whole."""
    response = await backends.sharing.RecordJointMeetingMinutes(
        sharing_pb2.RecordJointMeetingMinutesRequest(
            name=f"jointMeetings/{meeting_id}", minutes=body.minutes,
            action_items=[item.to_proto() for item in body.action_items]),
        timeout=backends.timeout,
    )
    return JointMeeting.from_proto(response.joint_meeting)
