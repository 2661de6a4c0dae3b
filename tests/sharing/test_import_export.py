"""Record files (SPEC SH-1; RELIABILITY S10): importing CSV (UTF-8, UTF-8 with BOM, GB18030) and
XLSX with per-row results through the idempotent publish path, refusing a bad header whole;
exporting list results as CSV or XLSX with the caller's visible fields, audited with a reason and
limited per caller; and the agreement lifecycle in the exchange log."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import text

from services.common.db import Database
from tests.gateway.helpers import assert_problem, bearer
from tests.sharing.test_record_types import body

BOM = b"\xef\xbb\xbf"
DISEASE_HEADER = ["publisher_record_id", "diagnosed_at", "employer", "industry_code", "category", "persons"]


def who(tenant: str, role: str = "provincial_operator", **extra) -> dict:
    return bearer(issuer_ref[0], tenant=tenant, roles=(role,), **extra)


issuer_ref: list = []


@pytest.fixture(autouse=True)
def _issuer(issuer):
    issuer_ref[:] = [issuer]
    yield


@pytest.fixture
async def sharing_db(platform):
    database = Database(platform.urls["sharing"])
    yield database
    await database.dispose()


def csv_bytes(rows: list[list], encoding: str = "utf-8", bom: bool = False) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return (BOM if bom else b"") + out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def upload(platform, segment: str, content: bytes, headers: dict, filename: str = "records.csv"):
    return await platform.client.post(f"/v1/{segment}:import", headers=headers,
                                      files={"file": (filename, content, "application/octet-stream")})


def disease_row(**overrides) -> list:
    data = {**body("disease-cases"), **overrides}
    return [data[c] for c in DISEASE_HEADER]


async def test_csv_import_reports_every_row_and_a_second_import_changes_nothing(platform):
    tenant = "220000"  # Jilin: only this file imports there
    headers = who(tenant)
    good, other = disease_row(), disease_row(category="chemical_poisoning")
    bad = disease_row(category="flu", persons="two", diagnosed_at="2999-01-01")
    invalid = disease_row(industry_code="A26", employer="acme")
    content = csv_bytes([DISEASE_HEADER, good, bad, [], other, invalid])
    response = await upload(platform, "disease-cases", content, headers)
    assert response.status_code == 200, response.text
    report = response.json()
    assert [(r["row"], r["outcome"]) for r in report["results"]] == [
        (1, "created"), (2, "failed"), (4, "created"), (5, "failed")]
    assert (report["created_count"], report["replayed_count"], report["failed_count"]) == (2, 0, 2)
    assert {v["field"] for v in report["results"][1]["violations"]} == {"persons"}  # the cell that does not convert
    assert {v["field"] for v in report["results"][3]["violations"]} == {"industry_code", "employer"}
    assert report["results"][0]["publisher_record_id"] == good[0]

    again = (await upload(platform, "disease-cases", content, headers)).json()
    assert [r["outcome"] for r in again["results"]] == ["replayed", "failed", "replayed", "failed"]
    assert [r["id"] for r in again["results"]] == [r["id"] for r in report["results"]]
    listed = (await platform.client.get("/v1/disease-cases", headers=headers)).json()["disease_cases"]
    assert sorted(r["publisher_record_id"] for r in listed) == sorted([good[0], other[0]])
    # The same id with other content is a per-row conflict, not a silent overwrite.
    changed = (await upload(platform, "disease-cases", csv_bytes([DISEASE_HEADER, [*good[:5], 9]]), headers)).json()
    assert changed["results"][0]["error_reason"] == "PUBLISHER_RECORD_ID_EXISTS"


@pytest.mark.parametrize("encoding,bom", [("utf-8", False), ("utf-8", True), ("gb18030", False)])
async def test_csv_encodings_are_detected(platform, encoding, bom):
    header = ["publisher_record_id", "reported_at", "employer", "industry_code", "level", "category", "description"]
    data = body("hazard-reports", description="脚手架防护栏缺失，存在高处坠落隐患")
    content = csv_bytes([header, [data[c] for c in header]], encoding=encoding, bom=bom)
    response = await upload(platform, "hazard-reports", content, who("220000"))
    assert response.status_code == 200, response.text
    result = response.json()["results"][0]
    assert result["outcome"] == "created", result
    stored = await platform.client.get(f"/v1/hazard-reports/{result['id']}", headers=who("220000"))
    assert stored.json()["description"] == "脚手架防护栏缺失，存在高处坠落隐患"


async def test_xlsx_import_with_typed_cells(platform):
    header = ["publisher_record_id", "measured_at", "employer", "industry_code", "factor", "value", "unit",
              "limit_value"]
    first, second = body("measurements"), body("measurements")
    rows = [header,
            [first["publisher_record_id"], datetime(2024, 6, 1), first["employer"], "B0610", "silica_dust", 1.5,
             "mg/m3", 1],
            [second["publisher_record_id"], "2024-06-02", second["employer"], "B0610", "noise", "lots", "dB(A)", 85]]
    response = await upload(platform, "measurements", xlsx_bytes(rows), who("220000"), filename="m.xlsx")
    assert response.status_code == 200, response.text
    created, failed = response.json()["results"]
    assert created["outcome"] == "created" and failed["outcome"] == "failed"
    assert failed["violations"] == [{"field": "value", "description": "must be a number"}]
    stored = (await platform.client.get(f"/v1/measurements/{created['id']}", headers=who("220000"))).json()
    assert stored["measured_at"] == "2024-06-01" and stored["value"] == 1.5 and stored["exceedance"] is True


async def test_accidents_import_through_the_same_path(platform):
    header = ["publisher_record_id", "occurred_at", "employer", "industry_code", "severity", "accident_type",
              "persons_injured", "fatalities"]
    row = [f"rec-{uuid.uuid4().hex}", "2024-03-01", f"organisations/{uuid.uuid4().hex}", "E4720", "fatal",
           "fall_from_height", "1", "0"]
    report = (await upload(platform, "accidents", csv_bytes([header, row]), who("220000"))).json()
    assert report["results"][0]["violations"] == [
        {"field": "fatalities", "description": "must be at least 1 for a fatal accident"}]
    row[-1] = "1"
    report = (await upload(platform, "accidents", csv_bytes([header, row]), who("220000"))).json()
    assert report["results"][0]["outcome"] == "created"


async def test_a_bad_header_refuses_the_whole_file(platform):
    tenant = "230000"  # Heilongjiang: nothing else is published there
    header = ["publisher_record_id", "diagnosed_at", "employer", "industry_code", "diagnosis", "persons"]
    content = csv_bytes([header, disease_row()[:6]])
    problem = assert_problem(await upload(platform, "disease-cases", content, who(tenant)), 400)
    assert [v["field"] for v in problem["violations"]] == ["file.header"]
    description = problem["violations"][0]["description"]
    assert "unknown column(s) diagnosis" in description and "missing column(s) category" in description
    assert (await platform.client.get("/v1/disease-cases", headers=who(tenant))).json()["disease_cases"] == []
    for content, filename in ((b"", "x.csv"), (b"\xff\xfe\x00bad", "x.xlsx"), (b"a,b", "x.pdf")):
        problem = assert_problem(await upload(platform, "disease-cases", content, who(tenant), filename), 400)
        assert problem["violations"][0]["field"].startswith("file")


# -- export -----------------------------------------------------------------------------------------


async def export(platform, segment: str, headers: dict, **params):
    return await platform.client.get(f"/v1/{segment}:export", params=params, headers=headers)


async def test_export_csv_and_xlsx_hold_the_list_results(platform, sharing_db):
    tenant = "310000"  # Shanghai: only this test publishes disease cases there
    headers = who(tenant, sub=f"exporter-{uuid.uuid4().hex[:8]}")
    records = []
    for day, category in (("2022-01-05", "pneumoconiosis"), ("2022-02-05", "occupational_cancer"),
                          ("2021-12-05", "pneumoconiosis")):
        response = await platform.client.post("/v1/disease-cases", headers=headers, json=body(
            "disease-cases", diagnosed_at=day, category=category))
        records.append(response.json())

    response = await export(platform, "disease-cases", headers, reason="quarterly report to the ministry",
                            diagnosed_from="2022-01-01", category="pneumoconiosis")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="diseaseCases-' in response.headers["content-disposition"]
    assert response.content.startswith(BOM)
    rows = list(csv.reader(io.StringIO(response.content[len(BOM):].decode("utf-8"))))
    assert rows[0] == ["id", "tenant_code", "status", "version", *DISEASE_HEADER]
    assert len(rows) == 2 and rows[1][0] == records[0]["id"] and rows[1][5] == "2022-01-05"

    workbook = load_workbook(io.BytesIO((await export(platform, "disease-cases", headers, format="xlsx",
                                                      reason="charts")).content))
    values = list(workbook.active.iter_rows(values_only=True))
    assert values[0][:4] == ("id", "tenant_code", "status", "version")
    assert [v[0] for v in values[1:]] == [records[1]["id"], records[0]["id"], records[2]["id"]]
    assert values[1][values[0].index("persons")] == 2

    async with sharing_db.engine.connect() as conn:
        logged = (await conn.execute(text(
            "SELECT action, record_type, record_ids, reason FROM exchange_log WHERE action = 'export' "
            "AND tenant_code = :tenant ORDER BY seq"), {"tenant": tenant})).all()
    assert [(r.action, r.record_type, r.reason) for r in logged] == [
        ("export", "disease_cases", "quarterly report to the ministry"), ("export", "disease_cases", "charts")]
    ids = json.loads(logged[0].record_ids) if isinstance(logged[0].record_ids, str) else logged[0].record_ids
    assert ids == [records[0]["id"]]


async def test_export_needs_a_reason_and_valid_filters(platform):
    headers = who("310000")
    problem = assert_problem(await export(platform, "recognitions", headers), 400)
    assert [v["field"] for v in problem["violations"]] == ["reason"]
    problem = assert_problem(await export(platform, "recognitions", headers, reason="x", severity="fatal"), 400)
    assert [v["field"] for v in problem["violations"]] == ["filters"]


async def test_a_liaisons_export_holds_the_granted_fields_only(platform):
    tenant = "320000"  # Jiangsu
    health = uuid.uuid4().hex
    operator = who(tenant)
    record = (await platform.client.post("/v1/recognitions", headers=operator, json=body("recognitions"))).json()
    created = await platform.client.post("/v1/sharing-agreements", headers=operator, json={
        "provider_organisation": f"organisations/{uuid.uuid4().hex}",
        "consumer_organisation": f"organisations/{health}", "record_type": "recognitions",
        "granted_fields": ["injured_at", "fatal"], "purpose": "p", "legal_basis": "l", "valid_from": "2020-01-01",
        "valid_until": "2099-12-31"})
    assert created.status_code == 201, created.text
    liaison = who(tenant, "department_liaison", org=health)
    response = await export(platform, "recognitions", liaison, reason="follow-up of fatal cases")
    assert response.status_code == 200, response.text
    rows = list(csv.reader(io.StringIO(response.content[len(BOM):].decode("utf-8"))))
    assert rows[0] == ["id", "tenant_code", "status", "version", "injured_at", "fatal"]
    assert [r[0] for r in rows[1:]] == [record["id"]] and rows[1][4:] == ["2024-05-01", "false"]
    # Filtering on a withheld field would reveal it.
    assert_problem(await export(platform, "recognitions", liaison, reason="x", industry_prefix="E"), 400)


async def test_exports_beyond_the_quota_are_429_with_retry_after(platform):
    """RELIABILITY S10: at most `sharing_export_quota_per_hour` exports per caller."""
    quota = platform.settings.sharing_export_quota_per_hour
    subject = f"bulk-{uuid.uuid4().hex[:8]}"
    headers = who("330000", sub=subject)
    for _ in range(quota):
        assert (await export(platform, "hazard-reports", headers, reason="audit")).status_code == 200
    refused = await export(platform, "hazard-reports", headers, reason="audit")
    assert_problem(refused, 429, reason="EXPORT_QUOTA_EXCEEDED")
    assert 1 <= int(refused.headers["retry-after"]) <= 3600
    # Per caller: another user of the same tenant still exports.
    assert (await export(platform, "hazard-reports", who("330000"), reason="audit")).status_code == 200


async def test_agreement_lifecycle_is_in_the_exchange_log(platform, sharing_db):
    operator = who("340000")  # Anhui
    created = await platform.client.post("/v1/sharing-agreements", headers=operator, json={
        "provider_organisation": f"organisations/{uuid.uuid4().hex}",
        "consumer_organisation": f"organisations/{uuid.uuid4().hex}", "record_type": "hazard_reports",
        "granted_fields": ["level"], "purpose": "p", "legal_basis": "l", "valid_from": str(date(2020, 1, 1)),
        "valid_until": "2099-12-31"})
    agreement = created.json()["id"]
    url = f"/v1/sharing-agreements/{agreement}"
    for action in ("suspend", "resume", "revoke"):
        assert (await platform.client.post(f"{url}/{action}", headers=operator)).status_code == 200
    got = await platform.client.get(url, headers=operator)
    assert got.status_code == 200
    assert got.json()["status"] == "revoked" and got.json()["record_type"] == "hazard_reports"
    async with sharing_db.engine.connect() as conn:
        logged = (await conn.execute(text(
            "SELECT action, record_type FROM exchange_log WHERE record_type = 'sharing_agreements' "
            "AND tenant_code = '340000' ORDER BY seq"))).all()
    assert [tuple(r) for r in logged] == [("create", "sharing_agreements"), ("suspend", "sharing_agreements"),
                                          ("resume", "sharing_agreements"), ("revoke", "sharing_agreements")]


async def test_xlsx_export_drops_characters_a_worksheet_cannot_hold(platform):
    headers = who("350000", sub=f"exporter-{uuid.uuid4().hex[:8]}")  # Fujian
    created = await platform.client.post("/v1/hazard-reports", headers=headers, json=body(
        "hazard-reports", description="valve\x01 leaking\x1f"))
    assert created.status_code == 201, created.text
    response = await export(platform, "hazard-reports", headers, format="xlsx", reason="inspection")
    assert response.status_code == 200, response.text
    values = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert values[1][values[0].index("description")] == "valve leaking"
