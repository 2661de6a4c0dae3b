"""gRPC adapter for joint meetings (SPEC SH-6): proto <-> domain; owns the transaction. A mixin
of SharingServicer (which provides ``self.db``)."""

from __future__ import annotations

from prevention.sharing.v1 import sharing_pb2

from services.common.context import current_caller
from services.common.idempotency import idempotent_rpc
from services.common.pagination import clamp_page_size, decode_page_token, encode_page_token
from services.sharing import joint_meetings
from services.sharing.models import IdempotencyKeys, JointMeeting


def meeting_to_proto(row: JointMeeting) -> sharing_pb2.JointMeeting:
    message = sharing_pb2.JointMeeting(
        name=f"jointMeetings/{row.id}", tenant_code=row.tenant_code, title=row.title,
        meeting_date=row.meeting_date.isoformat(), location=row.location, participants=row.participants,
        minutes=row.minutes, action_items=[sharing_pb2.ActionItem(**item) for item in row.action_items],
    )
    message.create_time.FromDatetime(row.create_time)
    message.update_time.FromDatetime(row.update_time)
    return message


def action_items(messages) -> tuple[joint_meetings.ActionItemData, ...]:
    return tuple(joint_meetings.ActionItemData(description=m.description, owner=m.owner, due_date=m.due_date)
                 for m in messages)


class JointMeetingRpcs:
    async def CreateJointMeeting(self, request, context):
        caller = current_caller()
        m = request.joint_meeting
        data = joint_meetings.MeetingData(title=m.title, meeting_date=m.meeting_date, location=m.location,
                                          participants=tuple(m.participants), minutes=m.minutes,
                                          action_items=action_items(m.action_items))

        async def work(session):
            row = await joint_meetings.create_meeting(session=session, caller=caller, data=data)
            return sharing_pb2.CreateJointMeetingResponse(joint_meeting=meeting_to_proto(row))

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller,
                                    method="CreateJointMeeting", request=request,
                                    response_type=sharing_pb2.CreateJointMeetingResponse, work=work)

    async def ListJointMeetings(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        after = decode_page_token(request.page_token, shape=(str, str))
        async with self.db.session() as session:
            rows = await joint_meetings.list_meetings(session=session, caller=caller,
                                                      after=tuple(after) if after else None, limit=size + 1)
        last = rows[size - 1] if len(rows) > size else None
        return sharing_pb2.ListJointMeetingsResponse(
            joint_meetings=[meeting_to_proto(r) for r in rows[:size]],
            next_page_token=encode_page_token([last.meeting_date.isoformat(), last.id]) if last else "",
        )

    async def GetJointMeeting(self, request, context):
        caller = current_caller()
        meeting_id = joint_meetings.parse_meeting_name(request.name)
        async with self.db.session() as session:
            row = await joint_meetings.get_meeting(session=session, caller=caller, meeting_id=meeting_id)
        return sharing_pb2.GetJointMeetingResponse(joint_meeting=meeting_to_proto(row))

    async def RecordJointMeetingMinutes(self, request, context):
        caller = current_caller()
        meeting_id = joint_meetings.parse_meeting_name(request.name)
        async with self.db.session() as session:
            row = await joint_meetings.record_minutes(session=session, caller=caller, meeting_id=meeting_id,
                                                      minutes=request.minutes,
                                                      action_items=action_items(request.action_items))
            await session.commit()
        return sharing_pb2.RecordJointMeetingMinutesResponse(joint_meeting=meeting_to_proto(row))
