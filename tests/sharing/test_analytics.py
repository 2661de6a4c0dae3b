"""Exposure data and incidence analytics (SPEC SH-8, 7.7) against a hand-computed fixture: two
provinces (prefecture tenants of Hainan and Yunnan, so no other test's data mixes in) and three
industries (C26 and E47 key, H61 not), 2025 against the 2021-2025 plan's 2020 baseline (-20 %).

Recognitions and disease cases are published through the change hook every record type calls
(services/sharing/changes.record_changed; their REST routes belong to another slice); accidents
through REST. Results are read through REST.

Hand computation (injured = recognitions; rates per 100,000 insured):
  P1 C26 2020: 20 / 50,000 = 40      2025: 18 / 60,000 = 30 (per 200k h: 18 / 120e6 * 2e5 = 0.03)
  P1 E47 2020: 50 / 100,000 = 50     2025: 45 / 100,000 = 45 (hours unknown)
  P1 H61 2025: 10 / 20,000 = 50 (not a key industry)
  P1 key 2020: 70 / 150,000 = 46.667; 2025: 63 / 160,000 = 39.375 -> -15.625 %: target not met
  P2 C26 2020: 16 / 40,000 = 40      2025: 10 / 40,000 = 25 (per 200k h: 10 / 80e6 * 2e5 = 0.025)
  P2 E47 2020: 30 / 60,000 = 50      2025: 21 / 60,000 = 35
  P2 key 2020: 46 / 100,000 = 46;    2025: 31 / 100,000 = 31 -> -32.609 %: target met
  P1 all 2025: 73 / 180,000 = 40.556 ranks above P2 31 / 100,000 = 31.
  P1 C26 2025 disease cases 4 (3 pneumoconiosis): 4 / 60,000 = 6.667.
"""

from __future__ import annotations

import uuid

import pytest
from pytest import approx

from services.common.db import Database
from services.sharing import changes
from tests.gateway.helpers import assert_problem, bearer, violation_fields
from tests.sharing.feedkit import correct, fresh_tenant, po, publish, void

pytestmark = pytest.mark.db

MO = {"tenant": "100000", "roles": ("ministry_operator",)}


@pytest.fixture
async def sharing_db(platform):
    database = Database(platform.urls["sharing"])
    yield database
    await database.dispose()


class Hook:
    """Publishes, corrects and voids snapshots of other record types through the change hook."""

    def __init__(self, database: Database):
        self.db = database

    async def _change(self, record_type, kind, record_id, before, after) -> None:
        async with self.db.session() as session:
            await changes.record_changed(session, record_type=record_type, kind=kind, record_id=record_id,
                                         before=before, after=after)
            await session.commit()

    async def recognitions(self, tenant: str, industry: str, year: int, count: int) -> list[tuple[str, dict]]:
        made = []
        for _ in range(count):
            snapshot = {"injured_at": f"{year}-02-01", "recognised_at": f"{year}-03-01", "industry_code": industry,
                        "employer": "organisations/e", "fatal": False, "tenant_code": tenant, "status": "active"}
            record_id = uuid.uuid4().hex
            await self._change("recognitions", "published", record_id, None, snapshot)
            made.append((record_id, snapshot))
        return made

    async def disease_case(self, tenant: str, industry: str, year: int, category: str, persons: int) -> None:
        snapshot = {"diagnosed_at": f"{year}-04-01", "industry_code": industry, "category": category,
                    "persons": persons, "employer": "organisations/e", "tenant_code": tenant, "status": "active"}
        await self._change("disease_cases", "published", uuid.uuid4().hex, None, snapshot)

    async def correct(self, record_type: str, record: tuple[str, dict], **fields) -> tuple[str, dict]:
        record_id, before = record
        after = {**before, **fields}
        await self._change(record_type, "corrected", record_id, before, after)
        return record_id, after

    async def void(self, record_type: str, record: tuple[str, dict]) -> None:
        record_id, before = record
        await self._change(record_type, "voided", record_id, before, {**before, "status": "voided"})


async def put_exposure(platform, issuer, tenant: str, rows: list[dict]):
    return await platform.client.put("/v1/exposure", json={"exposures": rows}, headers=bearer(issuer, **po(tenant)))


def exposure(industry: str, year: int, insured: int, hours: int | None = None) -> dict:
    return {"industry_code": industry, "year": year, "insured_persons": insured, "hours_worked": hours}


async def incidence(platform, issuer, who: dict, year: int = 2025, **params) -> dict:
    response = await platform.client.get("/v1/analytics/incidence", params={"year": year, **params},
                                         headers=bearer(issuer, **who))
    assert response.status_code == 200, response.text
    return response.json()


def rows_of(result: dict, *tenants: str) -> dict:
    return {(r["tenant_code"], r["industry_code"]): r for r in result["rows"] if r["tenant_code"] in tenants}


