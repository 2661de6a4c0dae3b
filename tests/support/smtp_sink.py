"""A minimal SMTP receiver on 127.0.0.1 (RFC 5321 subset: EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,
QUIT) with asyncio streams, so e-mail delivery is tested over a real socket without aiosmtpd.

``rcpt_replies`` lets a test script the answers to RCPT TO (e.g. ``["451 try later"]``): each
RCPT takes the next scripted reply, then ``250 OK`` once the script is used up.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from dataclasses import dataclass, field
from email.message import EmailMessage


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class SmtpSink:
    host: str = "127.0.0.1"
    port: int = 0
    messages: list[Received] = field(default_factory=list)
    rcpt_replies: list[str] = field(default_factory=list)
    connections: int = 0
    _server: asyncio.base_events.Server | None = None

    async def __aenter__(self) -> SmtpSink:
        self._server = await asyncio.start_server(self._session, self.host, 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()
        await self._server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1

        async def reply(line: str) -> None:
            writer.write(line.encode("ascii") + b"\r\n")
            await writer.drain()

        sender, recipients = "", []
        await reply("220 sink ESMTP")
        try:
            while line := await reader.readline():
                command = line.decode("utf-8", "replace").rstrip("\r\n")
                verb = command.split(" ", 1)[0].upper()
                if verb == "EHLO":
                    await reply("250-sink")
                    await reply("250 8BITMIME")
                elif verb == "HELO":
                    await reply("250 sink")
                elif verb == "MAIL":
                    sender, recipients = command.split(":", 1)[1].strip().strip("<>").split(">")[0], []
                    await reply("250 OK")
                elif verb == "RCPT":
                    answer = self.rcpt_replies.pop(0) if self.rcpt_replies else "250 OK"
                    if answer.startswith("2"):
                        recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                    await reply(answer)
                elif verb == "DATA":
                    await reply("354 end with <CRLF>.<CRLF>")
                    data = bytearray()
                    while (chunk := await reader.readline()) not in (b".\r\n", b""):
                        data += chunk[1:] if chunk.startswith(b"..") else chunk
                    message = email.message_from_bytes(bytes(data), policy=email.policy.default)
                    self.messages.append(Received(sender, recipients, message))
                    await reply("250 queued")
                elif verb in ("RSET", "NOOP"):
                    await reply("250 OK")
                elif verb == "QUIT":
                    await reply("221 bye")
                    break
                else:
                    await reply("502 not implemented")
        finally:
            writer.close()
