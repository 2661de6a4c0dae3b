"""Atheris fuzz target for the learning-record ingest (RELIABILITY S14), run in-process.

Each input becomes the frames of one IngestLearningRecords stream: either raw bytes through the
service's tolerant decoder (what grpc hands the handler), or a message built field by field from
the input so mutations reach the statement JSON validator quickly. The stream is driven through
the servicer's real ingest loop with a recommended platform's caller; only the database write is
replaced by a recorder. A crash (atheris exits non-zero with the input) is any of:

- an exception escaping other than INVALID_ARGUMENT (anything else would be INTERNAL or worse);
- the decoder raising instead of answering UNDECODABLE;
- a record neither refused in its batch's ack nor passed to the store, or counted twice;
- a record reaching the store that the statement validator does not accept (hostile input is
  never stored).

Run by tests/training/test_ingest_atheris.py (marker ``fuzz``):
    python tests/training/fuzz_ingest_atheris.py -max_total_time=60 -artifact_prefix=DIR/ CORPUS_DIR
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import atheris

# Heavy dependencies first, outside the instrumentation: only our own code is instrumented.
import google.protobuf.message  # noqa: F401
import grpc  # noqa: F401
import sqlalchemy  # noqa: F401

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

with atheris.instrument_imports(include=["services"]):
    from services.common.context import Caller, caller_var
    from services.common.errors import DomainError
    from services.training import rpc_lrs
    from services.training.lrs import statements as st
    from services.training.lrs import store

from prevention.training.v1 import training_pb2

CALLER = Caller(subject="svc-fuzz", tenant="110000", roles=frozenset({"training_platform"}),
                client_id="fuzz-platform")
MAX_FRAMES = 4
MAX_RECORDS = 8


class Recorder(rpc_lrs.LearningRecordRpcs):
    """The real ingest loop; the write is recorded instead of committed."""

    def __init__(self) -> None:
        self.db = None
        self.may_push = None
        self.object_store = None
        self.written: list[st.Prepared] = []

    async def _write(self, caller, prepared):
        self.written.extend(prepared)
        return [store.Outcome(store.STORED, p.statement_id) for p in prepared]


def _frames(data: bytes) -> list[bytes]:
    """The first byte picks the shape; the rest is split so that seeds stay readable and
    mutations of a statement stay statements: frames on a blank line, records on a newline."""
    if not data:
        return [b""]
    body = data[1:]
    if data[0] % 2 == 0:  # raw bytes: the wire as a hostile client sends it
        return body.split(b"\x00\xff")[:MAX_FRAMES]
    frames = []
    for number, chunk in enumerate(body.split(b"\n\n")[:MAX_FRAMES]):
        batch = training_pb2.IngestLearningRecordsRequest(batch_number=number + data[0])
        for line in chunk.split(b"\n")[:MAX_RECORDS]:
            batch.records.add(statement_json=line.decode("utf-8", "replace"))
        frames.append(batch.SerializeToString())
    return frames


async def _drive(frames: list[bytes]) -> None:
    decoded = [rpc_lrs._tolerant(frame) for frame in frames]  # must never raise
    servicer = Recorder()

    async def stream():
        for message in decoded:
            yield message

    acks: list[training_pb2.IngestLearningRecordsResponse] = []
    refused = False
    try:
        async for ack in servicer._ingest(stream()):
            acks.append(ack)
    except DomainError as error:
        if error.code != "INVALID_ARGUMENT":
            raise AssertionError(f"ingest answered {error.code}, not INVALID_ARGUMENT") from error
        refused = True
    for message, ack in zip(decoded, acks, strict=False):
        assert message is not rpc_lrs.UNDECODABLE, "an undecodable frame was acknowledged"
        indexes = [e.index for e in ack.errors]
        assert len(indexes) == len(set(indexes)), "a record refused twice"
        assert ack.stored + len(indexes) == len(message.records), "a record neither stored nor refused"
        assert ack.batch_number == message.batch_number
    if not refused:
        assert len(acks) == len(decoded), "a batch without an ack"
    for prepared in servicer.written:
        st.validate(prepared.statement)  # raises (a crash) if an invalid statement reached the store


def main() -> None:
    loop = asyncio.new_event_loop()
    caller_var.set(CALLER)

    def one_input(data: bytes) -> None:
        loop.run_until_complete(_drive(_frames(data)))

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
