"""A fault-injecting TCP proxy on loopback for gRPC (RELIABILITY R2).

It forwards bytes both ways between a client and a real server and can cut a connection at the
moment the server sends a reply message: it reads the server-to-client direction as HTTP/2 frames
(9-byte headers; no HPACK needed) and, when armed, closes both sides instead of forwarding the first
DATA frame on a request stream (stream id > 0): the response message. By then the server's handler has run and
committed; the client sees UNAVAILABLE and never learns the outcome, which is the case a retry with
the same idempotency key must survive.

Usage::

    async with FaultProxy("127.0.0.1", port) as proxy:
        proxy.drop_replies(1)          # the next reply is lost
        channel = grpc.aio.insecure_channel(proxy.address)
"""

from __future__ import annotations

import asyncio
import contextlib

_FRAME_HEADER = 9
_DATA = 0x0


class FaultProxy:
    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self._server: asyncio.base_events.Server | None = None
        self._to_drop = 0
        self.dropped = 0
        self.connections = 0
        self._tasks: set[asyncio.Task] = set()

    @property
    def address(self) -> str:
        assert self._server is not None, "start the proxy first"
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"{host}:{port}"

    def drop_replies(self, count: int = 1) -> None:
        """Cut the connection instead of forwarding each of the next ``count`` replies."""
        self._to_drop += count

    async def __aenter__(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *exc) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self._server.wait_closed()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.close()
            return
        upstream = asyncio.create_task(self._pump(client_reader, server_writer))
        downstream = asyncio.create_task(self._replies(server_reader, client_writer))
        self._tasks |= {upstream, downstream}
        try:
            await asyncio.wait({upstream, downstream}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (upstream, downstream):
                task.cancel()
                self._tasks.discard(task)
            for writer in (client_writer, server_writer):
                writer.close()

    @staticmethod
    async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()

    async def _replies(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Server to client, frame by frame, cutting the connection at an armed reply."""
        while True:
            header = await reader.readexactly(_FRAME_HEADER)
            length = int.from_bytes(header[0:3], "big")
            frame_type = header[3]
            stream_id = int.from_bytes(header[5:9], "big") & 0x7FFFFFFF
            payload = await reader.readexactly(length)
            if stream_id and frame_type == _DATA and self._to_drop:
                self._to_drop -= 1
                self.dropped += 1
                return  # _accept closes both sides: the reply is lost
            writer.write(header + payload)
            await writer.drain()
