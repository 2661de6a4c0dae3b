"""A loopback TCP proxy that drops replies (RELIABILITY R2): it forwards the client's bytes to the
server untouched, and on each of its first ``faulty_connections`` connections cuts both sides
once the server has sent a chosen number of bytes back — so a request the server committed loses
its reply, and the client must replay it."""

from __future__ import annotations

import asyncio
import contextlib
import random


class ReplyDroppingProxy:
    def __init__(self, target: str, *, faulty_connections: int, min_reply_bytes: int = 40,
                 max_reply_bytes: int = 400, seed: int = 5):
        self.target_host, port = target.rsplit(":", 1)
        self.target_port = int(port)
        self.faulty_connections = faulty_connections
        self.min_reply_bytes, self.max_reply_bytes = min_reply_bytes, max_reply_bytes
        self.random = random.Random(seed)
        self.connections = 0
        self.dropped = 0
        self.server: asyncio.AbstractServer | None = None
        self.address = ""
        self._tasks: set[asyncio.Task] = set()

    async def __aenter__(self) -> ReplyDroppingProxy:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.address = f"127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc) -> None:
        self.server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.server.wait_closed()

    async def _handle(self, client_reader, client_writer) -> None:
        self.connections += 1
        budget = (self.random.randint(self.min_reply_bytes, self.max_reply_bytes)
                  if self.connections <= self.faulty_connections else None)
        server_reader, server_writer = await asyncio.open_connection(self.target_host, self.target_port)
        cut = asyncio.Event()

        async def pump(reader, writer, limit: int | None) -> None:
            sent = 0
            try:
                while not cut.is_set():
                    data = await reader.read(65536)
                    if not data:
                        break
                    if limit is not None and sent + len(data) > limit:
                        writer.write(data[: max(limit - sent, 0)])
                        self.dropped += 1
                        break
                    sent += len(data)
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                cut.set()
                for w in (client_writer, server_writer):
                    with contextlib.suppress(Exception):
                        w.transport.abort()

        tasks = [asyncio.create_task(pump(client_reader, server_writer, None)),
                 asyncio.create_task(pump(server_reader, client_writer, budget))]
        self._tasks.update(tasks)
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.difference_update(tasks)
