"""Bulk publish over gRPC under a lost reply (issue 4 acceptance; RELIABILITY R2, publish).

100,000 accident records stream through a fault-injecting TCP proxy on loopback
(tests/support/fault_proxy.py) to a sharing service of their own (so the rows do not crowd the
shared platform's figures). The proxy cuts the connection when the reply arrives, after the
server committed every batch; the client sees UNAVAILABLE, replays the same stream, and the reply
says every record was REPLAYED under the name it got the first time: nothing is stored twice.
"""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from prevention.sharing.v1 import sharing_pb2, sharing_pb2_grpc

from services.common.runner import build_runtime
from tests.support.fault_proxy import FaultProxy
from tests.support.platform import service_builder

RECORDS = 100_000
BATCH = 1_000
STREAM = 20_000  # the most records one stream carries
TENANT = "110000"


@pytest.fixture(scope="module")
async def sharing_alone(settings, db_factory):
    url = await db_factory.prepared("sharing")
    runtime = build_runtime("sharing", service_builder("sharing"), settings=settings, database_url=url,
                            addresses={}, tracer_provider=None, validator=None)
    port = await runtime.start("127.0.0.1:0")
    yield f"127.0.0.1:{port}"
    await runtime.stop(grace=1.0)


def batches(prefix: str, count: int, *, first: int = 0, **overrides):
    base = dict(occurred_at="2025-03-01", employer="organisations/bulk-employer", industry_code="B0610",
                severity=sharing_pb2.ACCIDENT_SEVERITY_MINOR, accident_type="object_strike", persons_injured=1,
                fatalities=0, days_lost=2)
    base.update(overrides)

    async def stream():
        for start in range(first, first + count, BATCH):
            yield sharing_pb2.PublishAccidentsRequest(accidents=[
                sharing_pb2.Accident(publisher_record_id=f"{prefix}-{n}", **base)
                for n in range(start, min(start + BATCH, first + count))
            ])
    return stream


async def publish(address: str, issuer, stream) -> sharing_pb2.PublishAccidentsResponse:
    token = issuer.token(tenant=TENANT, roles=["provincial_operator"])  # fresh: a slow machine outlives one
    async with grpc.aio.insecure_channel(address) as channel:
        stub = sharing_pb2_grpc.SharingServiceStub(channel)
        return await stub.PublishAccidents(stream(), metadata=[("authorization", f"Bearer {token}")], timeout=600)


async def publish_all(address: str, issuer, prefix: str) -> list[sharing_pb2.PublishResult]:
    results = []
    for first in range(0, RECORDS, STREAM):
        results.extend((await publish(address, issuer, batches(prefix, STREAM, first=first))).results)
    return results


@pytest.mark.timeout(900)  # 200,000 record publishes: about a minute on an idle machine
async def test_a_replayed_stream_after_a_lost_reply_changes_nothing(sharing_alone, issuer):
    prefix = f"bulk-{uuid.uuid4().hex[:8]}"
    host, port = sharing_alone.rsplit(":", 1)
    async with FaultProxy(host, int(port)) as proxy:
        first = await publish(proxy.address, issuer, batches(prefix, STREAM))
        assert first.created_count == STREAM
        proxy.drop_replies(1)  # the second stream is stored, but its reply is lost
        with pytest.raises(grpc.aio.AioRpcError) as lost:
            await publish(proxy.address, issuer, batches(prefix, STREAM, first=STREAM))
        assert lost.value.code() == grpc.StatusCode.UNAVAILABLE
        assert proxy.dropped == 1
        retried = await publish(proxy.address, issuer, batches(prefix, STREAM, first=STREAM))
        assert (retried.created_count, retried.replayed_count) == (0, STREAM)
        for start in range(2 * STREAM, RECORDS, STREAM):
            assert (await publish(proxy.address, issuer, batches(prefix, STREAM, first=start))).created_count == STREAM

    # Everything once: replaying all 100,000 stores nothing new, and each record keeps its name.
    replay = await publish_all(sharing_alone, issuer, prefix)
    assert sum(r.outcome == sharing_pb2.PUBLISH_OUTCOME_REPLAYED for r in replay) == RECORDS
    assert len({result.name for result in replay}) == RECORDS
    assert [result.name for result in replay[:STREAM]] == [result.name for result in first.results]

    # The same ids with other content are refused per record and change nothing.
    changed = await publish(sharing_alone, issuer, batches(prefix, 10, days_lost=9))
    assert changed.failed_count == 10
    assert {result.error_reason for result in changed.results} == {"PUBLISHER_RECORD_ID_EXISTS"}
    again = await publish(sharing_alone, issuer, batches(prefix, 10))
    assert again.replayed_count == 10
    assert [r.name for r in again.results] == [r.name for r in replay[:10]]


