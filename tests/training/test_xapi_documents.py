"""xAPI state, activity profile and agent profile documents: ETag concurrency (412 on a
mismatch, 409 on a blind overwrite of a profile), POST merges JSON, listing and deletes."""

from __future__ import annotations

import json
import uuid

from tests.training.lrs_support import learner


def state_params(**extra) -> dict:
    return {"activityId": f"https://courses.example.cn/{uuid.uuid4().hex}", "agent": json.dumps(learner()),
            "stateId": "bookmark", **extra}


async def test_state_put_get_merge_list_delete(platform, lrs_platform):
    params = state_params()
    headers = lrs_platform.headers()
    url = "/xapi/activities/state"
    put = await platform.client.put(url, params=params, json={"page": 3}, headers=headers)
    assert put.status_code == 204, put.text
    got = await platform.client.get(url, params=params, headers=headers)
    assert got.status_code == 200 and got.json() == {"page": 3} and got.headers["ETag"]
    merged = await platform.client.post(url, params=params, json={"score": 7}, headers=headers)
    assert merged.status_code == 204
    assert (await platform.client.get(url, params=params, headers=headers)).json() == {"page": 3, "score": 7}
    not_json = await platform.client.post(url, params=params, content=b"text", headers={
        **headers, "Content-Type": "text/plain"})
    assert not_json.status_code == 400
    listing_params = {k: v for k, v in params.items() if k != "stateId"}
    await platform.client.put(url, params={**params, "stateId": "other"}, content=b"raw", headers={
        **headers, "Content-Type": "application/octet-stream"})
    listed = await platform.client.get(url, params=listing_params, headers=headers)
    assert listed.status_code == 200 and sorted(listed.json()) == ["bookmark", "other"]
    assert (await platform.client.delete(url, params=params, headers=headers)).status_code == 204
    assert (await platform.client.get(url, params=params, headers=headers)).status_code == 404
    assert (await platform.client.delete(url, params=listing_params, headers=headers)).status_code == 204
    assert (await platform.client.get(url, params=listing_params, headers=headers)).json() == []
    bad = await platform.client.get(url, params={**params, "agent": "{}"}, headers=headers)
    assert bad.status_code == 400


async def test_profile_concurrency(platform, lrs_platform):
    url = "/xapi/activities/profile"
    params = {"activityId": f"https://courses.example.cn/{uuid.uuid4().hex}", "profileId": "settings"}
    headers = lrs_platform.headers("2.0.0")
    created = await platform.client.put(url, params=params, json={"v": 1},
                                        headers={**headers, "If-None-Match": "*"})
    assert created.status_code == 204, created.text
    etag = created.headers["ETag"]
    again = await platform.client.put(url, params=params, json={"v": 2}, headers={**headers, "If-None-Match": "*"})
    assert again.status_code == 412
    blind = await platform.client.put(url, params=params, json={"v": 2}, headers=headers)
    assert blind.status_code == 409
    stale = await platform.client.put(url, params=params, json={"v": 2}, headers={**headers, "If-Match": '"0000"'})
    assert stale.status_code == 412
    fresh = await platform.client.put(url, params=params, json={"v": 2}, headers={**headers, "If-Match": etag})
    assert fresh.status_code == 204
    got = await platform.client.get(url, params=params, headers=headers)
    assert got.json() == {"v": 2} and got.headers["ETag"] == fresh.headers["ETag"] != etag
    assert (await platform.client.delete(url, params=params, headers={**headers, "If-Match": etag})).status_code \
        == 412
    assert (await platform.client.delete(url, params=params, headers={**headers, "If-Match": fresh.headers["ETag"]})
            ).status_code == 204


async def test_agent_profile_and_scopes(platform, lrs_platform):
    url = "/xapi/agents/profile"
    params = {"agent": json.dumps(learner()), "profileId": "prefs"}
    blind = await platform.client.put(url, params=params, json={"lang": "zh-CN"}, headers=lrs_platform.headers())
    assert blind.status_code == 400  # a profile is written with a precondition, even the first time
    put = await platform.client.put(url, params=params, json={"lang": "zh-CN"},
                                    headers={**lrs_platform.headers(), "If-None-Match": "*"})
    assert put.status_code == 204
    ids = await platform.client.get(url, params={"agent": params["agent"]}, headers=lrs_platform.headers())
    assert ids.json() == ["prefs"]
    statements_only = lrs_platform.headers(scope="statements/write")
    assert (await platform.client.get(url, params=params, headers=statements_only)).status_code == 403
    read_only = lrs_platform.headers(scope="all/read")
    assert (await platform.client.get(url, params=params, headers=read_only)).status_code == 200
    assert (await platform.client.put(url, params=params, json={}, headers=read_only)).status_code == 403


async def test_state_overwrite_needs_a_precondition_in_2_0(platform, lrs_platform):
    params = state_params()
    url = "/xapi/activities/state"
    headers = lrs_platform.headers("2.0.0")
    assert (await platform.client.put(url, params=params, json={"a": 1}, headers=headers)).status_code == 204
    blind = await platform.client.put(url, params=params, json={"a": 2}, headers=headers)
    assert blind.status_code == 409
    old = await platform.client.put(url, params=params, json={"a": 2}, headers=lrs_platform.headers("1.0.3"))
    assert old.status_code == 204  # 1.0.3 states have no concurrency control
