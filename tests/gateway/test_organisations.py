"""Organisations and employers through REST (SPEC ID-1, ID-2, 7.3, 7.4, 7.7): every type, the
validation rules naming their fields, tenant isolation, what each role may see and change, masking
of contact data, and the all-or-nothing employer import from CSV (UTF-8, UTF-8 with BOM, GB18030)
and XLSX.

Each test works in tenants no other test of this module uses for the same purpose, so counts are
exact although the platform (and its databases) is shared by the whole session."""

from __future__ import annotations

import csv
import io
import random
import time
import uuid
from datetime import datetime

import pytest
from openpyxl import Workbook, load_workbook

from services.common.validators import USCC_ALPHABET, uscc_check_char
from tests.gateway.helpers import assert_problem, bearer, violation_fields

PO_BEIJING = dict(tenant="110000", roles=("provincial_operator",))
PO_TIANJIN = dict(tenant="120000", roles=("provincial_operator",))
MINISTRY = dict(tenant="100000", roles=("ministry_operator",))
COLUMNS = ["uscc", "display_name", "industry_code", "risk_class", "headcount", "insured_headcount",
           "pooling_region_code", "contact_name", "contact_phone"]
CHINESE = ["统一社会信用代码", "单位名称", "行业代码", "风险类别", "职工人数", "参保人数", "统筹地区", "联系人",
           "联系电话"]

_rng = random.Random()


def uscc() -> str:
    prefix = "".join(_rng.choice(USCC_ALPHABET) for _ in range(17))
    return prefix + uscc_check_char(prefix)


def wrong_check_char(code: str) -> str:
    return code[:17] + next(c for c in USCC_ALPHABET if c != code[17])


def employer(tenant: str = "110000", **profile) -> dict:
    return {
        "type": "employer", "display_name": f"测试企业 {uuid.uuid4().hex[:8]}",
        "employer": {"uscc": uscc(), "industry_code": "C2611", "risk_class": 3, "headcount": 120,
                     "insured_headcount": 100, "pooling_region_code": tenant, **profile},
        "contact_name": "王小明", "contact_phone": "13912345678",
    }


async def create(platform, issuer, body: dict, who: dict = PO_BEIJING, **headers) -> dict:
    r = await platform.client.post("/v1/organisations", json=body, headers={**bearer(issuer, **who), **headers})
    assert r.status_code == 201, r.text
    return r.json()


async def list_all(platform, headers: dict, **params) -> list[dict]:
    found, token = [], ""
    while True:
        r = await platform.client.get("/v1/organisations", headers=headers,
                                      params={**params, "page_size": 500, "page_token": token})
        assert r.status_code == 200, r.text
        found += r.json()["organisations"]
        token = r.json()["next_page_token"]
        if not token:
            return found


# -- create: every type, and the rules naming their fields ------------------------------------------


@pytest.mark.parametrize("body", [
    {"type": "government_department", "department_type": "hrss"},
    {"type": "government_department", "department_type": "industry_regulator", "sector": "construction"},
    {"type": "training_institution"},
    {"type": "service_institution"},
    {"type": "training_platform"},
    {"type": "technical_school"},
], ids=["hrss", "industry-regulator", "training-institution", "service-institution", "training-platform",
        "technical-school"])
async def test_create_each_organisation_type(platform, issuer, body):
    created = await create(platform, issuer, {**body, "display_name": f"机构 {uuid.uuid4().hex[:6]}"})
    assert created["tenant_code"] == "110000"
    assert created["type"] == body["type"]
    assert created["department_type"] == body.get("department_type")
    assert created["sector"] == body.get("sector")
    assert created["employer"] is None
    r = await platform.client.get(f"/v1/organisations/{created['id']}", headers=bearer(issuer, **PO_BEIJING))
    assert r.status_code == 200 and r.json() == created


async def test_create_employer_with_its_profile(platform, issuer):
    body = employer()
    created = await create(platform, issuer, body)
    assert created["type"] == "employer"
    assert created["employer"] == body["employer"]
    assert created["contact_name"] == "王小明" and created["contact_phone"] == "13912345678"
    assert created["create_time"] == created["update_time"]


