"""A platform's ingestion client as a third party would write it: one batch in flight, wait for
its ack, replay the unacknowledged batch on a broken stream (ids make the replay harmless)."""

from __future__ import annotations

import asyncio
import json

import grpc
from prevention.training.v1 import training_pb2, training_pb2_grpc


def batch_request(number: int, statements: list) -> training_pb2.IngestLearningRecordsRequest:
    return training_pb2.IngestLearningRecordsRequest(batch_number=number, records=[
        training_pb2.LearningRecord(statement_json=s if isinstance(s, str) else json.dumps(s)) for s in statements])


class IngestClient:
    def __init__(self, address: str, metadata, *, timeout: float = 30.0, max_attempts: int = 20):
        self.address, self.metadata, self.timeout, self.max_attempts = address, metadata, timeout, max_attempts
        self.reconnects = 0

    async def send(self, batches: list[list]) -> list[training_pb2.IngestLearningRecordsResponse]:
        """Sends every batch; returns one ack per batch (the last ack when a batch was replayed)."""
        acks: dict[int, training_pb2.IngestLearningRecordsResponse] = {}
        attempts = 0
        while len(acks) < len(batches):
            attempts += 1
            if attempts > self.max_attempts:
                raise RuntimeError("too many reconnects")
            try:
                async with grpc.aio.insecure_channel(self.address) as channel:
                    stub = training_pb2_grpc.TrainingServiceStub(channel)
                    call = stub.IngestLearningRecords(metadata=self.metadata, timeout=self.timeout)
                    for number in range(len(acks), len(batches)):
                        await call.write(batch_request(number, batches[number]))
                        ack = await call.read()  # back-pressure: the next batch waits for this ack
                        if ack is grpc.aio.EOF:
                            raise ConnectionError("stream closed before the ack")
                        acks[number] = ack
                    await call.done_writing()
            except (grpc.aio.AioRpcError, ConnectionError, asyncio.IncompleteReadError) as error:
                if isinstance(error, grpc.aio.AioRpcError) and error.code() not in (
                        grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED, grpc.StatusCode.UNKNOWN,
                        grpc.StatusCode.INTERNAL, grpc.StatusCode.DEADLINE_EXCEEDED):
                    raise
                self.reconnects += 1
        return [acks[n] for n in range(len(batches))]
