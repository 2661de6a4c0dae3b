"""Helpers of the feed and analytics tests: fresh tenants, publishing over REST, and a subscriber
that reads the gRPC feed and can cut its connection after a given number of items."""

from __future__ import annotations

import itertools
import random
import uuid
from datetime import UTC, date, datetime

import grpc
from prevention.sharing.v1 import sharing_pb2, sharing_pb2_grpc

from services.sharing import changes, records
from services.sharing.models import Accident
from tests.gateway.helpers import bearer

# Prefecture-level tenants of Hainan (46xx00) and Yunnan (53xx00), which no other test uses.
_FRESH = itertools.count(random.Random().randrange(1000))


def fresh_tenant(province: str = "46") -> str:
    return f"{province}{next(_FRESH) % 90 + 10:02d}00"


def po(tenant: str) -> dict:
    return {"tenant": tenant, "roles": ("provincial_operator",)}


def accident(**overrides) -> dict:
    body = {"publisher_record_id": f"feed-{uuid.uuid4().hex}", "occurred_at": "2025-05-04",
            "employer": f"organisations/{uuid.uuid4().hex}", "industry_code": "C2611", "severity": "serious",
            "accident_type": "machinery_injury", "persons_injured": 2, "fatalities": 0, "days_lost": 45,
            "description": ""}
    body.update(overrides)
    return body


async def publish(platform, issuer, tenant: str, **overrides) -> dict:
    response = await platform.client.post("/v1/accidents", json=accident(**overrides),
                                          headers=bearer(issuer, **po(tenant)))
    assert response.status_code == 201, response.text
    return response.json()


async def correct(platform, issuer, tenant: str, record_id: str, **overrides) -> dict:
    body = {k: v for k, v in accident(**overrides).items() if k != "publisher_record_id"}
    response = await platform.client.post(f"/v1/accidents/{record_id}/correct", json=body,
                                          headers=bearer(issuer, **po(tenant)))
    assert response.status_code == 200, response.text
    return response.json()


async def void(platform, issuer, tenant: str, record_id: str) -> dict:
    response = await platform.client.post(f"/v1/accidents/{record_id}/void", json={"reason": "entered twice"},
                                          headers=bearer(issuer, **po(tenant)))
    assert response.status_code == 200, response.text
    return response.json()


async def stage_accident(session, tenant: str, **overrides) -> str:
    """What records.create_accident does up to its exchange-log entry: the record row and the
    change hook, in ``session``'s transaction, which the caller keeps open as long as it likes."""
    data = accident(**overrides)
    now = datetime.now(UTC)
    row = Accident(id=uuid.uuid4().hex, tenant_code=tenant, publisher_organisation="", create_hash="0" * 64,
                   version=1, status="active", void_reason="", create_time=now, update_time=now,
                   created_by="publisher-a", updated_by="publisher-a",
                   **{**data, "occurred_at": date.fromisoformat(data["occurred_at"])})
    session.add(row)
    await session.flush()
    await changes.record_changed(session, record_type="accidents", kind="published", record_id=row.id,
                                 before=None, after=changes.snapshot(row, records.ACCIDENT_FIELDS))
    return row.id


class Subscriber:
    """Reads the feed over gRPC from its last cursor; ``cut_after`` items it cancels the call (the
    connection is cut) and the next ``read`` resumes from the last cursor it received."""

    def __init__(self, platform, issuer, tenant: str, roles=("provincial_operator",), **claims):
        self.address = platform.addresses["sharing"]
        self.token = issuer.token(tenant=tenant, roles=list(roles), **claims)
        self.cursor = ""
        self.received: list[sharing_pb2.SubscribeRecordsResponse] = []

    async def read(self, *, until: int, cuts: set[int] = frozenset(), attempts: int = 20) -> None:
        """Read until ``until`` items were received in all, cutting at the counts in ``cuts``."""
        for _ in range(attempts):
            if len(self.received) >= until:
                return
            async with grpc.aio.insecure_channel(self.address) as channel:
                stub = sharing_pb2_grpc.SharingServiceStub(channel)
                call = stub.SubscribeRecords(
                    sharing_pb2.SubscribeRecordsRequest(record_type="accidents", cursor=self.cursor, follow=True),
                    metadata=[("authorization", f"Bearer {self.token}")], timeout=10)
                try:
                    async for item in call:
                        self.received.append(item)
                        self.cursor = item.cursor
                        if len(self.received) in cuts or len(self.received) >= until:
                            break
                finally:
                    call.cancel()
        raise AssertionError(f"received {len(self.received)} of {until} changes")

    async def catch_up(self) -> list[sharing_pb2.SubscribeRecordsResponse]:
        """Everything after the cursor that is there now (a stream without ``follow``)."""
        async with grpc.aio.insecure_channel(self.address) as channel:
            stub = sharing_pb2_grpc.SharingServiceStub(channel)
            call = stub.SubscribeRecords(
                sharing_pb2.SubscribeRecordsRequest(record_type="accidents", cursor=self.cursor),
                metadata=[("authorization", f"Bearer {self.token}")], timeout=10)
            items = [item async for item in call]
        self.received.extend(items)
        if items:
            self.cursor = items[-1].cursor
        return items

    def changes(self) -> list[tuple[str, str]]:
        kinds = {v: k for k, v in sharing_pb2.ChangeKind.items()}
        return [(item.record.removeprefix("accidents/"), kinds[item.kind].removeprefix("CHANGE_KIND_").lower())
                for item in self.received]