@pytest.mark.parametrize(("change", "field"), [
    ({"uscc": "wrong-check"}, "employer.uscc"),
    ({"uscc": "91110000I00000000X"}, "employer.uscc"),  # I is not in the USCC alphabet
    ({"risk_class": 9}, "employer.risk_class"),
    ({"risk_class": 0}, "employer.risk_class"),
    ({"headcount": -1}, "employer.headcount"),
    ({"headcount": 10, "insured_headcount": 11}, "employer.insured_headcount"),
    ({"pooling_region_code": "110100"}, "employer.pooling_region_code"),  # no such tenant
    ({"pooling_region_code": "120000"}, "employer.pooling_region_code"),  # another province
    ({"industry_code": "A26"}, "employer.industry_code"),  # division 26 is manufacturing (C)
], ids=["uscc-check-char", "uscc-alphabet", "risk-class-9", "risk-class-0", "negative-headcount",
        "insured-over-headcount", "unknown-pooling-region", "foreign-pooling-region", "industry-section"])
async def test_invalid_employer_is_400_naming_the_field(platform, issuer, change, field):
    body = employer()
    if change.get("uscc") == "wrong-check":
        change = {"uscc": wrong_check_char(body["employer"]["uscc"])}
    body["employer"].update(change)
    r = await platform.client.post("/v1/organisations", json=body, headers=bearer(issuer, **PO_BEIJING))
    problem = assert_problem(r, 400)
    assert violation_fields(problem) == [field]
    assert "13912345678" not in r.text


@pytest.mark.parametrize(("body", "fields"), [
    ({"type": "government_department"}, ["department_type"]),
    ({"type": "government_department", "department_type": "industry_regulator"}, ["sector"]),
    ({"type": "government_department", "department_type": "health", "sector": "mining"}, ["sector"]),
    ({"type": "employer"}, ["employer"]),
    ({"type": "training_platform", "department_type": "hrss"}, ["department_type"]),
    ({"type": "training_platform", "contact_phone": "12345"}, ["contact_phone"]),
    ({"type": "training_platform", "display_name": "   "}, ["display_name"]),
], ids=["department-type-required", "sector-required", "sector-only-for-regulators", "employer-required",
        "department-type-only-for-departments", "bad-phone", "blank-name"])
async def test_type_rules_are_400_naming_the_field(platform, issuer, body, fields):
    body = {"display_name": "某机构", **body}
    r = await platform.client.post("/v1/organisations", json=body, headers=bearer(issuer, **PO_BEIJING))
    problem = assert_problem(r, 400)
    assert violation_fields(problem) == fields
    assert "12345" not in problem["detail"]  # personal data never in messages


async def test_training_platform_may_not_carry_an_employer_profile(platform, issuer):
    body = {**employer(), "type": "training_platform"}
    r = await platform.client.post("/v1/organisations", json=body, headers=bearer(issuer, **PO_BEIJING))
    assert violation_fields(assert_problem(r, 400)) == ["employer"]


async def test_duplicate_uscc_is_409(platform, issuer):
    body = employer()
    await create(platform, issuer, body)
    again = employer()
    again["employer"]["uscc"] = body["employer"]["uscc"]
    r = await platform.client.post("/v1/organisations", json=again, headers=bearer(issuer, **PO_BEIJING))
    assert_problem(r, 409, reason="USCC_TAKEN")
    # across tenants too: a USCC names one legal entity nationwide
    again["employer"]["pooling_region_code"] = "120000"
    r = await platform.client.post("/v1/organisations", json=again, headers=bearer(issuer, **PO_TIANJIN))
    assert_problem(r, 409)


async def test_create_with_the_same_idempotency_key_replays(platform, issuer):
    who = dict(PO_BEIJING, sub=f"idem-{uuid.uuid4().hex[:8]}")
    body = employer()
    first = await create(platform, issuer, body, who, **{"Idempotency-Key": "org-create-1"})
    second = await create(platform, issuer, body, who, **{"Idempotency-Key": "org-create-1"})
    assert first == second


# -- tenants: from the token; ministry operators may name one -------------------------------------


async def test_tenant_code_in_the_body_is_ignored_for_provincial_operators(platform, issuer):
    body = {"type": "training_platform", "display_name": "平台", "tenant_code": "120000"}
    assert (await create(platform, issuer, body))["tenant_code"] == "110000"


