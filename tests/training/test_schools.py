"""Technical-school prevention courses and warning-education bases (SPEC TR-7)."""

from __future__ import annotations

import pytest

from tests.gateway.helpers import assert_problem, bearer
from tests.training.helpers import po

TENANT, OTHER = "330000", "320000"


@pytest.mark.db
async def test_school_courses_record_their_mandatory_content(platform, issuer):
    created = await platform.client.post("/v1/technical-school-courses", headers=po(issuer, TENANT), json={
        "school_name": "Hangzhou Technician College", "course_title": "Safe welding",
        "content_categories": ["warning_education", "accident_prevention"], "academic_year": 2026})
    assert created.status_code == 201, created.text
    assert created.json()["content_categories"] == ["accident_prevention", "warning_education"]
    listed = await platform.client.get("/v1/technical-school-courses", params={"page_size": 100},
                                       headers=bearer(issuer, tenant=TENANT, roles=("trainee",)))
    assert created.json()["id"] in [c["id"] for c in listed.json()["technical_school_courses"]]
    other = await platform.client.get("/v1/technical-school-courses", params={"page_size": 100},
                                      headers=po(issuer, OTHER))
    assert created.json()["id"] not in [c["id"] for c in other.json()["technical_school_courses"]]
    bad = await platform.client.post("/v1/technical-school-courses", headers=po(issuer, TENANT), json={
        "school_name": "x", "course_title": "y", "content_categories": ["cooking"], "academic_year": 2026})
    assert_problem(bad, 400)


@pytest.mark.db
async def test_warning_education_bases_per_tenant_with_a_safe_website(platform, issuer):
    created = await platform.client.post("/v1/warning-education-bases", headers=po(issuer, TENANT), json={
        "display_name": "Zhejiang work-safety warning base", "address": "Hangzhou", "industries": ["e47", "B06"],
        "website": "https://warning.example.org/"})
    assert created.status_code == 201, created.text
    assert created.json()["industries"] == ["B06", "E47"]
    listed = await platform.client.get("/v1/warning-education-bases", headers=po(issuer, TENANT))
    assert created.json()["id"] in [b["id"] for b in listed.json()["warning_education_bases"]]
    refused = await platform.client.post("/v1/warning-education-bases", headers=po(issuer, TENANT), json={
        "display_name": "Base", "website": "https://169.254.169.254/"})
    assert [v["field"] for v in assert_problem(refused, 400)["violations"]] == ["warning_education_base.website"]
    assert_problem(await platform.client.post("/v1/warning-education-bases", json={"display_name": "x"},
                                              headers=bearer(issuer, tenant=TENANT, roles=("trainee",))), 403)
