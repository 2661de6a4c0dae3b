"""Joint meetings (SPEC SH-6): participants, minutes, resolutions as action items; PO and DL of
the tenant only."""

from __future__ import annotations

import uuid

from tests.gateway.helpers import assert_problem, bearer

TENANT = "150000"  # Inner Mongolia: no other test writes meetings there
PO = {"tenant": TENANT, "roles": ("provincial_operator",)}


def org() -> str:
    return f"organisations/{uuid.uuid4().hex}"


def meeting(**overrides) -> dict:
    body = {"title": f"Joint prevention meeting {uuid.uuid4().hex[:8]}", "meeting_date": "2025-05-10",
            "location": "Hohhot", "participants": [org(), org()], "minutes": "",
            "action_items": []}
    body.update(overrides)
    return body


async def test_meeting_minutes_and_action_items(platform, issuer):
    health, emergency = org(), org()
    created = await platform.client.post("/v1/joint-meetings", json=meeting(participants=[health, emergency]),
                                         headers=bearer(issuer, **PO))
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["tenant_code"] == TENANT and sorted(item["participants"]) == sorted([health, emergency])
    url = f"/v1/joint-meetings/{item['id']}"

    liaison = bearer(issuer, tenant=TENANT, roles=("department_liaison",), org=uuid.uuid4().hex)
    minutes = {"minutes": "Inspect all construction sites before the rainy season.",
               "action_items": [{"description": "inspect scaffolding", "owner": emergency, "due_date": "2025-06-30"},
                                {"description": "screen dust exposure", "owner": health, "due_date": "2025-07-15"}]}
    recorded = await platform.client.post(f"{url}/minutes", json=minutes, headers=liaison)
    assert recorded.status_code == 200, recorded.text
    assert recorded.json()["minutes"] == minutes["minutes"]
    assert [(a["owner"], a["due_date"]) for a in recorded.json()["action_items"]] == [
        (emergency, "2025-06-30"), (health, "2025-07-15")]

    got = await platform.client.get(url, headers=bearer(issuer, **PO))
    assert got.status_code == 200 and got.json()["action_items"] == recorded.json()["action_items"]
    listed = (await platform.client.get("/v1/joint-meetings", params={"page_size": 100}, headers=liaison)).json()
    assert item["id"] in [m["id"] for m in listed["joint_meetings"]]


async def test_other_tenants_and_roles_do_not_see_meetings(platform, issuer):
    item = (await platform.client.post("/v1/joint-meetings", json=meeting(), headers=bearer(issuer, **PO))).json()
    url = f"/v1/joint-meetings/{item['id']}"
    other = bearer(issuer, tenant="110000", roles=("provincial_operator",))
    assert_problem(await platform.client.get(url, headers=other), 404)
    assert_problem(await platform.client.post(f"{url}/minutes", json={"minutes": "x"}, headers=other), 404)
    listed = (await platform.client.get("/v1/joint-meetings", params={"page_size": 100}, headers=other)).json()
    assert item["id"] not in [m["id"] for m in listed["joint_meetings"]]
    assert_problem(await platform.client.get(url, headers=bearer(issuer, tenant="100000",
                                                                 roles=("ministry_operator",))), 403)
    eo = bearer(issuer, tenant=TENANT, roles=("employer_officer",), org=uuid.uuid4().hex)
    assert_problem(await platform.client.post("/v1/joint-meetings", json=meeting(), headers=eo), 403)


async def test_validation_errors_name_fields(platform, issuer):
    bad = meeting(title="", participants=[], action_items=[{"description": "x", "owner": "nobody",
                                                            "due_date": "2025-13-01"}])
    problem = assert_problem(await platform.client.post("/v1/joint-meetings", json=bad,
                                                        headers=bearer(issuer, **PO)), 400)
    fields = {v["field"] for v in problem["violations"]}
    assert {"title", "participants"} <= fields, problem
    # Rules the service checks (patterns, calendar dates) name the field too.
    bad = meeting(meeting_date="2025-02-30", action_items=[{"description": "x", "owner": "nobody",
                                                            "due_date": "2025-06-31"}])
    problem = assert_problem(await platform.client.post("/v1/joint-meetings", json=bad,
                                                        headers=bearer(issuer, **PO)), 400)
    assert sorted(v["field"] for v in problem["violations"]) == [
        "joint_meeting.action_items[0].due_date", "joint_meeting.action_items[0].owner",
        "joint_meeting.meeting_date"], problem