async def test_ministry_operator_names_the_tenant(platform, issuer):
    body = {"type": "training_platform", "display_name": "全国平台"}
    assert (await create(platform, issuer, body, MINISTRY))["tenant_code"] == "100000"
    assert (await create(platform, issuer, {**body, "tenant_code": "120000"}, MINISTRY))["tenant_code"] == "120000"
    # an employer goes to the province of its pooling region
    assert (await create(platform, issuer, employer("130000"), MINISTRY))["tenant_code"] == "130000"
    r = await platform.client.post("/v1/organisations", json={**body, "tenant_code": "990000"},
                                   headers=bearer(issuer, **MINISTRY))
    assert violation_fields(assert_problem(r, 400)) == ["tenant_code"]


# -- visibility (SPEC 7.3) and masking ------------------------------------------------------------


async def test_provincial_operator_cannot_see_another_tenants_employer(platform, issuer):
    tianjin = await create(platform, issuer, employer("120000"), PO_TIANJIN)
    r = await platform.client.get(f"/v1/organisations/{tianjin['id']}", headers=bearer(issuer, **PO_BEIJING))
    unknown = await platform.client.get(f"/v1/organisations/{uuid.uuid4().hex}", headers=bearer(issuer, **PO_BEIJING))
    assert_problem(r, 404)
    assert_problem(unknown, 404)
    # answered exactly like an unknown id: same status, reason and wording
    assert r.json()["reason"] == unknown.json()["reason"]
    assert r.json()["detail"].replace(tianjin["id"], "{id}") == unknown.json()["detail"].replace(
        unknown.url.path.rsplit("/", 1)[-1], "{id}")
    assert tianjin["id"] not in {o["id"] for o in await list_all(platform, bearer(issuer, **PO_BEIJING))}
    r = await platform.client.patch(f"/v1/organisations/{tianjin['id']}", json={"display_name": "x"},
                                    headers=bearer(issuer, **PO_BEIJING))
    assert_problem(r, 404)


async def test_ministry_operator_reads_any_tenant_and_the_read_is_audited(platform, issuer):
    tianjin = await create(platform, issuer, employer("120000"), PO_TIANJIN)
    subject = f"mo-{uuid.uuid4().hex[:8]}"
    r = await platform.client.get(f"/v1/organisations/{tianjin['id']}", headers=bearer(issuer, **MINISTRY, sub=subject))
    assert r.status_code == 200, r.text
    assert r.json()["contact_phone"] == "13912345678"  # ministry operators see personal data
    r = await platform.client.get("/v1/audit-events", params={"kind": "CROSS_TENANT_READ", "page_size": 500},
                                  headers=bearer(issuer, **PO_TIANJIN))
    assert r.status_code == 200, r.text
    assert any(e["actor"] == subject and e["target"] == f"organisations/{tianjin['id']}"
               and e["tenant_code"] == "120000" for e in r.json()["audit_events"])


async def test_employer_officer_sees_only_its_employer_masked_and_changes_only_contact_data(platform, issuer):
    own = await create(platform, issuer, employer())
    other = await create(platform, issuer, employer())
    for claim in (f"organisations/{own['id']}", own["id"]):  # both forms of the `org` claim
        eo = bearer(issuer, tenant="110000", roles=("employer_officer",), org=claim)
        r = await platform.client.get(f"/v1/organisations/{own['id']}", headers=eo)
        assert r.status_code == 200, r.text
        assert r.json()["contact_phone"] == "139****5678" and r.json()["contact_name"] == "王**"
        assert_problem(await platform.client.get(f"/v1/organisations/{other['id']}", headers=eo), 404)
        assert [o["id"] for o in await list_all(platform, eo)] == [own["id"]]

    r = await platform.client.patch(f"/v1/organisations/{own['id']}",
                                    json={"contact_phone": "13800001111", "contact_name": "李四"}, headers=eo)
    assert r.status_code == 200, r.text
    assert r.json()["contact_phone"] == "138****1111"
    r = await platform.client.get(f"/v1/organisations/{own['id']}", headers=bearer(issuer, **PO_BEIJING))
    assert r.json()["contact_phone"] == "13800001111" and r.json()["contact_name"] == "李四"
    assert datetime.fromisoformat(r.json()["update_time"]) > datetime.fromisoformat(r.json()["create_time"])

    for body, field in (({"employer": {"headcount": 1}}, "employer.headcount"),
                        ({"display_name": "改名"}, "display_name")):
        r = await platform.client.patch(f"/v1/organisations/{own['id']}", json=body, headers=eo)
        assert field in assert_problem(r, 403)["detail"]
    r = await platform.client.patch(f"/v1/organisations/{other['id']}", json={"contact_phone": "13800001111"},
                                    headers=eo)
    assert_problem(r, 404)


