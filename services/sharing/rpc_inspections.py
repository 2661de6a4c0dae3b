"""gRPC adapter for joint inspections (SPEC SH-6): proto <-> domain; owns the transaction. A mixin
of SharingServicer (``self.db``, ``self.clock``)."""

from __future__ import annotations

from prevention.sharing.v1 import rectification_pb2 as pb

from services.common.clock import as_utc
from services.common.context import current_caller
from services.common.idempotency import idempotent_rpc
from services.common.pagination import clamp_page_size, decode_page_token, encode_page_token
from services.sharing import inspections
from services.sharing.models import IdempotencyKeys
from services.sharing.rectification_models import JointInspection
from services.sharing.rpc_rectification import LAW, full_notice


def inspection_to_proto(row: JointInspection) -> pb.JointInspection:
    message = pb.JointInspection(
        name=f"jointInspections/{row.id}", tenant_code=row.tenant_code, title=row.title,
        inspection_date=row.inspection_date.isoformat(), participants=row.participants, employers=row.employers,
        findings=[pb.InspectionFinding(
            name=f"jointInspections/{row.id}/findings/{f['id']}", employer=f["employer"],
            description=f["description"], required_action=f["required_action"], law=LAW.to_proto.get(f["law"], 0),
            rectification_notice=f.get("rectification_notice", "")) for f in row.findings],
    )
    message.create_time.FromDatetime(as_utc(row.create_time))
    message.update_time.FromDatetime(as_utc(row.update_time))
    return message


def inspection_data(m: pb.JointInspection) -> inspections.InspectionData:
    return inspections.InspectionData(
        title=m.title, inspection_date=m.inspection_date, participants=tuple(m.participants),
        employers=tuple(m.employers),
        findings=tuple(inspections.FindingData(name=f.name, employer=f.employer, description=f.description,
                                               required_action=f.required_action, law=LAW.from_proto.get(f.law, ""))
                       for f in m.findings))


class InspectionRpcs:
    async def CreateJointInspection(self, request, context):
        caller = current_caller()
        data = inspection_data(request.joint_inspection)
        now = self.clock.now()

        async def work(session):
            row = await inspections.create_inspection(session=session, caller=caller, data=data, now=now)
            return pb.CreateJointInspectionResponse(joint_inspection=inspection_to_proto(row))

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller,
                                    method="CreateJointInspection", request=request,
                                    response_type=pb.CreateJointInspectionResponse, work=work)

    async def GetJointInspection(self, request, context):
        caller = current_caller()
        inspection_id = inspections.parse_inspection_name(request.name)
        async with self.db.session() as session:
            row = await inspections.get_inspection(session=session, caller=caller, inspection_id=inspection_id)
        return pb.GetJointInspectionResponse(joint_inspection=inspection_to_proto(row))

    async def ListJointInspections(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        after = decode_page_token(request.page_token, shape=(str, str))
        async with self.db.session() as session:
            rows = await inspections.list_inspections(session=session, caller=caller,
                                                      after=tuple(after) if after else None, limit=size + 1)
        last = rows[size - 1] if len(rows) > size else None
        return pb.ListJointInspectionsResponse(
            joint_inspections=[inspection_to_proto(r) for r in rows[:size]],
            next_page_token=encode_page_token([last.inspection_date.isoformat(), last.id]) if last else "",
        )

    async def UpdateJointInspection(self, request, context):
        caller = current_caller()
        inspection_id = inspections.parse_inspection_name(request.joint_inspection.name)
        async with self.db.session() as session:
            row = await inspections.update_inspection(session=session, caller=caller, inspection_id=inspection_id,
                                                      data=inspection_data(request.joint_inspection),
                                                      now=self.clock.now())
            message = inspection_to_proto(row)
            await session.commit()
        return pb.UpdateJointInspectionResponse(joint_inspection=message)

    async def DeleteJointInspection(self, request, context):
        caller = current_caller()
        inspection_id = inspections.parse_inspection_name(request.name)
        async with self.db.session() as session:
            await inspections.delete_inspection(session=session, caller=caller, inspection_id=inspection_id)
            await session.commit()
        return pb.DeleteJointInspectionResponse()

    async def RaiseFindingNotice(self, request, context):
        caller = current_caller()
        async with self.db.session() as session:
            notice = await inspections.raise_finding_notice(session=session, caller=caller, finding_name=request.name,
                                                            deadline_date=request.deadline_date, now=self.clock.now())
            message = await full_notice(session, notice)
            await session.commit()
        return pb.RaiseFindingNoticeResponse(rectification_notice=message)