def key_of(result: dict, tenant: str) -> dict:
    return next(k for k in result["key_industries"] if k["tenant_code"] == tenant)


@pytest.fixture
async def fixture(platform, issuer, sharing_db):
    p1, p2 = fresh_tenant("46"), fresh_tenant("53")
    hook = Hook(sharing_db)
    for tenant, rows in ((p1, [exposure("C26", 2020, 50_000, 100_000_000), exposure("C26", 2025, 60_000, 120_000_000),
                               exposure("E47", 2020, 100_000), exposure("E47", 2025, 100_000),
                               exposure("H61", 2025, 20_000, 40_000_000)]),
                         (p2, [exposure("C26", 2020, 40_000), exposure("C26", 2025, 40_000, 80_000_000),
                               exposure("E47", 2020, 60_000), exposure("E47", 2025, 60_000)])):
        response = await put_exposure(platform, issuer, tenant, rows)
        assert response.status_code == 200, response.text
    made = {}
    for tenant, industry, year, count in ((p1, "C2611", 2020, 20), (p1, "C2611", 2025, 18), (p1, "E4710", 2020, 50),
                                          (p1, "E4710", 2025, 45), (p1, "H6110", 2025, 10), (p2, "C26", 2020, 16),
                                          (p2, "C26", 2025, 10), (p2, "E47", 2020, 30), (p2, "E47", 2025, 21)):
        made[(tenant, industry[:3], year)] = await hook.recognitions(tenant, industry, year, count)
    await hook.disease_case(p1, "C2611", 2025, "pneumoconiosis", 3)
    await hook.disease_case(p1, "C2611", 2025, "chemical_poisoning", 1)
    accidents = {
        "p1_serious": [await publish(platform, issuer, p1, industry_code="C2611", occurred_at="2025-03-0" + str(d),
                                     persons_injured=1) for d in (1, 2)],
        "p1_fatal": await publish(platform, issuer, p1, industry_code="C2611", occurred_at="2025-04-01",
                                  severity="fatal", fatalities=2, persons_injured=0),
        "p2": [await publish(platform, issuer, p2, industry_code="E4720", occurred_at="2025-05-01", severity="minor",
                             persons_injured=1) for _ in range(2)],
    }
    return p1, p2, hook, made, accidents


async def test_incidence_matches_the_hand_computed_fixture(platform, issuer, fixture):
    p1, p2, _, _, _ = fixture
    result = await incidence(platform, issuer, MO)
    assert result["plan"] == "2021-2025" and result["baseline_year"] == 2020
    rows = rows_of(result, p1, p2)
    assert set(rows) == {(p1, "C26"), (p1, "E47"), (p1, "H61"), (p2, "C26"), (p2, "E47")}
    c26 = rows[(p1, "C26")]
    assert c26["key_industry"] and not rows[(p1, "H61")]["key_industry"]
    assert c26["figures"]["injured_persons"] == 18 and c26["figures"]["insured_persons"] == 60_000
    assert c26["figures"]["incidence_per_100k_insured"] == approx(30)
    assert c26["figures"]["incidence_per_200k_hours"] == approx(0.03)
    assert c26["baseline"]["incidence_per_100k_insured"] == approx(40)
    assert c26["change_vs_baseline_pct"] == approx(-25)
    assert (c26["figures"]["accidents"], c26["figures"]["fatalities"], c26["figures"]["accident_persons_injured"]) \
        == (3, 2, 2)
    assert c26["figures"]["disease_cases"] == 4 and c26["figures"]["pneumoconiosis_cases"] == 3
    assert c26["figures"]["disease_incidence_per_100k_insured"] == approx(4 / 60_000 * 100_000)
    e47 = rows[(p1, "E47")]["figures"]
    assert e47["incidence_per_100k_insured"] == approx(45) and e47["incidence_per_200k_hours"] is None
    assert rows[(p1, "H61")]["baseline"] is None and rows[(p1, "H61")]["change_vs_baseline_pct"] is None
    assert rows[(p2, "C26")]["figures"]["incidence_per_200k_hours"] == approx(0.025)
    assert rows[(p2, "E47")]["figures"]["accidents"] == 2

    k1, k2 = key_of(result, p1), key_of(result, p2)
    assert k1["figures"]["incidence_per_100k_insured"] == approx(39.375)
    assert k1["baseline"]["incidence_per_100k_insured"] == approx(70 / 150_000 * 100_000)
    assert k1["change_vs_baseline_pct"] == approx(-15.625)
    assert k1["target_change_pct"] == approx(-20) and k1["target_met"] is False
    assert k2["figures"]["incidence_per_100k_insured"] == approx(31)
    assert k2["change_vs_baseline_pct"] == approx((31 - 46) / 46 * 100) and k2["target_met"] is True

    regions = [r["key"] for r in result["region_ranking"] if r["key"] in (p1, p2)]
    assert regions == [p1, p2]
    assert next(r for r in result["region_ranking"] if r["key"] == p1)["incidence_per_100k_insured"] \
        == approx(73 / 180_000 * 100_000)
    own = await incidence(platform, issuer, po(p1))
    assert [(r["key"], r["rank"]) for r in own["industry_ranking"]] == [("H61", 1), ("E47", 2), ("C26", 3)]