async def test_department_liaison_sees_its_department_masked_and_provincial_operator_in_clear(platform, issuer):
    department = await create(platform, issuer, {"type": "government_department", "department_type": "emergency",
                                                 "display_name": "应急管理局", "contact_name": "张三",
                                                 "contact_phone": "010-12345678"})
    assert department["contact_phone"] == "010-12345678" and department["contact_name"] == "张三"
    dl = bearer(issuer, tenant="110000", roles=("department_liaison",), org=f"organisations/{department['id']}")
    r = await platform.client.get(f"/v1/organisations/{department['id']}", headers=dl)
    assert r.status_code == 200, r.text
    assert r.json()["contact_phone"] == "010*****5678" and r.json()["contact_name"] == "张*"
    # without an organisation in the token a liaison sees none
    nobody = bearer(issuer, tenant="110000", roles=("department_liaison",))
    assert await list_all(platform, nobody) == []
    assert_problem(await platform.client.get(f"/v1/organisations/{department['id']}", headers=nobody), 404)


async def test_provincial_operator_updates_any_field_and_rules_still_hold(platform, issuer):
    org = await create(platform, issuer, employer())
    path, po = f"/v1/organisations/{org['id']}", bearer(issuer, **PO_BEIJING)
    r = await platform.client.patch(path, json={"employer": {"headcount": 500, "risk_class": 5},
                                                "display_name": "新名称"}, headers=po)
    assert r.status_code == 200, r.text
    assert r.json()["employer"]["headcount"] == 500 and r.json()["employer"]["risk_class"] == 5
    assert r.json()["employer"]["insured_headcount"] == 100 and r.json()["display_name"] == "新名称"
    r = await platform.client.patch(path, json={"employer": {"headcount": 50}}, headers=po)  # below insured 100
    assert violation_fields(assert_problem(r, 400)) == ["employer.insured_headcount"]
    r = await platform.client.patch(path, json={"employer": {"uscc": wrong_check_char(uscc())}}, headers=po)
    assert violation_fields(assert_problem(r, 400)) == ["employer.uscc"]
    r = await platform.client.patch(path, json={"type": "training_platform"}, headers=po)
    assert violation_fields(assert_problem(r, 400)) == ["type"]  # unknown to the patch body
    r = await platform.client.patch(path, json={"contact_phone": None}, headers=po)
    assert r.status_code == 200 and r.json()["contact_phone"] == ""
    r = await platform.client.patch(path, json={}, headers=po)
    assert r.status_code == 200 and r.json()["display_name"] == "新名称"


async def test_list_filters_by_type_and_pages_with_a_keyset_token(platform, issuer):
    who = dict(tenant="140000", roles=("provincial_operator",))
    made = [await create(platform, issuer, {"type": "technical_school", "display_name": f"技校 {i}"}, who)
            for i in range(5)]
    await create(platform, issuer, employer("140000"), who)
    headers = bearer(issuer, **who)
    seen, token, tokens = [], "", []
    while True:
        r = await platform.client.get("/v1/organisations", headers=headers,
                                      params={"type": "technical_school", "page_size": 2, "page_token": token})
        assert r.status_code == 200, r.text
        seen += [o["id"] for o in r.json()["organisations"]]
        token = r.json()["next_page_token"]
        if not token:
            break
        tokens.append(token)
    assert seen == [o["id"] for o in reversed(made)]  # newest first, each once
    assert len(tokens) == 2
    # a token belongs to its query
    r = await platform.client.get("/v1/organisations", headers=headers, params={"type": "employer",
                                                                                 "page_token": tokens[0]})
    assert violation_fields(assert_problem(r, 400)) == ["page_token"]


