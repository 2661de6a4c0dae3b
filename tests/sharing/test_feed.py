"""The subscribe feed (SPEC SH-3; RELIABILITY D3, D4): exactly once from a resumed cursor, also
when publishers commit out of order; no change without its record and vice versa; the rollup
applier applies redelivered changes once."""

from __future__ import annotations

import random
from collections import Counter

import grpc
import pytest
from prevention.sharing.v1 import sharing_pb2, sharing_pb2_grpc
from sqlalchemy import delete, select

from services.common.context import Caller
from services.common.db import Database
from services.sharing import analytics, changes, records
from services.sharing.models import AnalyticsApplied, AnalyticsRollup, RecordChange
from tests.sharing.feedkit import Subscriber, correct, fresh_tenant, publish, stage_accident, void

pytestmark = pytest.mark.db


@pytest.fixture
async def sharing_db(platform):
    database = Database(platform.urls["sharing"])
    yield database
    await database.dispose()


@pytest.mark.parametrize("seed", [7])
async def test_resumed_feed_is_exactly_once_with_out_of_order_commits(platform, issuer, sharing_db, seed):
    """Publisher A takes its change id first and holds its transaction open while publisher B
    commits (on PostgreSQL; SQLite has one writer at a time, so there A commits first). The
    subscriber's connection is cut at 5 seeded points and resumed from its last cursor."""
    tenant = fresh_tenant()
    postgres = sharing_db.engine.dialect.name == "postgresql"
    rng = random.Random(seed)
    subscriber = Subscriber(platform, issuer, tenant)
    published: list[tuple[str, str]] = []

    held = sharing_db.sessionmaker()
    # A publishes in another division than B, so the two do not share a rollup row.
    late_id = await stage_accident(held, tenant, industry_code="B0610")
    if not postgres:
        await held.commit()
        published.append((late_id, "published"))
    first = [await publish(platform, issuer, tenant) for _ in range(4)]
    published += [(r["id"], "published") for r in first]
    await correct(platform, issuer, tenant, first[0]["id"], days_lost=60)
    await void(platform, issuer, tenant, first[1]["id"])
    published += [(first[0]["id"], "corrected"), (first[1]["id"], "voided")]
    total = len(published) + 6 if postgres else len(published) + 5
    cuts = set(rng.sample(range(1, total), 5))

    await subscriber.read(until=len(published), cuts=cuts)
    if postgres:
        assert late_id not in {record for record, _ in subscriber.changes()}  # not committed yet
        await held.commit()
        published.append((late_id, "published"))
    await held.close()
    later = [await publish(platform, issuer, tenant) for _ in range(3)]
    published += [(r["id"], "published") for r in later]
    await correct(platform, issuer, tenant, late_id, industry_code="B0610", fatalities=1, severity="fatal")
    await void(platform, issuer, tenant, later[2]["id"])
    published += [(late_id, "corrected"), (later[2]["id"], "voided")]
    assert len(published) == total
    await subscriber.read(until=total, cuts=cuts)
    assert await subscriber.catch_up() == []

    if postgres:  # the scenario really was out of order: A's change id is below B's, its position above
        async with sharing_db.session() as session:
            rows = {r.record_id: r for r in (await session.scalars(
                select(RecordChange).where(RecordChange.tenant_code == tenant, RecordChange.kind == "published")))}
        assert rows[late_id].id < rows[first[0]["id"]].id and rows[late_id].position > rows[first[3]["id"]].position
    assert Counter(subscriber.changes()) == Counter(published)
    assert len({item.cursor for item in subscriber.received}) == total
    # A record's changes arrive in the order they happened.
    order = subscriber.changes()
    assert order.index((late_id, "published")) < order.index((late_id, "corrected"))
    corrected = next(i for i in subscriber.received if i.record == f"accidents/{late_id}" and i.kind == 2)
    assert corrected.values["fatalities"] == 1 and corrected.values["severity"] == "fatal"


async def test_the_feed_serves_only_what_the_subscriber_may_read(platform, issuer):
    tenant, other = fresh_tenant(), fresh_tenant()
    mine = await publish(platform, issuer, tenant)
    await publish(platform, issuer, other)
    subscriber = Subscriber(platform, issuer, tenant)
    await subscriber.catch_up()
    assert {record for record, _ in subscriber.changes()} == {mine["id"]}
    # A liaison without an agreement sees nothing of the tenant's records; with one, the granted fields.
    org = "organisations/feed-liaison-" + tenant
    liaison = Subscriber(platform, issuer, tenant, roles=("department_liaison",), org=org.split("/")[1])
    assert await liaison.catch_up() == []
    agreement = {"provider_organisation": "organisations/provider", "consumer_organisation": org,
                 "record_type": "accidents", "granted_fields": ["occurred_at", "industry_code", "severity"],
                 "purpose": "joint prevention", "legal_basis": "Work Safety Law art. 10",
                 "valid_from": "2025-01-01", "valid_until": "2030-12-31"}
    from tests.gateway.helpers import bearer
    response = await platform.client.post("/v1/sharing-agreements", json=agreement,
                                          headers=bearer(issuer, tenant=tenant, roles=("provincial_operator",)))
    assert response.status_code == 201, response.text
    items = await liaison.catch_up()
    assert [i.record for i in items] == [f"accidents/{mine['id']}"]
    assert set(items[0].values.keys()) == {"occurred_at", "industry_code", "severity"}
    assert list(items[0].fields) == ["occurred_at", "industry_code", "severity"]


