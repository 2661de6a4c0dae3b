"""Joint inspections (SPEC SH-6): participating departments, inspected employers, findings; a
finding raises a rectification notice (once). PO and DL of the tenant only."""

from __future__ import annotations

from datetime import timedelta

from tests.gateway.helpers import assert_problem, bearer
from tests.sharing.rectification_support import TENANT, dl, eo, org, po, today_cst

URL = "/v1/joint-inspections"


def inspection(employers: list[str], **overrides) -> dict:
    body = {"title": "Joint dust inspection", "inspection_date": "2026-11-20", "participants": [org(), org()],
            "employers": employers,
            "findings": [{"employer": employers[0], "description": "Dust extraction switched off in the sanding shop.",
                          "required_action": "Repair and run the dust extraction.",
                          "law": "occupational_disease_prevention_law"},
                         {"employer": employers[-1], "description": "Guardrail missing on the mezzanine."}]}
    body.update(overrides)
    return body


async def create(platform, issuer, body: dict, headers=None) -> dict:
    response = await platform.client.post(URL, json=body, headers=headers or po(issuer))
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_get_list_update_delete(platform, issuer):
    employers = [org(), org()]
    department = org()
    created = await create(platform, issuer, inspection(employers), headers=dl(issuer, department))
    assert created["tenant_code"] == TENANT and sorted(created["employers"]) == sorted(employers)
    assert [f["rectification_notice_id"] for f in created["findings"]] == [None, None]
    url = f"{URL}/{created['id']}"
    assert (await platform.client.get(url, headers=po(issuer))).json() == created
    listed = (await platform.client.get(URL, params={"page_size": 100}, headers=dl(issuer, org()))).json()
    assert created["id"] in [i["id"] for i in listed["joint_inspections"]]

    kept = created["findings"][0]
    update = inspection(employers, title="Joint dust inspection (revised)",
                        findings=[{k: kept[k] for k in ("id", "employer", "description", "required_action", "law")},
                                  {"employer": employers[1], "description": "Fire exit blocked.",
                                   "required_action": "Clear the exit.", "law": "work_safety_law"}])
    updated = await platform.client.put(url, json=update, headers=po(issuer))
    assert updated.status_code == 200, updated.text
    findings = updated.json()["findings"]
    assert updated.json()["title"] == "Joint dust inspection (revised)"
    assert findings[0]["id"] == kept["id"] and findings[1]["id"] not in {f["id"] for f in created["findings"]}

    assert (await platform.client.delete(url, headers=po(issuer))).status_code == 204
    assert_problem(await platform.client.get(url, headers=po(issuer)), 404)


async def test_a_finding_raises_one_rectification_notice(platform, issuer):
    employers = [org(), org()]
    department = org()
    created = await create(platform, issuer, inspection(employers), headers=dl(issuer, department))
    finding = created["findings"][0]
    raise_url = f"{URL}/{created['id']}/findings/{finding['id']}/raise-notice"
    deadline = (today_cst() + timedelta(days=14)).isoformat()
    raised = await platform.client.post(raise_url, json={"deadline_date": deadline}, headers=dl(issuer, department))
    assert raised.status_code == 201, raised.text
    notice = raised.json()
    assert notice["source"] == f"jointInspections/{created['id']}/findings/{finding['id']}"
    assert notice["source_type"] == "inspection_finding" and notice["law"] == "occupational_disease_prevention_law"
    assert notice["employer"] == employers[0] and notice["state"] == "issued"
    assert notice["required_action"] == "Repair and run the dust extraction."
    # The employer sees it; raising again returns the same notice.
    assert (await platform.client.get(f"/v1/rectification-notices/{notice['id']}",
                                      headers=eo(issuer, employers[0]))).status_code == 200
    again = await platform.client.post(raise_url, json={"deadline_date": deadline}, headers=dl(issuer, department))
    assert again.json()["id"] == notice["id"]

    got = (await platform.client.get(f"{URL}/{created['id']}", headers=po(issuer))).json()
    assert got["findings"][0]["rectification_notice_id"] == notice["id"]
    # A finding that raised a notice is kept and unchanged; the inspection cannot be deleted.
    dropped = inspection(employers, findings=[])
    problem = assert_problem(await platform.client.put(f"{URL}/{created['id']}", json=dropped,
                                                       headers=po(issuer)), 400)
    assert [v["field"] for v in problem["violations"]] == ["joint_inspection.findings"]
    changed = inspection(employers, findings=[{**{k: finding[k] for k in ("id", "employer", "required_action", "law")},
                                               "description": "something else"}])
    problem = assert_problem(await platform.client.put(f"{URL}/{created['id']}", json=changed,
                                                       headers=po(issuer)), 400)
    assert [v["field"] for v in problem["violations"]] == ["joint_inspection.findings[0]"]
    assert_problem(await platform.client.delete(f"{URL}/{created['id']}", headers=po(issuer)), 409)

    # The second finding names no law and no action: refused, nothing raised.
    second = got["findings"][1]
    assert_problem(await platform.client.post(f"{URL}/{created['id']}/findings/{second['id']}/raise-notice",
                                              json={"deadline_date": deadline}, headers=po(issuer)), 409)
    assert (await platform.client.get(f"{URL}/{created['id']}", headers=po(issuer))).json()["findings"][1][
        "rectification_notice_id"] is None