# -- import ------------------------------------------------------------------------------------


def employer_rows(n: int, pooling: str) -> list[list[str]]:
    rows, rng = [], random.Random(n)
    for i in range(n):
        headcount = rng.randint(1, 5000)
        rows.append([uscc(), f"测试单位{i:05d}有限公司", rng.choice(["C2611", "E4710", "B0610", "G5430"]),
                     str(rng.randint(1, 8)), str(headcount), str(rng.randint(0, headcount)), pooling,
                     "赵六", f"139{i:08d}"])
    return rows


def csv_bytes(rows: list[list[str]], header: list[str], encoding: str) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list], header: list[str]) -> bytes:
    workbook = Workbook()
    workbook.active.append(header)
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def upload(platform, headers: dict, filename: str, content: bytes, validate_only: bool = False,
                 key: str | None = None):
    extra = {"Idempotency-Key": key} if key else {}
    return await platform.client.post(
        "/v1/employers:import", headers={**headers, **extra},
        files={"file": (filename, content, "application/octet-stream")},
        data={"validate_only": "true" if validate_only else "false"},
    )


async def count_employers(platform, headers: dict) -> int:
    return len(await list_all(platform, headers, type="employer"))


async def test_import_10000_gb18030_rows_with_3_bad_rows_reports_exactly_them_and_writes_nothing(platform, issuer):
    who = bearer(issuer, tenant="320000", roles=("provincial_operator",))
    rows = employer_rows(10_000, "320000")
    good = [list(r) for r in rows]
    rows[16][0] = wrong_check_char(rows[16][0])           # data row 17: USCC check character
    rows[4999][3] = "9"                                    # data row 5000: risk class
    rows[9998][4], rows[9998][5] = "10", "11"              # data row 9999: insured > headcount
    content = csv_bytes(rows, CHINESE, "gb18030")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")
    before = await count_employers(platform, who)

    r = await upload(platform, who, "单位名单.csv", content)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["rows"] == 10_000 and report["created"] == 0
    assert [(e["row"], e["field"]) for e in report["errors"]] == [
        (17, "uscc"), (5000, "risk_class"), (9999, "insured_headcount")]
    assert await count_employers(platform, who) == before

    fixed = csv_bytes(good, CHINESE, "gb18030")
    started = time.perf_counter()
    r = await upload(platform, who, "单位名单.csv", fixed)
    elapsed = time.perf_counter() - started
    print(f"\nimport of 10,000 GB18030 rows: {elapsed:.2f} s")
    assert r.status_code == 200, r.text
    assert r.json() == {"rows": 10_000, "created": 10_000, "errors": []}
    assert await count_employers(platform, who) == before + 10_000
    assert elapsed < 30, f"the import took {elapsed:.1f} s"

    # the same file again: every USCC now exists, so every row is reported and nothing written
    r = await upload(platform, who, "单位名单.csv", fixed, validate_only=True)
    assert r.json()["created"] == 0 and len(r.json()["errors"]) == 1_001  # capped, with a final note
    assert r.json()["errors"][0]["description"] == "an organisation with this USCC already exists"


async def test_import_xlsx(platform, issuer):
    who = bearer(issuer, tenant="330000", roles=("provincial_operator",))
    rows = employer_rows(3, "330000")
    for row in rows:  # as Excel stores numbers
        row[3], row[4], row[5] = int(row[3]), int(row[4]), float(row[5])
    before = await count_employers(platform, who)
    r = await upload(platform, who, "employers.xlsx", xlsx_bytes(rows, COLUMNS))
    assert r.json() == {"rows": 3, "created": 3, "errors": []}, r.text
    created = {o["employer"]["uscc"]: o for o in await list_all(platform, who, type="employer")}
    assert len(created) == before + 3
    first = created[rows[0][0]]
    assert first["display_name"] == rows[0][1] and first["employer"]["headcount"] == rows[0][4]
    assert first["contact_phone"] == rows[0][8]


