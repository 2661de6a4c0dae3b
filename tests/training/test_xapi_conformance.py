"""xAPI rules the ADL conformance suite checks that the first LRS cut missed: signed statements
(Data 2.6), the alternate request syntax (1.0.3 Communication 1.3), format=canonical with
Accept-Language and format=ids, activity definitions merged across statements, and the version a
response declares when the request names none."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from tests.training.lrs_support import COMPLETED, statement
from tests.training.test_xapi_attachments import BOUNDARY, multipart

SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
HASHES = {"RS256": hashes.SHA256, "RS384": hashes.SHA384, "RS512": hashes.SHA512}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jws(payload: bytes, alg: str = "RS256", *, key=KEY, extra_header: dict | None = None) -> bytes:
    header = _b64(json.dumps({"alg": alg, **(extra_header or {})}).encode())
    signing_input = f"{header}.{_b64(payload)}".encode()
    if alg in HASHES:
        signature = key.sign(signing_input, padding.PKCS1v15(), HASHES[alg]())
    else:
        signature = hashlib.sha256(b"secret" + signing_input).digest()  # an HMAC-like stand-in
    return signing_input + b"." + _b64(signature).encode()


def signed(sent: dict, token: bytes, content_type: str = "application/octet-stream") -> tuple[dict, bytes]:
    body = {**sent, "attachments": [{"usageType": SIGNATURE, "display": {"en-US": "signature"},
                                     "contentType": content_type, "length": len(token),
                                     "sha2": hashlib.sha256(token).hexdigest()}]}
    return body, multipart([body], [(content_type, token, hashlib.sha256(token).hexdigest())])


async def post_multipart(platform, who, body: bytes):
    headers = {**who.headers(), "Content-Type": f"multipart/mixed; boundary={BOUNDARY}"}
    return await platform.client.post("/xapi/statements", content=body, headers=headers)


@pytest.mark.parametrize("alg", ["RS256", "RS384", "RS512"])
async def test_a_signed_statement_is_stored(platform, lrs_platform, alg):
    sent = statement()
    _, payload = signed(sent, jws(json.dumps(sent).encode(), alg))
    response = await post_multipart(platform, lrs_platform, payload)
    assert response.status_code == 200, response.text
    got = await platform.client.get("/xapi/statements", params={"statementId": sent["id"]},
                                    headers=lrs_platform.headers())
    assert got.json()["attachments"][0]["usageType"] == SIGNATURE


async def test_bad_signatures_are_refused_and_nothing_is_stored(platform, lrs_platform):
    sent = statement()
    cases = {
        "text/plain signature": signed(sent, jws(json.dumps(sent).encode()), "text/plain")[1],
        "payload not JSON": signed(sent, jws(json.dumps(sent).replace('"', "'", 1).encode()))[1],
        "HS256": signed(sent, jws(json.dumps(sent).encode(), "HS256"))[1],
        "not a JWS": signed(sent, b"not-a-jws")[1],
        "other statement": signed(sent, jws(json.dumps({**sent, "verb": {"id": COMPLETED + "/x"}}).encode()))[1],
    }
    for case, payload in cases.items():
        response = await post_multipart(platform, lrs_platform, payload)
        assert response.status_code == 400, case
        assert "attachments[0]" in response.text, case
    got = await platform.client.get("/xapi/statements", params={"statementId": sent["id"]},
                                    headers=lrs_platform.headers())
    assert got.status_code == 404


async def test_a_signature_with_a_certificate_must_verify(platform, lrs_platform):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "platform.example.cn")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(KEY.public_key())
            .serial_number(1).not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
            .sign(KEY, hashes.SHA256()))
    x5c = [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]
    sent = statement()
    good = jws(json.dumps(sent).encode(), extra_header={"x5c": x5c})
    assert (await post_multipart(platform, lrs_platform, signed(sent, good)[1])).status_code == 200
    other = statement()
    forged = jws(json.dumps(other).encode(), key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
                 extra_header={"x5c": x5c})
    response = await post_multipart(platform, lrs_platform, signed(other, forged)[1])
    assert response.status_code == 400 and "does not verify" in response.text


# --- the alternate request syntax (1.0.3) ----------------------------------------------------------
def form_headers() -> dict[str, str]:
    return {"Content-Type": "application/x-www-form-urlencoded"}


async def test_alternate_syntax_get_and_put_issued_as_post(platform, lrs_platform):
    headers = {**lrs_platform.headers(), **form_headers()}
    listed = await platform.client.post("/xapi/statements?method=GET", content="limit=1", headers=headers)
    assert listed.status_code == 200, listed.text
    assert set(listed.json()) == {"statements", "more"} and len(listed.json()["statements"]) <= 1

    sent = statement()
    auth = lrs_platform.headers()
    form = urlencode({"statementId": sent["id"], "content": json.dumps(sent), "Authorization": auth["Authorization"],
                      "X-Experience-API-Version": "1.0.3"})
    put = await platform.client.post("/xapi/statements?method=PUT", content=form, headers=form_headers())
    assert put.status_code == 204, put.text
    got = await platform.client.get("/xapi/statements", params={"statementId": sent["id"]},
                                    headers=lrs_platform.headers())
    assert got.status_code == 200 and got.json()["id"] == sent["id"]


async def test_alternate_syntax_refusals(platform, lrs_platform):
    headers = {**lrs_platform.headers(), **form_headers()}
    sent = statement()
    content = urlencode({"statementId": sent["id"], "content": json.dumps(sent)})
    # anything in the query besides `method`
    extra = await platform.client.post(f"/xapi/statements?method=PUT&statementId={sent['id']}", content=content,
                                       headers=headers)
    assert extra.status_code == 400 and "method" in extra.text
    # not issued as a POST
    put = await platform.client.put("/xapi/statements?method=POST", content=content, headers=headers)
    assert put.status_code == 400
    # no content
    empty = await platform.client.post("/xapi/statements?method=PUT", content="", headers=headers)
    assert empty.status_code == 400 and "content" in empty.text
    # a body that is not form-encoded
    raw = await platform.client.post("/xapi/statements?method=PUT", content=json.dumps(sent),
                                     headers={**lrs_platform.headers(), "Content-Type": "application/json"})
    assert raw.status_code == 400 and "Content-Type" in raw.text
    # a header field in the form counts as the header: an unsupported version is refused
    old = urlencode({"statementId": sent["id"], "content": json.dumps(sent), "X-Experience-API-Version": "0.8"})
    assert (await platform.client.post("/xapi/statements?method=PUT", content=old, headers=headers)
            ).status_code == 400
    # xAPI 2.0.0 has no alternate syntax
    v2 = {**lrs_platform.headers("2.0.0"), **form_headers()}
    assert (await platform.client.post("/xapi/statements?method=PUT", content=content, headers=v2)
            ).status_code == 400
    got = await platform.client.get("/xapi/statements", params={"statementId": sent["id"]},
                                    headers=lrs_platform.headers())
    assert got.status_code == 404


# --- formats -----------------------------------------------------------------------------------
def multilingual() -> dict:
    activity = {"objectType": "Activity", "id": f"https://courses.example.cn/{uuid.uuid4().hex}",
                "definition": {"name": {"en-US": "meeting", "en-GB": "meeting (GB)", "zh-CN": "会议"},
                               "description": {"en-US": "a meeting", "en-GB": "a meeting (GB)"},
                               "type": "http://adlnet.gov/expapi/activities/meeting"}}
    sub = {"objectType": "SubStatement", "actor": {"objectType": "Agent", "mbox": "mailto:sub@example.cn"},
           "verb": {"id": COMPLETED, "display": {"en-US": "completed", "en-GB": "completed (GB)"}},
           "object": activity}
    body = statement(object=sub)
    body["verb"] = {"id": COMPLETED, "display": {"en-US": "did", "en-GB": "did (GB)"}}
    return body


@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
async def test_format_canonical_keeps_the_preferred_language(platform, lrs_platform, version):
    sent = multilingual()
    assert (await platform.client.post("/xapi/statements", json=sent, headers=lrs_platform.headers(version))
            ).status_code == 200
    headers = {**lrs_platform.headers(version), "Accept-Language": "en-GB, en;q=0.8"}
    one = await platform.client.get("/xapi/statements", params={"statementId": sent["id"], "format": "canonical"},
                                    headers=headers)
    body = one.json()
    assert body["verb"]["display"] == {"en-GB": "did (GB)"}
    assert body["object"]["verb"]["display"] == {"en-GB": "completed (GB)"}
    definition = body["object"]["object"]["definition"]
    assert definition == {"name": {"en-GB": "meeting (GB)"}, "description": {"en-GB": "a meeting (GB)"},
                          "type": "http://adlnet.gov/expapi/activities/meeting"}
    chinese = await platform.client.get("/xapi/statements", params={"statementId": sent["id"], "format": "canonical"},
                                        headers={**lrs_platform.headers(version), "Accept-Language": "zh"})
    assert chinese.json()["object"]["object"]["definition"]["name"] == {"zh-CN": "会议"}
    listed = await platform.client.get("/xapi/statements", params={"format": "canonical", "verb": COMPLETED},
                                       headers=headers)
    mine = [s for s in listed.json()["statements"] if s["id"] == sent["id"]]
    assert mine and mine[0]["verb"]["display"] == {"en-GB": "did (GB)"}
    exact = await platform.client.get("/xapi/statements", params={"statementId": sent["id"]}, headers=headers)
    assert exact.json()["verb"]["display"] == sent["verb"]["display"]


async def test_format_ids_reduces_activities_to_their_id(platform, lrs_platform):
    sent = multilingual()
    await platform.client.post("/xapi/statements", json=sent, headers=lrs_platform.headers())
    got = await platform.client.get("/xapi/statements", params={"statementId": sent["id"], "format": "ids"},
                                    headers=lrs_platform.headers())
    body = got.json()
    assert body["verb"] == {"id": COMPLETED} and body["object"]["verb"] == {"id": COMPLETED}
    assert body["object"]["object"] == {"id": sent["object"]["object"]["id"]}
    assert body["object"]["actor"] == {"objectType": "Agent", "mbox": "mailto:sub@example.cn"}


# --- activities --------------------------------------------------------------------------------
async def test_activity_definitions_are_merged_across_statements(platform, lrs_platform):
    activity = f"https://courses.example.cn/{uuid.uuid4().hex}"
    first = statement(activity=activity)
    first["object"]["definition"] = {"name": {"en-US": "example meeting"}, "type": "http://example.cn/t/1"}
    second = statement(activity=activity)
    second["object"]["definition"] = {"name": {"fr-FR": "réunion"}, "description": {"en-US": "held weekly"},
                                      "type": "http://example.cn/t/2"}
    response = await platform.client.post("/xapi/statements", json=[first, second], headers=lrs_platform.headers())
    assert response.status_code == 200, response.text
    got = await platform.client.get("/xapi/activities", params={"activityId": activity},
                                    headers=lrs_platform.headers())
    assert got.json() == {"objectType": "Activity", "id": activity, "definition": {
        "name": {"en-US": "example meeting", "fr-FR": "réunion"}, "description": {"en-US": "held weekly"},
        "type": "http://example.cn/t/2"}}
    unknown = f"https://courses.example.cn/{uuid.uuid4().hex}"
    bare = await platform.client.get("/xapi/activities", params={"activityId": unknown},
                                     headers=lrs_platform.headers())
    assert bare.json() == {"objectType": "Activity", "id": unknown}


# --- the version a response declares ------------------------------------------------------------
@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
async def test_a_request_without_version_is_answered_in_the_clients_version(platform, issuer, version):
    from tests.training.lrs_support import Platform

    # a token of its own, so the version it last declared is this test's
    who = Platform(issuer, tenant="110000")
    headers = who.headers(version)
    assert (await platform.client.get("/xapi/statements", params={"limit": "1"}, headers=headers)).status_code in (
        200, 403)
    del headers["X-Experience-API-Version"]
    response = await platform.client.get("/xapi/statements", headers=headers)
    assert response.status_code == 400
    assert response.headers["X-Experience-API-Version"] == version
    stranger = await platform.client.get("/xapi/statements", headers={"Authorization": "Bearer unknown"})
    assert stranger.headers["X-Experience-API-Version"] == "2.0.0"


async def test_content_sent_for_a_file_url_attachment_is_returned_with_it(platform, lrs_platform):
    content = b"here is a simple attachment"
    sha = hashlib.sha256(content).hexdigest()
    sent = statement(attachments=[{"usageType": "http://example.com/attachment-usage/test",
                                   "display": {"en-US": "A test attachment"}, "contentType": "text/plain",
                                   "length": len(content), "sha2": sha, "fileUrl": "http://over.there.com/file.txt"}])
    assert (await post_multipart(platform, lrs_platform, multipart([sent], [("text/plain", content, sha)]))
            ).status_code == 200
    got = await platform.client.get("/xapi/statements", params={"statementId": sent["id"], "attachments": "true"},
                                    headers=lrs_platform.headers())
    assert got.headers["content-type"].startswith("multipart/mixed") and content in got.content
    plain = await platform.client.get("/xapi/statements", params={"statementId": sent["id"], "attachments": "false"},
                                      headers=lrs_platform.headers())
    assert plain.headers["content-type"].startswith("application/json")


async def test_durations_compare_to_the_hundredth_of_a_second(platform, lrs_platform):
    signed_form = statement(result={"duration": "P1DT12H36M0.12S"})
    sent = {**signed_form, "result": {"duration": "P1DT12H36M0.1237S"}}
    _, payload = signed(sent, jws(json.dumps(signed_form).encode()))
    response = await post_multipart(platform, lrs_platform, payload)
    assert response.status_code == 200, response.text
    # a re-PUT that differs only beyond 0.01 s is the same statement; at 0.01 s it is a conflict
    again = statement(result={"duration": "PT1.501S"})
    url = f"/xapi/statements?statementId={again['id']}"
    assert (await platform.client.put(url, json=again, headers=lrs_platform.headers())).status_code == 204
    same = {**again, "result": {"duration": "PT1.5099S"}}
    assert (await platform.client.put(url, json=same, headers=lrs_platform.headers())).status_code == 204
    other = {**again, "result": {"duration": "PT1.51S"}}
    assert (await platform.client.put(url, json=other, headers=lrs_platform.headers())).status_code == 409