async def test_raise_without_law_or_with_a_past_deadline_names_the_field(platform, issuer):
    employers = [org()]
    body = inspection(employers, findings=[{"employer": employers[0], "description": "Blocked exit.",
                                            "required_action": "Clear it."}])
    created = await create(platform, issuer, body)
    raise_url = f"{URL}/{created['id']}/findings/{created['findings'][0]['id']}/raise-notice"
    problem = assert_problem(await platform.client.post(
        raise_url, json={"deadline_date": (today_cst() - timedelta(days=1)).isoformat()}, headers=po(issuer)), 400)
    assert sorted(v["field"] for v in problem["violations"]) == ["deadline_date", "law"]


async def test_validation_and_access(platform, issuer):
    employers = [org()]
    bad = inspection(employers, title=" ", inspection_date="2026-02-30",
                     findings=[{"employer": org(), "description": "x", "law": "work_safety_law"}])
    problem = assert_problem(await platform.client.post(URL, json=bad, headers=po(issuer)), 400)
    assert sorted(v["field"] for v in problem["violations"]) == [
        "joint_inspection.findings[0].employer", "joint_inspection.inspection_date",
        "joint_inspection.title"], problem
    problem = assert_problem(await platform.client.post(URL, json=inspection(employers, participants=[]),
                                                        headers=po(issuer)), 400)
    assert [v["field"] for v in problem["violations"]] == ["participants"]

    created = await create(platform, issuer, inspection(employers))
    url = f"{URL}/{created['id']}"
    other = po(issuer, "110000")
    assert_problem(await platform.client.get(url, headers=other), 404)
    assert_problem(await platform.client.put(url, json=inspection(employers), headers=other), 404)
    assert_problem(await platform.client.delete(url, headers=other), 404)
    listed = (await platform.client.get(URL, params={"page_size": 100}, headers=other)).json()
    assert created["id"] not in [i["id"] for i in listed["joint_inspections"]]
    assert_problem(await platform.client.get(url, headers=bearer(issuer, tenant="100000",
                                                                 roles=("ministry_operator",))), 403)
    assert_problem(await platform.client.get(url, headers=eo(issuer, employers[0])), 403)
    assert (await platform.client.get(url, headers=po(issuer))).json() == created  # unchanged


async def test_list_pages_by_inspection_date(platform, issuer):
    tenant = "140100"  # a city of Shanxi: only this test lists there
    headers = bearer(issuer, tenant=tenant, roles=("provincial_operator",))
    ids = []
    for day in ("2026-10-01", "2026-10-03", "2026-10-02"):
        ids.append((await create(platform, issuer, inspection([org()], inspection_date=day), headers=headers))["id"])
    first = (await platform.client.get(URL, params={"page_size": 2}, headers=headers)).json()
    assert [i["id"] for i in first["joint_inspections"]] == [ids[1], ids[2]]
    second = (await platform.client.get(URL, params={"page_size": 2, "page_token": first["next_page_token"]},
                                        headers=headers)).json()
    assert [i["id"] for i in second["joint_inspections"]] == [ids[0]] and not second["next_page_token"]
