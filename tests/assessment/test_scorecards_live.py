"""Provincial scorecards with the real sharing and training services (issue 6 acceptance; SPEC
AS-5, 7.7): the assessment service fetches incidence change and rectification closure from
sharing and key-position coverage from training over gRPC, with the ministry operator's token
and deadline, and scores them against a hand-computed fixture.

Fixture, year 2026 (plan 2026-2030: baseline 2025), Sichuan 510000 (no other test writes there):
- mining (B06, a national key industry): 10,000 insured in 2025 and in 2026; 10 recognised work
  injuries in 2025 and 9 in 2026 -> 100.0 and 90.0 per 100,000 -> change -10 %;
  score with floor 0 and target -0.10: 100.
- rectification notices due in 2026: 4, of them closed 3 -> 0.75; floor 0.5, target 1: 50.
- key-position trainees enrolled in a 2026 programme: 4, trained (attended) 3 -> 0.75; score 50.
- own indicators weighted 0 (filings and projects are the assessment service's own tests).
Total = 0.4 x 100 + 0.3 x 50 + 0.3 x 50 = 70.00. Guizhou 520000 has no peer data: the three
external indicators say "no data", total 0.00, ranked below Sichuan.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from services.common.clock import cst_date
from tests.gateway.helpers import bearer
from tests.training.helpers import course, create, trainee

YEAR = 2026
SICHUAN, GUIZHOU = "510000", "520000"
CONFIG = [
    {"indicator": "key_industry_incidence_change", "floor": "0", "target": "-0.10", "weight": "0.4"},
    {"indicator": "rectification_closure_rate", "floor": "0.5", "target": "1", "weight": "0.3"},
    {"indicator": "training_coverage", "floor": "0.5", "target": "1", "weight": "0.3"},
    {"indicator": "on_time_filing_rate", "floor": "0.5", "target": "1", "weight": "0"},
    {"indicator": "project_acceptance_rate", "floor": "0.5", "target": "1", "weight": "0"},
]


def po(issuer, tenant: str = SICHUAN) -> dict:
    return bearer(issuer, tenant=tenant, roles=("provincial_operator",))


async def post(platform, path: str, body: dict, headers: dict, status: int = 201) -> dict:
    response = await platform.client.post(path, json=body, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


async def incidence_fixture(platform, issuer) -> None:
    exposure = await platform.client.put("/v1/exposure", json={"exposures": [
        {"industry_code": "B06", "year": 2025, "insured_persons": 10_000},
        {"industry_code": "B06", "year": 2026, "insured_persons": 10_000}]}, headers=po(issuer))
    assert exposure.status_code == 200, exposure.text
    employer = f"organisations/{uuid.uuid4().hex}"
    for year, count in ((2025, 10), (2026, 9)):
        for _ in range(count):
            await post(platform, "/v1/recognitions", {
                "publisher_record_id": f"rec-{uuid.uuid4().hex}", "injured_at": f"{year}-03-01",
                "recognised_at": f"{year}-06-01", "employer": employer, "industry_code": "B0610",
                "disability_grade": 9, "fatal": False}, po(issuer))


async def rectification_fixture(platform, issuer) -> None:
    department, employer = uuid.uuid4().hex, uuid.uuid4().hex
    liaison = bearer(issuer, tenant=SICHUAN, roles=("department_liaison",), org=department)
    officer = bearer(issuer, tenant=SICHUAN, roles=("employer_officer",), org=employer)
    deadline = max(cst_date(datetime.now(UTC)) + timedelta(days=1), datetime(YEAR, 12, 1).date())
    assert deadline.year == YEAR, "the fixture needs a deadline still ahead in 2026"
    for n in range(4):
        notice = await post(platform, "/v1/rectification-notices", {
            "employer": f"organisations/{employer}", "source": f"hazardReports/{uuid.uuid4().hex}",
            "source_type": "hazard_report", "required_action": "Fit guardrails.",
            "deadline_date": deadline.isoformat()}, liaison)
        if n < 3:
            url = f"/v1/rectification-notices/{notice['id']}"
            await post(platform, f"{url}/respond", {"response": "Done.", "evidence": []}, officer, 200)
            await post(platform, f"{url}/verify", {"reason": "Seen on site."}, po(issuer), 200)


async def training_fixture(platform, issuer) -> None:
    headers = po(issuer)
    course_id = await course(platform, headers)
    programme = (await create(platform, "/v1/programmes", {"title": "Key positions 2026", "year": YEAR,
                                                           "course_ids": [course_id]}, headers))["id"]
    employer = f"S-{uuid.uuid4().hex[:6]}"
    people = [await trainee(platform, headers, industry="B0610", employer=employer, position=position)
              for position in ("deputy_head_in_charge", "head_of_safety_management", "front_line_team_leader",
                               "front_line_team_leader")]
    for person in people:
        await create(platform, f"/v1/programmes/{programme}/enrolments", {"trainee_id": person["id"]}, headers)
    session = await create(platform, f"/v1/programmes/{programme}/offline-sessions", {
        "course_id": course_id, "title": "Classroom day", "location": "Chengdu",
        "start_time": "2026-04-10T09:00:00+08:00"}, headers)
    await post(platform, f"/v1/offline-sessions/{session['id']}/attendance",
               {"trainee_ids": [p["id"] for p in people[:3]]}, headers, 200)


async def test_scorecards_from_the_live_peers_match_the_hand_computed_fixture(platform, issuer):
    await incidence_fixture(platform, issuer)
    await rectification_fixture(platform, issuer)
    await training_fixture(platform, issuer)
    ministry = bearer(issuer, tenant="100000", roles=("ministry_operator",))
    configured = await platform.client.put(f"/v1/scorecard-configs/{YEAR}", json={"indicators": CONFIG},
                                           headers=ministry)
    assert configured.status_code == 200, configured.text

    computed = await post(platform, f"/v1/scorecards/{YEAR}/compute", {}, ministry, 200)
    cards = {card["tenant_code"]: card for card in computed["scorecards"]}
    sichuan = {i["indicator"]: i for i in cards[SICHUAN]["indicators"]}
    assert sichuan["key_industry_incidence_change"]["value"] == "-0.1"
    assert sichuan["key_industry_incidence_change"]["score"] == "100.00"
    assert sichuan["key_industry_incidence_change"]["inputs"]["baseline_year"] == "2025"
    assert (sichuan["rectification_closure_rate"]["value"], sichuan["rectification_closure_rate"]["score"]) == (
        "0.75", "50.00")
    assert sichuan["rectification_closure_rate"]["inputs"]["due"] == "4"
    assert (sichuan["training_coverage"]["value"], sichuan["training_coverage"]["score"]) == ("0.75", "50.00")
    assert sichuan["training_coverage"]["inputs"]["required"] == "4"
    assert cards[SICHUAN]["total"] == "70.00"

    guizhou = {i["indicator"]: i for i in cards[GUIZHOU]["indicators"]}
    external = ("key_industry_incidence_change", "rectification_closure_rate", "training_coverage")
    assert all(guizhou[name]["inputs"] == {"status": "no data"} for name in external)
    # Own data: the year's two filings (implementation plan, annual report) exist for every
    # province and none was filed on time; weighted 0 here.
    assert guizhou["on_time_filing_rate"]["inputs"] == {"filings_due": "2", "filed_on_time": "0"}
    assert cards[GUIZHOU]["total"] == "0.00"
    assert cards[SICHUAN]["rank"] < cards[GUIZHOU]["rank"]

    # A province reads its own scorecard only.
    own = await platform.client.get(f"/v1/scorecards?year={YEAR}", headers=po(issuer))
    assert [card["tenant_code"] for card in own.json()["scorecards"]] == [SICHUAN]