async def test_bad_cursor_and_record_type_are_field_violations(platform, issuer):
    token = issuer.token(tenant="110000", roles=["provincial_operator"])
    async with grpc.aio.insecure_channel(platform.addresses["sharing"]) as channel:
        stub = sharing_pb2_grpc.SharingServiceStub(channel)
        for request in (sharing_pb2.SubscribeRecordsRequest(record_type="weather"),
                        sharing_pb2.SubscribeRecordsRequest(record_type="accidents", cursor="garbage")):
            with pytest.raises(grpc.aio.AioRpcError) as error:
                async for _ in stub.SubscribeRecords(request, metadata=[("authorization", f"Bearer {token}")],
                                                     timeout=5):
                    pass
            assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_following_subscriber_is_woken_and_stops_at_its_deadline(platform, issuer):
    tenant = fresh_tenant()
    subscriber = Subscriber(platform, issuer, tenant)
    await subscriber.catch_up()
    token = issuer.token(tenant=tenant, roles=["provincial_operator"])
    async with grpc.aio.insecure_channel(platform.addresses["sharing"]) as channel:
        stub = sharing_pb2_grpc.SharingServiceStub(channel)
        call = stub.SubscribeRecords(sharing_pb2.SubscribeRecordsRequest(record_type="accidents", follow=True),
                                     metadata=[("authorization", f"Bearer {token}")], timeout=30)
        record = await publish(platform, issuer, tenant)
        item = await call.read()
        assert item.record == f"accidents/{record['id']}"
        call.cancel()
        # With nothing new, a following stream ends by its deadline, having sent nothing.
        quiet = stub.SubscribeRecords(
            sharing_pb2.SubscribeRecordsRequest(record_type="accidents", cursor=item.cursor, follow=True),
            metadata=[("authorization", f"Bearer {token}")], timeout=0.5)
        items = []
        try:
            async for extra in quiet:
                items.append(extra)
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert items == []


# -- D3: no change without its record and vice versa; delivered once the relay runs ---------------


async def test_d3_failure_before_commit_leaves_no_change(platform, issuer, sharing_db):
    tenant = fresh_tenant()
    caller = Caller(subject="d3", tenant=tenant, roles=frozenset({"provincial_operator"}))
    async with sharing_db.session() as session:
        row, _ = await records.create_accident(session=session, caller=caller, data=records.AccidentData(
            publisher_record_id="d3-rolled-back", occurred_at="2025-01-02", employer="organisations/x",
            industry_code="C2611", severity="minor", accident_type="machinery_injury", persons_injured=1,
            fatalities=0, days_lost=1, description=""))
        lost = row.id
        await session.rollback()  # the failure before commit
    kept = await publish(platform, issuer, tenant)
    subscriber = Subscriber(platform, issuer, tenant)
    await subscriber.catch_up()
    assert subscriber.changes() == [(kept["id"], "published")]
    async with sharing_db.session() as session:
        assert (await session.scalars(select(RecordChange).where(RecordChange.record_id == lost))).all() == []


async def test_d3_change_committed_before_the_sequencer_runs_is_delivered_once(platform, issuer, sharing_db):
    tenant = fresh_tenant()
    record = await publish(platform, issuer, tenant)
    async with sharing_db.session() as session:
        change = (await session.scalars(select(RecordChange).where(RecordChange.record_id == record["id"]))).one()
        assert change.position is None  # committed with its record; not stamped: no subscriber ran yet
    await changes.sequence_all(sharing_db.sessionmaker)  # the relay runs after the commit
    await changes.sequence_all(sharing_db.sessionmaker)  # ... and again: nothing stamped twice
    subscriber = Subscriber(platform, issuer, tenant)
    await subscriber.catch_up()
    assert await subscriber.catch_up() == []
    assert subscriber.changes() == [(record["id"], "published")]


# -- D4: redelivered, out-of-order changes are applied once ----------------------------------------


async def _rollups(session, tenant: str) -> dict:
    rows = (await session.scalars(select(AnalyticsRollup).where(AnalyticsRollup.tenant_code == tenant))).all()
    counts = {(r.industry_code, r.year): tuple(getattr(r, c) for c in analytics.COUNTS) for r in rows}
    return {bucket: values for bucket, values in counts.items() if any(values)}  # an all-zero row = none


async def test_d4_each_change_twice_and_out_of_order_is_applied_once(platform, issuer, sharing_db):
    tenant = fresh_tenant()
    a = await publish(platform, issuer, tenant, industry_code="E4720")
    b = await publish(platform, issuer, tenant, industry_code="C2611", severity="fatal", fatalities=2)
    await correct(platform, issuer, tenant, a["id"], industry_code="G5410", occurred_at="2024-06-01")
    await void(platform, issuer, tenant, b["id"])
    await publish(platform, issuer, tenant, industry_code="C2611")
    async with sharing_db.session() as session:
        expected = await _rollups(session, tenant)
        rows = (await session.scalars(select(RecordChange).where(RecordChange.tenant_code == tenant))).all()
        delivered = [analytics.Change(r.id, r.record_type, r.before, r.after) for r in rows] * 2
        random.Random(4).shuffle(delivered)
        # Redelivered on top of the inline application: nothing changes.
        assert await analytics.apply_changes(session, delivered) == 0
        await session.commit()
        assert await _rollups(session, tenant) == expected
        # A consumer starting from nothing (rollups and inbox of the tenant emptied) ends the same.
        await session.execute(delete(AnalyticsRollup).where(AnalyticsRollup.tenant_code == tenant))
        await session.execute(delete(AnalyticsApplied).where(AnalyticsApplied.change_id.in_([r.id for r in rows])))
        assert await analytics.apply_changes(session, delivered) == len(rows)
        await session.commit()
        assert await _rollups(session, tenant) == expected
    assert expected[("C26", 2025)][:2] == (1, 0)  # the fatal one is voided: one accident, no fatality
    assert ("E47", 2025) not in expected and expected[("G54", 2024)][0] == 1  # moved by the correction
