"""gRPC learning-record ingestion for third-party platforms (SPEC TR-3): per-batch acks with
per-record errors, idempotent by statement id, bounded batches, the recommended-list gate, and
one store with the xAPI LRS (RELIABILITY R3 for the channel's retry policy)."""

from __future__ import annotations

import asyncio
import json
import os

import grpc
import pytest
from prevention.training.v1 import training_pb2, training_pb2_grpc

from services.common import channels
from tests.training.ingest_client import IngestClient, batch_request
from tests.training.lrs_support import EXPERIENCED, Platform, citizen_id, learner, statement


def client(platform, who: Platform) -> IngestClient:
    return IngestClient(platform.addresses["training"], who.metadata())


async def test_batches_are_acknowledged_with_per_record_errors(platform, lrs_platform):
    good = [statement() for _ in range(3)]
    bad_json = "{not json"
    bad_verb = statement(verb="no iri")
    with_id = statement(actor=learner(citizen_id()))
    acks = await client(platform, lrs_platform).send([good, [good[0], bad_json, bad_verb, with_id, statement()]])
    assert (acks[0].batch_number, acks[0].stored, acks[0].replayed, list(acks[0].errors)) == (0, 3, 0, [])
    second = acks[1]
    assert (second.batch_number, second.stored, second.replayed) == (1, 1, 1)
    errors = {e.index: e for e in second.errors}
    assert set(errors) == {1, 2, 3}
    assert errors[1].reason == "INVALID_ARGUMENT" and "statement_json" in errors[1].fields
    assert "statement.verb.id" in errors[2].fields
    assert "statement.actor.account.name" in errors[3].fields and citizen_id() not in errors[3].message


async def test_replay_is_harmless_and_a_changed_statement_conflicts(platform, lrs_platform):
    sent = [statement() for _ in range(5)]
    first = await client(platform, lrs_platform).send([sent])
    again = await client(platform, lrs_platform).send([sent])
    assert (first[0].stored, again[0].stored, again[0].replayed) == (5, 0, 5)
    changed = {**sent[2], "verb": {"id": EXPERIENCED}}
    ack = (await client(platform, lrs_platform).send([[changed]]))[0]
    assert ack.stored == 0 and [e.reason for e in ack.errors] == ["STATEMENT_CONFLICT"]
    assert ack.errors[0].statement_id == sent[2]["id"]


async def test_two_streams_with_the_same_statements_at_once_store_each_once(platform, lrs_platform):
    """RELIABILITY R2, the same ids sent concurrently: two connections push the same 300 statements
    at the same moment. Each statement is stored once: the stream that loses a race on an id is
    ended with ABORTED ("retry"), and its retry replays what the other stored."""
    sent = [statement(verb=EXPERIENCED) for _ in range(300)]
    batches = [sent[i:i + 100] for i in range(0, len(sent), 100)]

    async def push():
        try:
            return await client(platform, lrs_platform).send(batches)
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.ABORTED, error
            return []

    one, two = await asyncio.gather(push(), push())
    retry = await client(platform, lrs_platform).send(batches)
    assert all(not ack.errors for ack in one + two + retry)
    assert sum(ack.replayed for ack in retry) == len(sent)
    ids = await _stored_ids(platform, lrs_platform)
    assert len(ids) == len(set(ids)) == len(sent)


