"""Data for the console's analytics pages, seeded through the REST API as the provinces would
publish it: exposure (insured persons) and recognised injuries for the previous calendar year and
its plan's baseline year, in two key divisions and one other, with distinct figures per province
(so one province's numbers are recognisable on another's page); and a rectification notice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tests.browser.conftest_names import BEIJING, TIANJIN

# (division, year offset from the previous year's plan baseline or the year, insured, recognitions)
# "base" = the plan's baseline year, "year" = the previous calendar year (the analytics default).
ANALYTICS = {
    BEIJING: [("C26", "base", 50_000, 20), ("C26", "year", 60_000, 18), ("E47", "base", 100_000, 50),
              ("E47", "year", 100_000, 45), ("H61", "year", 20_000, 10)],
    TIANJIN: [("C26", "base", 40_000, 16), ("C26", "year", 40_000, 10), ("E47", "base", 60_000, 30),
              ("E47", "year", 60_000, 21)],
}
DIVISION_CODE = {"C26": "C2611", "E47": "E4710", "H61": "H6110"}


def baseline_of(year: int) -> int:
    return 2020 if year <= 2025 else 2025


async def seed_pages(p) -> None:
    year = datetime.now(UTC).year - 1  # tests never run at New Year's midnight (CST vs UTC)
    years = {"base": baseline_of(year), "year": year}
    for user, rows in ANALYTICS.items():
        headers = {"Authorization": f"Bearer {await p.token(user)}"}
        exposures = [{"industry_code": division, "year": years[when], "insured_persons": insured}
                     for division, when, insured, _ in rows]
        response = await p.client.put("/v1/exposure", json={"exposures": exposures}, headers=headers)
        assert response.status_code == 200, response.text
        for division, when, _, recognitions in rows:
            for _ in range(recognitions):
                body = {"publisher_record_id": f"rec-{uuid.uuid4().hex}", "injured_at": f"{years[when]}-02-01",
                        "recognised_at": f"{years[when]}-03-01", "employer": f"organisations/{uuid.uuid4().hex}",
                        "industry_code": DIVISION_CODE[division]}
                response = await p.client.post("/v1/recognitions", json=body, headers=headers)
                assert response.status_code == 201, response.text
    headers = {"Authorization": f"Bearer {await p.token(BEIJING)}"}
    deadline = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()
    response = await p.client.post("/v1/rectification-notices", headers=headers, json={
        "employer": f"organisations/{uuid.uuid4().hex}", "source": f"hazardReports/{uuid.uuid4().hex}",
        "source_type": "hazard_report", "required_action": "更换冲压设备防护罩", "deadline_date": deadline})
    assert response.status_code == 201, response.text
