"""Project documents in object storage (SPEC AS-1) through REST: a call's guideline and template
form and an application's documents are uploaded by presigned PUT, a call or application naming a
key that holds no upload is refused naming each field (nothing stored), and the documents are
downloaded by presigned GET by whoever may see the call or project, not across provinces."""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

import pytest

from tests.assessment.helpers import DOCUMENT_KINDS
from tests.gateway.helpers import assert_problem, bearer, violation_fields

pytestmark = pytest.mark.db

TENANT = "450000"  # Guangxi: no other assessment test files there
PDF = b"%PDF-1.4\n% an application form\n"


def headers(issuer, role: str, tenant: str = TENANT, **claims) -> dict:
    return bearer(issuer, tenant=tenant, roles=(role,), **claims)


async def upload(platform, who: dict, kind: str, content: bytes = PDF, content_type: str = "application/pdf") -> str:
    created = await platform.client.post("/v1/document-uploads", headers=who,
                                         json={"kind": kind, "content_type": content_type})
    assert created.status_code == 201, created.text
    key, url = created.json()["object_key"], urlsplit(created.json()["upload_url"])
    assert key.startswith(f"{TENANT}/assessment/{kind}/") and url.path == f"/objects/{key}"
    put = await platform.client.put(f"{url.path}?{url.query}", content=content, headers={"Content-Type": content_type})
    assert put.status_code in (200, 201, 204), put.text
    return key


async def download(platform, who: dict, path: str) -> tuple[int, bytes]:
    link = await platform.client.get(path, headers=who)
    if link.status_code != 200:
        return link.status_code, b""
    url = urlsplit(link.json()["download_url"])
    got = await platform.client.get(f"{url.path}?{url.query}")
    assert got.status_code == 200, got.text
    return 200, got.content


async def test_documents_are_uploaded_checked_and_downloaded(platform, issuer):
    po = headers(issuer, "provincial_operator")
    applicant = headers(issuer, "service_institution", org=uuid.uuid4().hex)
    guideline, template = await upload(platform, po, "guideline"), await upload(platform, po, "template_form")
    call = await platform.client.post("/v1/project-calls", headers=po, json={
        "title": "documents", "year": 2026, "closes_on": "2099-12-31", "guideline_object": guideline,
        "template_form_object": template})
    assert call.status_code == 201, call.text
    call_id = call.json()["name"].removeprefix("projectCalls/")

    files = {k: f"%PDF-1.4\n% {k}\n".encode() for k in DOCUMENT_KINDS}
    keys = {k: await upload(platform, applicant, "project_document", files[k]) for k in DOCUMENT_KINDS}
    body = {"call": f"projectCalls/{call_id}", "title": "documented project", "category": "training",
            "requested_budget_fen": 100_000_00, "planned_start": "2026-03-01", "planned_end": "2027-02-28",
            "documents": [{"kind": k, "object_key": keys[k]} for k in DOCUMENT_KINDS]}
    project = await platform.client.post("/v1/projects", headers=applicant, json=body)
    assert project.status_code == 201, project.text
    project_id = project.json()["name"].removeprefix("projects/")

    # Whoever may see the call or project downloads what was uploaded.
    for who in (po, applicant, headers(issuer, "ministry_operator", tenant="100000")):
        assert await download(platform, who, f"/v1/projects/{project_id}/documents/feasibility_report") \
            == (200, files["feasibility_report"])
    assert await download(platform, po, f"/v1/project-calls/{call_id}/documents/guideline") == (200, PDF)
    # Not across provinces, nor another applicant of the province: as for the project itself.
    assert (await download(platform, headers(issuer, "provincial_operator", tenant="110000"),
                           f"/v1/projects/{project_id}/documents/feasibility_report"))[0] == 404
    other = headers(issuer, "service_institution", org=uuid.uuid4().hex)
    assert (await download(platform, other, f"/v1/projects/{project_id}/documents/feasibility_report"))[0] == 404
    assert (await download(platform, headers(issuer, "provincial_operator", tenant="110000"),
                           f"/v1/project-calls/{call_id}/documents/guideline"))[0] == 404


async def test_a_key_without_an_upload_is_refused_naming_each_field(platform, issuer):
    po = headers(issuer, "provincial_operator")
    guideline = await upload(platform, po, "guideline")
    missing = f"{TENANT}/assessment/template_form/{uuid.uuid4().hex}"
    before = (await platform.client.get("/v1/project-calls", headers=po, params={"page_size": 500})).json()
    problem = assert_problem(await platform.client.post("/v1/project-calls", headers=po, json={
        "title": "no template", "year": 2026, "closes_on": "2099-12-31", "guideline_object": guideline,
        "template_form_object": missing}), 400)
    assert violation_fields(problem) == ["project_call.template_form_object"], problem
    assert "upload" in problem["violations"][0]["description"], problem
    after = (await platform.client.get("/v1/project-calls", headers=po, params={"page_size": 500})).json()
    assert after == before

    call = await platform.client.post("/v1/project-calls", headers=po, json={
        "title": "documents", "year": 2026, "closes_on": "2099-12-31", "guideline_object": guideline,
        "template_form_object": await upload(platform, po, "template_form")})
    applicant = headers(issuer, "employer_officer", org=uuid.uuid4().hex)
    keys = {k: await upload(platform, applicant, "project_document") for k in DOCUMENT_KINDS}
    keys["cost_estimate"] = f"{TENANT}/assessment/project_document/{uuid.uuid4().hex}"  # never uploaded
    keys["qualification"] = f"{TENANT}/assessment/project_document/never-uploaded"
    problem = assert_problem(await platform.client.post("/v1/projects", headers=applicant, json={
        "call": call.json()["name"], "title": "missing documents", "category": "training",
        "requested_budget_fen": 100_000_00, "planned_start": "2026-03-01", "planned_end": "2027-02-28",
        "documents": [{"kind": k, "object_key": keys[k]} for k in DOCUMENT_KINDS]}), 400)
    assert violation_fields(problem) == [f"project.documents[{DOCUMENT_KINDS.index(k)}].object_key"
                                         for k in ("cost_estimate", "qualification")], problem
    listed = (await platform.client.get("/v1/projects", headers=applicant)).json()["projects"]
    assert listed == []


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "contract", "content_type": "application/pdf"}, "kind"),
    ({"kind": "guideline", "content_type": "text/html"}, "content_type"),
    ({"kind": "guideline"}, "content_type"),
])
async def test_upload_requests_are_validated(platform, issuer, body, field):
    problem = assert_problem(await platform.client.post(
        "/v1/document-uploads", headers=headers(issuer, "provincial_operator"), json=body), 400)
    assert any(field in f for f in violation_fields(problem)), problem