async def test_a_correction_and_a_void_change_the_results(platform, issuer, fixture):
    p1, p2, hook, made, accidents = fixture
    # A recognition corrected from a key industry (E47) to another (H61); one voided in C26.
    await hook.correct("recognitions", made[(p1, "E47", 2025)][0], industry_code="H6110")
    await hook.void("recognitions", made[(p1, "C26", 2025)][0])
    # The fatal accident voided; one of P2's accidents corrected from E47 to C26.
    await void(platform, issuer, p1, accidents["p1_fatal"]["id"])
    await correct(platform, issuer, p2, accidents["p2"][0]["id"], industry_code="C2611", occurred_at="2025-05-01",
                  severity="minor", persons_injured=1)
    result = await incidence(platform, issuer, MO)
    rows = rows_of(result, p1, p2)
    assert rows[(p1, "C26")]["figures"]["injured_persons"] == 17
    assert rows[(p1, "C26")]["figures"]["incidence_per_100k_insured"] == approx(17 / 60_000 * 100_000)
    assert rows[(p1, "E47")]["figures"]["injured_persons"] == 44
    assert rows[(p1, "H61")]["figures"]["injured_persons"] == 11
    assert (rows[(p1, "C26")]["figures"]["accidents"], rows[(p1, "C26")]["figures"]["fatalities"]) == (2, 0)
    assert rows[(p2, "E47")]["figures"]["accidents"] == 1 and rows[(p2, "C26")]["figures"]["accidents"] == 1
    k1 = key_of(result, p1)
    assert k1["figures"]["injured_persons"] == 61
    assert k1["change_vs_baseline_pct"] == approx((61 / 160_000 - 70 / 150_000) / (70 / 150_000) * 100)
    assert k1["target_met"] is False


async def test_analytics_scope_per_role(platform, issuer, fixture):
    p1, p2, _, _, _ = fixture
    assert set(t for t, _ in rows_of(await incidence(platform, issuer, po(p2)), p1, p2)) == {p2}
    liaison = {"tenant": p1, "roles": ("department_liaison",), "org": "liaison"}
    assert set(t for t, _ in rows_of(await incidence(platform, issuer, liaison), p1, p2)) == {p1}
    response = await platform.client.get("/v1/analytics/incidence", params={"year": 2025},
                                         headers=bearer(issuer, tenant=p1, roles=("employer_officer",)))
    assert_problem(response, 403)
    response = await platform.client.get("/v1/analytics/incidence", params={"year": 1999},
                                         headers=bearer(issuer, **MO))
    assert_problem(response, 400)
    # The 2026-2030 plan takes 2025 as its baseline.
    later = await incidence(platform, issuer, po(p1), year=2026)
    assert later["plan"] == "2026-2030" and later["baseline_year"] == 2025


async def test_exposure_upsert_is_idempotent_scoped_and_validated(platform, issuer):
    tenant, other = fresh_tenant(), fresh_tenant()
    rows = [exposure("C26", 2024, 1_000, 2_000_000), exposure("E47", 2024, 500)]
    first = await put_exposure(platform, issuer, tenant, rows)
    again = await put_exposure(platform, issuer, tenant, rows)
    assert first.status_code == again.status_code == 200
    strip = [{k: v for k, v in r.items() if k != "update_time"} for r in again.json()["exposures"]]
    assert strip == [{"tenant_code": tenant, **rows[0]}, {"tenant_code": tenant, **rows[1]}]
    updated = await put_exposure(platform, issuer, tenant, [exposure("C26", 2024, 1_100)])
    assert updated.json()["exposures"][0]["insured_persons"] == 1_100
    assert updated.json()["exposures"][0]["hours_worked"] is None

    bad = await put_exposure(platform, issuer, tenant, [exposure("C26", 2023, 10), exposure("A26", 2023, 10)])
    assert "exposures[1].industry_code" in violation_fields(assert_problem(bad, 400))
    listed = await platform.client.get("/v1/exposure", params={"year": 2023}, headers=bearer(issuer, **po(tenant)))
    assert [r for r in listed.json()["exposures"] if r["tenant_code"] == tenant] == []  # nothing written

    mine = await platform.client.get("/v1/exposure", headers=bearer(issuer, **po(tenant)))
    assert {(r["tenant_code"], r["industry_code"]) for r in mine.json()["exposures"]} == {(tenant, "C26"),
                                                                                          (tenant, "E47")}
    theirs = await platform.client.get("/v1/exposure", headers=bearer(issuer, **po(other)))
    assert [r for r in theirs.json()["exposures"] if r["tenant_code"] == tenant] == []
    extra = await platform.client.put("/v1/exposure", headers=bearer(issuer, **po(tenant)),
                                      json={"exposures": [{**exposure("C26", 2024, 1), "tenant_code": other}]})
    assert_problem(extra, 400)


