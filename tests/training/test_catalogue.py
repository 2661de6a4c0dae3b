"""Catalogue below courses (SPEC TR-1): tags, modules, materials in object storage (inline up to
4 MiB, larger by presigned PUT), the course's xAPI activity id, public publicity materials;
RELIABILITY S3: a foreign tenant's material is 404, tampered or expired presigned URLs are refused."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from services.common.storage import DEFAULT_MAX_SIZE, object_store
from tests.gateway.helpers import assert_problem, bearer
from tests.training.helpers import course, po

TENANT, OTHER = "420000", "410000"
PNG = b"\x89PNG\r\n\x1a\n" + b"poster" * 10


def path(url: str) -> str:
    """The gateway-relative part of a presigned URL (the test client talks to the app directly)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def material(**overrides) -> dict:
    body = {"kind": "infographic", "title": "Dust control poster", "content_type": "image/png",
            "publicity_topic": "occupational_disease", "public": False,
            "content_base64": base64.b64encode(PNG).decode()}
    body.update(overrides)
    return body


@pytest.mark.db
async def test_course_modules_materials_tags_and_activity_id(platform, issuer):
    headers = po(issuer, TENANT)
    course_id = await course(platform, headers)
    tags = await platform.client.put(f"/v1/courses/{course_id}/tags", headers=headers,
                                     json={"industries": ["E47", "b06"], "target_positions": ["front_line_team_leader",
                                                                                             "deputy_head_in_charge"]})
    assert tags.status_code == 200, tags.text
    assert tags.json() == {"industries": ["B06", "E47"],
                           "target_positions": ["deputy_head_in_charge", "front_line_team_leader"]}
    bad = await platform.client.put(f"/v1/courses/{course_id}/tags", headers=headers,
                                    json={"industries": ["A26"], "target_positions": []})
    assert [v["field"] for v in assert_problem(bad, 400)["violations"]] == ["industries[0]"]

    module = await platform.client.post(f"/v1/courses/{course_id}/modules", json={"title": "Hazard basics"},
                                        headers=headers)
    assert module.status_code == 201, module.text
    created = await platform.client.post("/v1/materials", headers=headers, json=material(
        course_module_id=module.json()["id"], kind="document", content_type="application/pdf",
        content_base64=base64.b64encode(b"%PDF-1.4 lesson").decode(), publicity_topic=""))
    assert created.status_code == 201, created.text
    item = created.json()["material"]
    assert item["state"] == "ready" and item["size_bytes"] == len(b"%PDF-1.4 lesson") and item["download_url"]
    downloaded = await platform.client.get(path(item["download_url"]))
    assert downloaded.status_code == 200 and downloaded.content == b"%PDF-1.4 lesson"

    catalogue = await platform.client.get(f"/v1/courses/{course_id}/catalogue",
                                          headers=bearer(issuer, tenant=TENANT, roles=("trainee",)))
    assert catalogue.status_code == 200, catalogue.text
    body = catalogue.json()
    assert body["activity_id"].endswith(f"/xapi/activities/courses/{course_id}")
    assert body["tags"]["industries"] == ["B06", "E47"]
    assert [(m["title"], [x["id"] for x in m["materials"]]) for m in body["modules"]] == [
        ("Hazard basics", [item["id"]])]


@pytest.mark.db
async def test_large_material_goes_by_presigned_put(platform, issuer):
    headers = po(issuer, TENANT)
    size = DEFAULT_MAX_SIZE + 1
    created = await platform.client.post("/v1/materials", headers=headers, json=material(
        kind="video", content_type="video/mp4", content_base64="", size_bytes=size, title="Rescue drill"))
    assert created.status_code == 201, created.text
    item, upload = created.json()["material"], created.json()["upload_url"]
    assert item["state"] == "pending" and item["download_url"] == "" and upload
    wrong_type = await platform.client.put(path(upload), content=b"x", headers={"Content-Type": "image/png"})
    assert wrong_type.status_code == 403
    put = await platform.client.put(path(upload), content=b"\0" * size, headers={"Content-Type": "video/mp4"})
    assert put.status_code in (200, 201, 204), put.text
    ready = (await platform.client.get(f"/v1/materials/{item['id']}", headers=headers)).json()
    assert ready["state"] == "ready" and ready["size_bytes"] == size and ready["download_url"]

    too_big_inline = await platform.client.post("/v1/materials", headers=headers, json=material(
        content_base64=base64.b64encode(b"\0" * (DEFAULT_MAX_SIZE + 1)).decode()))
    assert [v["field"] for v in assert_problem(too_big_inline, 400)["violations"]] == ["content_base64"]


@pytest.mark.db
async def test_foreign_material_is_404_and_presigned_urls_are_guarded(platform, issuer):
    item = (await platform.client.post("/v1/materials", json=material(), headers=po(issuer, OTHER))).json()["material"]
    assert_problem(await platform.client.get(f"/v1/materials/{item['id']}", headers=po(issuer, TENANT)), 404)
    url = path(item["download_url"])
    tampered = url.replace(f"/{OTHER}/", f"/{TENANT}/")
    assert (await platform.client.get(tampered)).status_code in (403, 404)
    signature_changed = url[:-4] + ("AAAA" if not url.endswith("AAAA") else "BBBB")
    assert (await platform.client.get(signature_changed)).status_code == 403
    expired = object_store(platform.settings).presign_get(
        f"{OTHER}/training/materials/{item['id']}", expires=timedelta(minutes=15),
        now=datetime.now(UTC) - timedelta(hours=1))
    refused = await platform.client.get(path(expired))
    assert refused.status_code == 403 and refused.json().get("reason") == "PRESIGNED_URL_EXPIRED"


@pytest.mark.db
async def test_public_publicity_materials_need_no_login(platform, issuer):
    headers = po(issuer, TENANT)
    shown = (await platform.client.post("/v1/materials", headers=headers, json=material(
        public=True, publicity_topic="traffic_accidents", title="Road safety"))).json()["material"]
    hidden = (await platform.client.post("/v1/materials", headers=headers, json=material(
        public=False, publicity_topic="traffic_accidents"))).json()["material"]
    listed = await platform.client.get("/v1/public/publicity-materials",
                                       params={"publicity_topic": "traffic_accidents", "page_size": 100})
    assert listed.status_code == 200, listed.text
    ids = [m["id"] for m in listed.json()["materials"]]
    assert shown["id"] in ids and hidden["id"] not in ids
    public = next(m for m in listed.json()["materials"] if m["id"] == shown["id"])
    assert (await platform.client.get(path(public["download_url"]))).content == PNG
    refused = await platform.client.post("/v1/materials", headers=headers,
                                         json=material(public=True, publicity_topic=""))
    assert {v["field"] for v in assert_problem(refused, 400)["violations"]} >= {"material.public"}
