"""gRPC adapter for bulletins (SPEC SH-7): proto <-> domain; owns the transaction. A mixin of
SharingServicer (which provides ``self.db``)."""

from __future__ import annotations

from prevention.sharing.v1 import sharing_pb2
from sqlalchemy.exc import IntegrityError

from services.common.context import current_caller
from services.common.enums import EnumLabels
from services.common.idempotency import idempotent_rpc
from services.common.pagination import clamp_page_size, decode_page_token, encode_page_token
from services.sharing import bulletins
from services.sharing.models import Bulletin, BulletinAcknowledgement, IdempotencyKeys

_SEVERITY = EnumLabels(sharing_pb2.AccidentSeverity)


def bulletin_to_proto(row: Bulletin, ack: BulletinAcknowledgement | None = None) -> sharing_pb2.Bulletin:
    message = sharing_pb2.Bulletin(
        name=f"bulletins/{row.id}", title=row.title, body=row.body, occurred_at=row.occurred_at.isoformat(),
        region_code=row.region_code, industry_code=row.industry_code, accident_type=row.accident_type,
        severity=_SEVERITY.to_proto[row.severity], fatalities=row.fatalities, persons_injured=row.persons_injured,
        acknowledged=ack is not None,
    )
    message.publish_time.FromDatetime(row.publish_time)
    if ack is not None:
        message.acknowledge_time.FromDatetime(ack.acknowledge_time)
    return message


def bulletin_data(message: sharing_pb2.Bulletin) -> bulletins.BulletinData:
    return bulletins.BulletinData(
        title=message.title, body=message.body, occurred_at=message.occurred_at, region_code=message.region_code,
        industry_code=message.industry_code, accident_type=message.accident_type,
        severity=_SEVERITY.from_proto.get(message.severity, ""), fatalities=message.fatalities,
        persons_injured=message.persons_injured,
    )


class BulletinRpcs:
    async def CreateBulletin(self, request, context):
        caller = current_caller()
        data = bulletin_data(request.bulletin)

        async def work(session):
            row = await bulletins.create_bulletin(session=session, caller=caller, data=data)
            return sharing_pb2.CreateBulletinResponse(bulletin=bulletin_to_proto(row))

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller, method="CreateBulletin",
                                    request=request, response_type=sharing_pb2.CreateBulletinResponse, work=work)

    async def ListBulletins(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        after = decode_page_token(request.page_token, shape=(str, str))
        async with self.db.session() as session:
            rows = await bulletins.list_bulletins(session=session, caller=caller,
                                                  after=tuple(after) if after else None, limit=size + 1)
        last = rows[size - 1][0] if len(rows) > size else None
        return sharing_pb2.ListBulletinsResponse(
            bulletins=[bulletin_to_proto(row, ack) for row, ack in rows[:size]],
            next_page_token=encode_page_token([last.publish_time.isoformat(), last.id]) if last else "",
        )

    async def GetBulletin(self, request, context):
        caller = current_caller()
        bulletin_id = bulletins.parse_bulletin_name(request.name)
        async with self.db.session() as session:
            row, ack = await bulletins.get_bulletin(session=session, caller=caller, bulletin_id=bulletin_id)
        return sharing_pb2.GetBulletinResponse(bulletin=bulletin_to_proto(row, ack))

    async def AcknowledgeBulletin(self, request, context):
        caller = current_caller()
        bulletin_id = bulletins.parse_bulletin_name(request.name)
        for attempt in (1, 2):
            try:
                async with self.db.session() as session:
                    row, ack = await bulletins.acknowledge_bulletin(session=session, caller=caller,
                                                                    bulletin_id=bulletin_id)
                    await session.commit()
                return sharing_pb2.AcknowledgeBulletinResponse(bulletin=bulletin_to_proto(row, ack))
            except IntegrityError:  # a concurrent acknowledgement of the same province won: replay it
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def ListUnacknowledged(self, request, context):
        bulletin_id = bulletins.parse_bulletin_name(request.name)
        async with self.db.session() as session:
            row, provinces, acks = await bulletins.unacknowledged(session=session, bulletin_id=bulletin_id)
        response = sharing_pb2.ListUnacknowledgedResponse(name=f"bulletins/{row.id}", province_codes=provinces)
        for ack in acks:
            item = response.acknowledgements.add(province_code=ack.tenant_code, acknowledged_by=ack.acknowledged_by)
            item.acknowledge_time.FromDatetime(ack.acknowledge_time)
        return response