async def test_demo_seed_adds_two_years_of_exposure_once(db_factory):
    from sqlalchemy import func, select

    from services.sharing import seed
    from services.sharing.models import Exposure

    database = Database(await db_factory.prepared("sharing", seed=False))
    try:
        for _ in range(2):
            async with database.session() as session:
                await seed.seed(session, demo=True)
        async with database.session() as session:
            years = (await session.execute(select(Exposure.year, func.count()).group_by(Exposure.year))).all()
    finally:
        await database.dispose()
    assert len(years) == 2 and all(count == 10 for _, count in years)


async def test_exposure_import_from_csv_and_xlsx(platform, issuer):
    from io import BytesIO

    from openpyxl import Workbook

    tenant = fresh_tenant()
    headers = bearer(issuer, **po(tenant))
    csv_gb18030 = "行业代码,年度,参保人数,工时\r\nC26,2022,\"1,200\",2400000\r\n\r\nE47,2022,800,\r\n".encode("gb18030")
    response = await platform.client.post("/v1/exposure:import", headers=headers,
                                          files={"file": ("exposure.csv", csv_gb18030, "text/csv")})
    assert response.status_code == 200, response.text
    assert response.json() == {"rows": 2, "upserted": 2, "errors": []}
    again = await platform.client.post("/v1/exposure:import", headers=headers,
                                       files={"file": ("exposure.csv", csv_gb18030, "text/csv")})
    assert again.json()["upserted"] == 2
    listed = (await platform.client.get("/v1/exposure", params={"year": 2022}, headers=headers)).json()
    assert [(r["industry_code"], r["insured_persons"], r["hours_worked"]) for r in listed["exposures"]] == [
        ("C26", 1200, 2_400_000), ("E47", 800, None)]

    book = Workbook()
    sheet = book.active
    sheet.append(["industry_code", "year", "insured_persons", "hours_worked"])
    sheet.append(["C26", 2023, 10, None])
    sheet.append(["A26", 2023, "many", None])
    buffer = BytesIO()
    book.save(buffer)
    bad = await platform.client.post("/v1/exposure:import", headers=headers, files={"file": (
        "exposure.xlsx", buffer.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    report = bad.json()
    assert report["upserted"] == 0 and {(e["row"], e["field"]) for e in report["errors"]} == {
        (2, "insured_persons"), (2, "industry_code")}
    listed = (await platform.client.get("/v1/exposure", params={"year": 2023}, headers=headers)).json()
    assert listed["exposures"] == []  # all rows or none
    no_header = await platform.client.post("/v1/exposure:import", headers=headers,
                                           files={"file": ("e.csv", b"C26,2024,1\r\n", "text/csv")})
    assert no_header.json()["errors"][0]["row"] == 0


async def test_a_local_key_industry_counts_for_its_tenant_only(platform, issuer, fixture):
    """P1 adds H61 as a local key industry: P1's key-industry figures take in its 10 injured of
    20,000 insured (2025; none in 2020), P2's do not change; removed, P1's are as before."""
    p1, p2, *_ = fixture
    added = await platform.client.post("/v1/key-industries", headers=bearer(issuer, **po(p1)), json={
        "code": "accommodation", "display_name": "住宿业", "divisions": ["H61"]})
    assert added.status_code == 201, added.text
    for who in (MO, po(p1)):
        result = await incidence(platform, issuer, who)
        rows = rows_of(result, p1)
        assert rows[(p1, "H61")]["key_industry"] is True
        k1 = key_of(result, p1)
        assert (k1["figures"]["injured_persons"], k1["figures"]["insured_persons"]) == (73, 180_000)
        assert k1["figures"]["incidence_per_100k_insured"] == approx(73 / 180_000 * 100_000)
        assert k1["baseline"]["incidence_per_100k_insured"] == approx(70 / 150_000 * 100_000)
    mo = await incidence(platform, issuer, MO)
    assert key_of(mo, p2)["figures"]["incidence_per_100k_insured"] == approx(31)

    removed = await platform.client.delete("/v1/key-industries/accommodation", headers=bearer(issuer, **po(p1)))
    assert removed.status_code == 204, removed.text
    after = await incidence(platform, issuer, MO)
    assert rows_of(after, p1)[(p1, "H61")]["key_industry"] is False
    assert key_of(after, p1)["figures"]["incidence_per_100k_insured"] == approx(39.375)