async def test_batches_are_bounded(platform, lrs_platform):
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await client(platform, lrs_platform).send([[statement() for _ in range(501)]])
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_only_recommended_platforms_may_push(platform, issuer, recommended_list):
    stranger = Platform(issuer)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await client(platform, stranger).send([[statement()]])
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED
    await recommended_list.register(stranger)
    assert (await client(platform, stranger).send([[statement()]]))[0].stored == 1
    await recommended_list.suspend(stranger)  # a suspended platform is refused again
    with pytest.raises(grpc.aio.AioRpcError) as suspended:
        await client(platform, stranger).send([[statement()]])
    assert suspended.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_grpc_records_are_read_over_xapi_and_xapi_statements_over_grpc(platform, lrs_platform):
    pushed = statement()
    await client(platform, lrs_platform).send([[pushed]])
    response = await platform.client.get("/xapi/statements", params={"statementId": pushed["id"]},
                                         headers=lrs_platform.headers())
    assert response.status_code == 200 and response.json()["actor"] == pushed["actor"]

    posted = statement()
    assert (await platform.client.post("/xapi/statements", json=posted, headers=lrs_platform.headers())).status_code \
        == 200
    async with grpc.aio.insecure_channel(platform.addresses["training"]) as channel:
        stub = training_pb2_grpc.TrainingServiceStub(channel)
        reply = await stub.GetStatements(training_pb2.GetStatementsRequest(statement_id=posted["id"]),
                                         metadata=lrs_platform.metadata(), timeout=10)
    assert json.loads(reply.statements_json)["verb"] == posted["verb"]


async def test_an_empty_stream_and_an_empty_batch(platform, lrs_platform):
    assert await client(platform, lrs_platform).send([]) == []
    ack = (await client(platform, lrs_platform).send([[]]))[0]
    assert (ack.stored, ack.replayed, list(ack.errors)) == (0, 0, [])


def test_client_retry_policy_is_bounded_and_throttled():
    """RELIABILITY R3: the channels every caller opens retry UNAVAILABLE at most 5 times (gRFC A6)
    and stop retrying when the failure budget is spent."""
    config = json.loads(dict(channels.CHANNEL_OPTIONS)["grpc.service_config"])
    for method in config["methodConfig"]:
        assert method["retryPolicy"]["maxAttempts"] <= 5
        assert method["retryPolicy"]["retryableStatusCodes"] == ["UNAVAILABLE"]
    assert config["retryThrottling"]["maxTokens"] > 0 and 0 < config["retryThrottling"]["tokenRatio"] <= 1
    assert dict(channels.CHANNEL_OPTIONS)["grpc.enable_retries"] == 1


def test_batch_request_shape():
    request = batch_request(3, [statement()])
    assert request.batch_number == 3 and json.loads(request.records[0].statement_json)["verb"]


async def _stored_ids(platform, who: Platform) -> list[str]:
    ids: list[str] = []
    token = ""
    async with grpc.aio.insecure_channel(platform.addresses["training"]) as channel:
        stub = training_pb2_grpc.TrainingServiceStub(channel)
        while True:
            reply = await stub.GetStatements(training_pb2.GetStatementsRequest(limit=500, page_token=token,
                                                                               format="ids"),
                                             metadata=who.metadata(), timeout=30)
            ids += [s["id"] for s in json.loads(reply.statements_json)]
            token = reply.next_page_token
            if not token:
                return ids


async def test_replies_dropped_after_commit_are_replayed_without_doubles(platform, lrs_platform):
    """RELIABILITY R2 (ingestion): a proxy cuts the connection while acks are on the way; the
    client replays the unacknowledged batch; stored = sent, none doubled."""
    from tests.support.reply_dropping_proxy import ReplyDroppingProxy

    records, per_batch = int(os.environ.get("LRS_INGEST_RECORDS", "2000")), 100
    sent = [statement(verb=EXPERIENCED) for _ in range(records)]
    batches = [sent[i:i + per_batch] for i in range(0, records, per_batch)]
    async with ReplyDroppingProxy(platform.addresses["training"], faulty_connections=6) as proxy:
        ingest = IngestClient(proxy.address, lrs_platform.metadata())
        acks = await ingest.send(batches)
    assert proxy.dropped >= 1 and ingest.reconnects >= 1
    assert all(not ack.errors for ack in acks)
    assert sum(ack.replayed for ack in acks) >= 1  # at least one committed batch lost its ack
    ids = await _stored_ids(platform, lrs_platform)
    assert len(ids) == len(set(ids)) == records
    assert set(ids) == {s["id"] for s in sent}
