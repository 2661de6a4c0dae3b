"""RELIABILITY S14: hostile third-party push. Descriptor-driven messages and raw bytes on the
ingest RPC: only INVALID_ARGUMENT (or per-record errors in an OK ack), never INTERNAL, and
nothing stored."""

from __future__ import annotations

import json

import grpc
import pytest
from google.protobuf.descriptor import FieldDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prevention.training.v1 import training_pb2

from tests.training.lrs_support import Platform

METHOD = "/prevention.training.v1.TrainingService/IngestLearningRecords"
ALLOWED = {grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT}

_SCALARS = {
    FieldDescriptor.TYPE_STRING: st.text(max_size=200),
    FieldDescriptor.TYPE_BYTES: st.binary(max_size=200),
    FieldDescriptor.TYPE_INT64: st.integers(-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_INT32: st.integers(-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_BOOL: st.booleans(),
}
# JSON that parses, in shapes a statement might take: the store must refuse it field by field.
_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                         st.sampled_from(["id", "actor", "verb", "object", "objectType", "account", "name",
                                          "homePage", "mbox", "member", "context", "result", "score", "x"]),
                         inner, max_size=5), max_leaves=20).map(json.dumps)


def message_strategy(descriptor, depth: int = 0):
    """A strategy for any message type, from its descriptor (depth-limited)."""
    fields = {}
    for field in descriptor.fields:
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if depth > 2:
                continue
            value = message_strategy(field.message_type, depth + 1)
        elif field.name == "statement_json":
            value = st.one_of(_SCALARS[FieldDescriptor.TYPE_STRING], _JSON)
        else:
            value = _SCALARS.get(field.type, st.none())
        is_repeated = getattr(field, "is_repeated", None)
        repeated = is_repeated if isinstance(is_repeated, bool) else field.label == FieldDescriptor.LABEL_REPEATED
        fields[field.name] = st.lists(value, max_size=4) if repeated else value
    cls = training_pb2.__dict__.get(descriptor.name) or type(training_pb2.LearningRecord())
    return st.fixed_dictionaries({}, optional=fields).map(lambda kw, cls=cls: cls(**kw))


async def _push(platform, who: Platform, frames: list[bytes]) -> grpc.StatusCode:
    async with grpc.aio.insecure_channel(platform.addresses["training"]) as channel:
        call = channel.stream_stream(METHOD, request_serializer=lambda b: b, response_deserializer=lambda b: b)(
            iter(frames), metadata=who.metadata(), timeout=10)
        try:
            async for _ in call:
                pass
        except grpc.aio.AioRpcError as error:
            return error.code()
    return grpc.StatusCode.OK


async def _stored(platform, who: Platform) -> int:
    response = await platform.client.get("/xapi/statements", headers=who.headers())
    assert response.status_code == 200, response.text
    return len(response.json()["statements"])


@pytest.mark.db
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(batches=st.lists(message_strategy(training_pb2.IngestLearningRecordsRequest.DESCRIPTOR), min_size=1,
                        max_size=3))
async def test_descriptor_driven_batches(platform, lrs_platform, batches):
    code = await _push(platform, lrs_platform, [b.SerializeToString() for b in batches])
    assert code in ALLOWED
    assert await _stored(platform, lrs_platform) == 0


@pytest.mark.db
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(frames=st.lists(st.binary(max_size=300), min_size=1, max_size=3))
async def test_raw_bytes(platform, lrs_platform, frames):
    code = await _push(platform, lrs_platform, frames)
    assert code in ALLOWED, code
    assert await _stored(platform, lrs_platform) == 0
