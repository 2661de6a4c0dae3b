"""Statement attachments as multipart/mixed (xAPI; RELIABILITY D5): the part's SHA-256 must be
the declared sha2, contents live in object storage, GET attachments=true returns them."""

from __future__ import annotations

import hashlib
import json

from tests.training.lrs_support import statement

BOUNDARY = "abcABC0123"


def multipart(statements, parts: list[tuple[str, bytes, str]]) -> bytes:
    chunks = [f"--{BOUNDARY}\r\nContent-Type: application/json\r\n\r\n".encode(), json.dumps(statements).encode(),
              b"\r\n"]
    for content_type, content, sha in parts:
        chunks += [f"--{BOUNDARY}\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\n"
                   f"X-Experience-API-Hash: {sha}\r\n\r\n".encode(), content, b"\r\n"]
    chunks.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(chunks)


def with_attachment(content: bytes) -> dict:
    return statement(attachments=[{
        "usageType": "http://id.tincanapi.com/attachment/certificate-of-completion",
        "display": {"en-US": "certificate"},
        "contentType": "text/plain", "length": len(content),
        "sha2": hashlib.sha256(content).hexdigest()}])


async def test_attachment_round_trip(platform, lrs_platform):
    content = bytes(range(256)) * 4 + b"\r\n--not-a-boundary\r\n"
    sent = with_attachment(content)
    headers = {**lrs_platform.headers(), "Content-Type": f"multipart/mixed; boundary={BOUNDARY}"}
    body = multipart([sent], [("text/plain", content, hashlib.sha256(content).hexdigest())])
    response = await platform.client.post("/xapi/statements", content=body, headers=headers)
    assert response.status_code == 200, response.text
    got = await platform.client.get("/xapi/statements", params={"statementId": sent["id"], "attachments": "true"},
                                    headers=lrs_platform.headers())
    assert got.status_code == 200
    media = got.headers["content-type"]
    assert media.startswith("multipart/mixed")
    boundary = media.split("boundary=")[1].encode()
    parts = got.content.split(b"--" + boundary)
    assert json.loads(parts[1].split(b"\r\n\r\n", 1)[1].strip())["id"] == sent["id"]
    head, payload = parts[2].split(b"\r\n\r\n", 1)
    assert hashlib.sha256(content).hexdigest().encode() in head and b"Content-Type: text/plain" in head
    assert payload.removesuffix(b"\r\n") == content


async def test_wrong_hash_or_missing_part_is_refused(platform, lrs_platform):
    content = b"signed certificate"
    sent = with_attachment(content)
    headers = {**lrs_platform.headers(), "Content-Type": f"multipart/mixed; boundary={BOUNDARY}"}
    wrong = multipart([sent], [("application/octet-stream", b"tampered", hashlib.sha256(content).hexdigest())])
    assert (await platform.client.post("/xapi/statements", content=wrong, headers=headers)).status_code == 400
    missing = await platform.client.post("/xapi/statements", json=sent, headers=lrs_platform.headers())
    assert missing.status_code == 400
    got = await platform.client.get("/xapi/statements", params={"statementId": sent["id"]},
                                    headers=lrs_platform.headers())
    assert got.status_code == 404
    with_url = statement(attachments=[{**sent["attachments"][0], "fileUrl": "https://files.example.cn/c.pdf"}])
    assert (await platform.client.post("/xapi/statements", json=with_url, headers=lrs_platform.headers())
            ).status_code == 200


async def test_a_part_may_carry_an_attachment_that_has_a_file_url(platform, lrs_platform):
    content = b"also served elsewhere"
    sent = with_attachment(content)
    sent["attachments"][0]["fileUrl"] = "https://files.example.cn/also.txt"
    headers = {**lrs_platform.headers(), "Content-Type": f"multipart/mixed; boundary={BOUNDARY}"}
    body = multipart([sent], [("text/plain", content, hashlib.sha256(content).hexdigest())])
    assert (await platform.client.post("/xapi/statements", content=body, headers=headers)).status_code == 200
    stray = multipart([statement()], [("text/plain", content, hashlib.sha256(content).hexdigest())])
    assert (await platform.client.post("/xapi/statements", content=stray, headers=headers)).status_code == 400
