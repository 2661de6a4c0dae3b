"""gRPC adapter for the subscribe feed (SPEC SH-3): a server-streaming RPC over
services/sharing/feed.py. A mixin of SharingServicer (which provides ``self.db``).

The stream loops: stamp committed changes (the sequencer), read the next batch after the cursor
in its own short transaction, send it; when caught up it ends (``follow`` false) or waits for an
in-process wake-up or the poll interval, never past the call's deadline. A client cancelling the
call cancels the wait (CancelledError) and the stream ends."""

from __future__ import annotations

from google.protobuf.struct_pb2 import Struct
from prevention.sharing.v1 import sharing_pb2

from services.common.context import current_caller
from services.common.enums import EnumLabels
from services.sharing import changes, feed

_KIND = EnumLabels(sharing_pb2.ChangeKind)
# Subscribers on other replicas are woken by polling at this interval (seconds).
POLL_INTERVAL = 1.0


def feed_item_to_proto(item: feed.FeedItem) -> sharing_pb2.SubscribeRecordsResponse:
    values = Struct()
    values.update(item.values)
    message = sharing_pb2.SubscribeRecordsResponse(
        cursor=item.cursor, kind=_KIND.to_proto[item.kind], record_type=item.record_type,
        record=f"{item.record_type}/{item.record_id}", tenant_code=item.tenant_code, values=values,
        fields=[f for f in item.fields if f in item.values])
    message.change_time.FromDatetime(item.change_time)
    return message


class FeedRpcs:
    async def SubscribeRecords(self, request, context):
        caller = current_caller()
        record_type = feed.validate_record_type(request.record_type)
        after = feed.decode_cursor(record_type, request.cursor)
        with changes.Waiter() as waiter:
            while True:
                await changes.sequence_all(self.db.sessionmaker)
                async with self.db.session() as session:
                    batch = await feed.read(session=session, caller=caller, record_type=record_type, after=after)
                    await session.commit()
                for item in batch.items:
                    yield feed_item_to_proto(item)
                after = batch.last_position
                if batch.full:
                    continue
                if not request.follow:
                    return
                remaining = context.time_remaining()
                if remaining is not None and remaining <= 0.05:
                    return
                await waiter.wait(POLL_INTERVAL if remaining is None else min(POLL_INTERVAL, remaining - 0.05))
