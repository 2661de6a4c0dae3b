"""The xAPI LRS at /xapi: statements (SPEC TR-3, GW-4) — versions, auth and scopes, conflicts,
voiding, `more` paging, filters, citizen IDs refused."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.training.lrs_support import (
    COMPLETED,
    EXPERIENCED,
    VOIDED,
    Platform,
    citizen_id,
    learner,
    statement,
)


async def post(platform, who: Platform, body, version: str = "1.0.3"):
    return await platform.client.post("/xapi/statements", json=body, headers=who.headers(version))


async def get(platform, who: Platform, version: str = "1.0.3", **params):
    return await platform.client.get("/xapi/statements", params=params, headers=who.headers(version))


async def test_about_is_public_and_lists_both_versions(platform):
    response = await platform.client.get("/xapi/about")
    assert response.status_code == 200
    assert set(response.json()["version"]) >= {"1.0.3", "2.0.0"}


@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
async def test_post_get_and_version_header(platform, lrs_platform, version):
    sent = statement()
    response = await post(platform, lrs_platform, sent, version)
    assert response.status_code == 200, response.text
    assert response.json() == [sent["id"]]
    assert response.headers["X-Experience-API-Version"] == version
    got = await get(platform, lrs_platform, version, statementId=sent["id"])
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["id"] == sent["id"] and body["verb"]["id"] == COMPLETED and body["actor"] == sent["actor"]
    assert "stored" in body and "authority" in body and "timestamp" in body
    assert got.headers["X-Experience-API-Consistent-Through"]
    assert got.headers["Last-Modified"]


async def test_version_header_is_required_and_checked(platform, lrs_platform):
    headers = lrs_platform.headers()
    del headers["X-Experience-API-Version"]
    response = await platform.client.get("/xapi/statements", headers=headers)
    assert response.status_code == 400
    response = await platform.client.get("/xapi/statements", headers={**headers, "X-Experience-API-Version": "0.95"})
    assert response.status_code == 400


async def test_authentication_and_scopes(platform, issuer, lrs_platform):
    response = await platform.client.get("/xapi/statements", headers={"X-Experience-API-Version": "1.0.3"})
    assert response.status_code == 401
    response = await platform.client.get("/xapi/statements", headers={
        "X-Experience-API-Version": "1.0.3", "Authorization": "Basic bm90OmF2YWxpZGNsaWVudA=="})
    assert response.status_code == 401
    read_only = lrs_platform.headers(scope="all/read")
    assert (await platform.client.post("/xapi/statements", json=statement(), headers=read_only)).status_code == 403
    assert (await platform.client.get("/xapi/statements", headers=read_only)).status_code == 200
    no_xapi = lrs_platform.headers(scope="openid")
    assert (await platform.client.get("/xapi/statements", headers=no_xapi)).status_code == 403
    trainee = {"Authorization": f"Bearer {issuer.token(tenant='110000', roles=['trainee'], scope='all')}",
               "X-Experience-API-Version": "1.0.3"}
    assert (await platform.client.get("/xapi/statements", headers=trainee)).status_code == 403


async def test_a_platform_not_on_the_recommended_list_is_refused(platform, issuer, recommended_list):
    stranger = Platform(issuer)
    response = await post(platform, stranger, statement())
    assert response.status_code == 403, response.text
    assert response.json()["reason"] == "PLATFORM_NOT_RECOMMENDED"


async def test_put_replay_and_conflict(platform, lrs_platform):
    sent = statement()
    url = "/xapi/statements"
    headers = lrs_platform.headers()
    first = await platform.client.put(url, params={"statementId": sent["id"]}, json=sent, headers=headers)
    assert first.status_code == 204, first.text
    again = await platform.client.put(url, params={"statementId": sent["id"]}, json=sent, headers=headers)
    assert again.status_code == 204, again.text
    changed = {**sent, "verb": {"id": EXPERIENCED}}
    conflict = await platform.client.put(url, params={"statementId": sent["id"]}, json=changed, headers=headers)
    assert conflict.status_code == 409, conflict.text
    assert (await post(platform, lrs_platform, [changed])).status_code == 409
    missing = await platform.client.put(url, json=sent, headers=headers)
    assert missing.status_code == 400
    stored = await get(platform, lrs_platform, statementId=sent["id"])
    assert stored.json()["verb"]["id"] == COMPLETED


async def test_invalid_statements_name_the_field_and_store_nothing(platform, lrs_platform):
    good, bad = statement(), statement(verb="not an iri")
    response = await post(platform, lrs_platform, [good, bad])
    assert response.status_code == 400
    fields = [v["field"] for v in response.json()["violations"]]
    assert "statements[1].verb.id" in fields
    assert (await get(platform, lrs_platform, statementId=good["id"])).status_code == 404
    two_ifis = statement(actor={"mbox": "mailto:a@example.cn", "account": {"homePage": "https://x.cn", "name": "a"}})
    assert (await post(platform, lrs_platform, two_ifis)).status_code == 400


async def test_a_citizen_id_is_never_stored(platform, lrs_platform):
    number = citizen_id()
    for actor in (learner(number), {"name": f"Zhang {number}", "mbox": "mailto:z@example.cn"}):
        sent = statement(actor=actor)
        response = await post(platform, lrs_platform, sent)
        assert response.status_code == 400, response.text
        assert number not in response.text
        assert any(v["field"].startswith("statement.actor") for v in response.json()["violations"])
        assert (await get(platform, lrs_platform, statementId=sent["id"])).status_code == 404


async def test_voiding_rules(platform, lrs_platform):
    target = statement()
    await post(platform, lrs_platform, target)
    void = statement(verb=VOIDED, object={"objectType": "StatementRef", "id": target["id"]})
    response = await post(platform, lrs_platform, void)
    assert response.status_code == 200, response.text
    assert (await get(platform, lrs_platform, statementId=target["id"])).status_code == 404
    voided = await get(platform, lrs_platform, voidedStatementId=target["id"])
    assert voided.status_code == 200 and voided.json()["id"] == target["id"]
    assert (await get(platform, lrs_platform, voidedStatementId=void["id"])).status_code == 404
    listed = [s["id"] for s in (await get(platform, lrs_platform)).json()["statements"]]
    assert void["id"] in listed and target["id"] not in listed
    # a voiding statement cannot itself be voided; a voiding statement needs a StatementRef
    again = statement(verb=VOIDED, object={"objectType": "StatementRef", "id": void["id"]})
    assert (await post(platform, lrs_platform, again)).status_code == 400
    assert (await post(platform, lrs_platform, statement(verb=VOIDED))).status_code == 400


async def test_more_paging_through_1000_statements(platform, lrs_platform):
    sent = [statement(verb=EXPERIENCED) for _ in range(1000)]
    for start in range(0, 1000, 250):
        response = await post(platform, lrs_platform, sent[start:start + 250])
        assert response.status_code == 200, response.text
    seen: list[str] = []
    response = await get(platform, lrs_platform, limit="150")
    pages = 0
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        seen += [s["id"] for s in body["statements"]]
        pages += 1
        if not body["more"]:
            break
        assert body["more"].startswith("/xapi/statements?")
        response = await platform.client.get(body["more"], headers=lrs_platform.headers())
    assert pages == 7
    assert len(seen) == len(set(seen)) == 1000
    assert set(seen) == {s["id"] for s in sent}
    ascending = (await get(platform, lrs_platform, limit="5", ascending="true")).json()["statements"]
    assert [s["id"] for s in ascending] == [s["id"] for s in sent[:5]]


async def test_query_filters(platform, lrs_platform):
    registration = str(uuid.uuid4())
    alice, bob = learner(), learner()
    course = f"https://courses.example.cn/{uuid.uuid4().hex}"
    parent = f"https://programmes.example.cn/{uuid.uuid4().hex}"
    first = statement(actor=alice, activity=course, context={"registration": registration})
    second = statement(actor=bob, verb=EXPERIENCED,
                       context={"contextActivities": {"parent": [{"id": parent}]}, "instructor": alice})
    await post(platform, lrs_platform, [first, second])

    async def ids(**params):
        response = await get(platform, lrs_platform, **params)
        assert response.status_code == 200, response.text
        return {s["id"] for s in response.json()["statements"]}

    assert await ids(agent=json.dumps(alice)) == {first["id"]}
    assert await ids(agent=json.dumps(alice), related_agents="true") == {first["id"], second["id"]}
    assert await ids(verb=EXPERIENCED) == {second["id"]}
    assert await ids(activity=course) == {first["id"]}
    assert await ids(activity=parent) == set()
    assert await ids(activity=parent, related_activities="true") == {second["id"]}
    assert await ids(registration=registration) == {first["id"]}
    stored = (await get(platform, lrs_platform, statementId=first["id"])).json()["stored"]
    assert first["id"] not in await ids(since=stored)
    assert first["id"] in await ids(until=stored)
    compact = (await get(platform, lrs_platform, format="ids", statementId=second["id"])).json()
    assert compact["verb"] == {"id": EXPERIENCED} and "display" not in compact["verb"]
    assert (await get(platform, lrs_platform, agent="{not json")).status_code == 400
    assert (await get(platform, lrs_platform, unknown="1")).status_code == 400
    assert (await get(platform, lrs_platform, statementId=first["id"], verb=COMPLETED)).status_code == 400


async def test_agents_and_activities_resources(platform, lrs_platform):
    activity = f"https://courses.example.cn/{uuid.uuid4().hex}"
    defined = statement(activity=activity)
    defined["object"]["definition"] = {"name": {"en-US": "Hazard awareness"}}
    await post(platform, lrs_platform, defined)
    response = await platform.client.get("/xapi/activities", params={"activityId": activity},
                                         headers=lrs_platform.headers())
    assert response.status_code == 200 and response.json()["definition"]["name"]["en-US"] == "Hazard awareness"
    person = await platform.client.get("/xapi/agents", params={"agent": json.dumps(learner("u1"))},
                                       headers=lrs_platform.headers())
    assert person.status_code == 200
    assert person.json()["objectType"] == "Person" and person.json()["account"][0]["name"] == "u1"


async def test_http_basic_uses_the_api_clients_token(platform, lrs_platform):
    """Basic credentials are exchanged once for the client's token (cached until near expiry);
    end to end against the identity issuer this runs in the conformance setup (README)."""
    import base64
    import hashlib
    import time

    secret = "s3cret-" + uuid.uuid4().hex
    cache = platform.app.state.__dict__.setdefault("xapi_tokens", {})
    cache[hashlib.sha256(f"{lrs_platform.client_id}:{secret}".encode()).hexdigest()] = (
        lrs_platform.token(), time.monotonic() + 60)
    basic = base64.b64encode(f"{lrs_platform.client_id}:{secret}".encode()).decode()
    headers = {"Authorization": f"Basic {basic}", "X-Experience-API-Version": "1.0.3"}
    sent = statement()
    assert (await platform.client.post("/xapi/statements", json=sent, headers=headers)).status_code == 200
    got = await platform.client.get("/xapi/statements", params={"statementId": sent["id"]}, headers=headers)
    assert got.status_code == 200 and got.json()["authority"]["account"]["name"] == lrs_platform.client_id
    malformed = {**headers, "Authorization": "Basic %%%"}
    assert (await platform.client.get("/xapi/statements", headers=malformed)).status_code == 401


async def test_filters_match_statements_that_target_a_match(platform, lrs_platform):
    target = statement(verb=EXPERIENCED)
    referring = statement(verb=COMPLETED, object={"objectType": "StatementRef", "id": target["id"]})
    single = statement(context={"contextActivities": {"parent": {"id": "https://programmes.example.cn/p"}}})
    await post(platform, lrs_platform, [target, referring, single])
    response = await get(platform, lrs_platform, verb=EXPERIENCED)
    assert {s["id"] for s in response.json()["statements"]} == {target["id"], referring["id"]}
    stored = (await get(platform, lrs_platform, statementId=single["id"])).json()
    assert isinstance(stored["context"]["contextActivities"]["parent"], list)
    head = await platform.client.head("/xapi/statements", headers=lrs_platform.headers())
    assert head.status_code == 200 and head.headers["X-Experience-API-Consistent-Through"]
    error = await get(platform, lrs_platform, statementId=target["id"], verb=COMPLETED)
    assert error.status_code == 400 and error.headers["X-Experience-API-Consistent-Through"]