async def test_a_stream_longer_than_the_cap_is_refused_after_the_stored_batches(sharing_alone, issuer):
    prefix = f"long-{uuid.uuid4().hex[:8]}"
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await publish(sharing_alone, issuer, batches(prefix, STREAM + BATCH))
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "at most 20000 records" in refused.value.details()
    # What came before the cap is stored; the client replays it and sends the rest.
    replay = await publish(sharing_alone, issuer, batches(prefix, STREAM))
    assert replay.replayed_count == STREAM
    rest = await publish(sharing_alone, issuer, batches(prefix, BATCH, first=STREAM))
    assert rest.created_count == BATCH


async def test_a_batch_with_the_same_record_twice_stores_it_once(sharing_alone, issuer):
    record = sharing_pb2.Accident(
        publisher_record_id=f"twice-{uuid.uuid4().hex[:8]}", occurred_at="2025-03-01",
        employer="organisations/bulk-employer", industry_code="B0610", severity=sharing_pb2.ACCIDENT_SEVERITY_MINOR,
        accident_type="object_strike", persons_injured=1)
    other = sharing_pb2.Accident()
    other.CopyFrom(record)
    other.days_lost = 5

    async def stream():
        yield sharing_pb2.PublishAccidentsRequest(accidents=[record, record, other])

    response = await publish(sharing_alone, issuer, lambda: stream())
    outcomes = [result.outcome for result in response.results]
    assert outcomes == [sharing_pb2.PUBLISH_OUTCOME_CREATED, sharing_pb2.PUBLISH_OUTCOME_REPLAYED,
                        sharing_pb2.PUBLISH_OUTCOME_FAILED]
    assert response.results[0].name == response.results[1].name
    assert response.results[2].error_reason == "PUBLISHER_RECORD_ID_EXISTS"


async def test_two_streams_with_the_same_records_at_once_store_each_once(sharing_alone, issuer):
    """RELIABILITY R2, the same ids sent concurrently: two clients publish the same 2,000 records at
    the same moment; whichever commits first creates a record, the other replays it under its name.
    (On SQLite a record may instead fail as busy; the client's retry then creates or replays it.)"""
    prefix = f"twin-{uuid.uuid4().hex[:8]}"
    first, second = await asyncio.gather(publish(sharing_alone, issuer, batches(prefix, 2 * BATCH)),
                                         publish(sharing_alone, issuer, batches(prefix, 2 * BATCH)))
    retry = await publish(sharing_alone, issuer, batches(prefix, 2 * BATCH))
    assert retry.failed_count == 0
    assert first.created_count + second.created_count + retry.created_count == 2 * BATCH
    for results in zip(first.results, second.results, retry.results, strict=True):
        assert len({r.name for r in results if r.outcome != sharing_pb2.PUBLISH_OUTCOME_FAILED}) == 1
        assert all(r.error_reason != "PUBLISHER_RECORD_ID_EXISTS" for r in results)
    again = await publish(sharing_alone, issuer, batches(prefix, 2 * BATCH))
    assert again.replayed_count == 2 * BATCH