async def test_import_utf8_with_bom_and_validate_only(platform, issuer):
    who = bearer(issuer, tenant="340000", roles=("provincial_operator",))
    content = b"\xef\xbb\xbf" + csv_bytes(employer_rows(4, "340000"), CHINESE, "utf-8")
    before = await count_employers(platform, who)
    r = await upload(platform, who, "employers.csv", content, validate_only=True)
    assert r.json() == {"rows": 4, "created": 0, "errors": []}, r.text
    assert await count_employers(platform, who) == before
    r = await upload(platform, who, "employers.csv", content)
    assert r.json() == {"rows": 4, "created": 4, "errors": []}, r.text
    assert await count_employers(platform, who) == before + 4


async def test_import_with_the_same_idempotency_key_replays(platform, issuer):
    who = bearer(issuer, tenant="350000", roles=("provincial_operator",), sub=f"importer-{uuid.uuid4().hex[:8]}")
    content = csv_bytes(employer_rows(5, "350000"), COLUMNS, "utf-8")
    before = await count_employers(platform, who)
    first = await upload(platform, who, "employers.csv", content, key="import-1")
    second = await upload(platform, who, "employers.csv", content, key="import-1")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() == {"rows": 5, "created": 5, "errors": []}
    assert await count_employers(platform, who) == before + 5
    other = csv_bytes(employer_rows(6, "350000"), COLUMNS, "utf-8")
    assert_problem(await upload(platform, who, "employers.csv", other, key="import-1"), 422)


async def test_import_reports_header_and_file_problems_as_row_0(platform, issuer):
    who = bearer(issuer, tenant="360000", roles=("provincial_operator",))
    header = [c for c in COLUMNS if c != "headcount"] + ["remarks"]
    r = await upload(platform, who, "employers.csv", csv_bytes([], header, "utf-8"))
    assert {(e["row"], e["field"]) for e in r.json()["errors"]} == {(0, "headcount"), (0, "remarks")}
    r = await upload(platform, who, "employers.xlsx", b"not a workbook")
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(0, "file")]
    r = await upload(platform, who, "employers.txt", b"uscc\r\n")
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(0, "file")]


async def test_import_is_for_operators_only(platform, issuer):
    eo = bearer(issuer, tenant="110000", roles=("employer_officer",))
    r = await upload(platform, eo, "employers.csv", csv_bytes([], COLUMNS, "utf-8"))
    assert_problem(r, 403)


@pytest.mark.parametrize("language", ["zh", "en"])
async def test_import_templates_are_importable_headers(platform, issuer, language):
    expected = CHINESE if language == "zh" else COLUMNS
    r = await platform.client.get("/v1/employers/import-template", params={"format": "csv", "language": language})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    assert r.content.decode("utf-8-sig").strip().split(",") == expected
    csv_template = r.content
    r = await platform.client.get("/v1/employers/import-template", params={"format": "xlsx", "language": language})
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert [c.value for c in next(sheet.iter_rows())] == expected
    who = bearer(issuer, **PO_BEIJING)
    for filename, content in (("template.csv", csv_template), ("template.xlsx", r.content)):
        response = await upload(platform, who, filename, content)
        assert response.json() == {"rows": 0, "created": 0, "errors": []}


async def test_import_over_the_size_limit_is_413(platform, issuer):
    from gateway.routers.organisations import IMPORT_MAX_BYTES

    who = bearer(issuer, **PO_BEIJING)
    r = await upload(platform, who, "employers.csv", b"x" * (IMPORT_MAX_BYTES + 1))
    assert_problem(r, 413, reason="PAYLOAD_TOO_LARGE")


async def test_import_reports_a_uscc_held_in_another_tenant(platform, issuer):
    # On PostgreSQL row-level security hides Tianjin's rows from Shandong's operator; the unique
    # constraint does not, and the import reports the row instead of writing any.
    tianjin = await create(platform, issuer, employer("120000"), PO_TIANJIN)
    who = bearer(issuer, tenant="370000", roles=("provincial_operator",))
    rows = employer_rows(3, "370000")
    rows[1][0] = tianjin["employer"]["uscc"]
    r = await upload(platform, who, "employers.csv", csv_bytes(rows, COLUMNS, "utf-8"))
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 0
    assert [(e["row"], e["field"]) for e in r.json()["errors"]] == [(2, "uscc")]
    assert await count_employers(platform, who) == 0
