"""Personal data is shown unmasked only to ministry operators, provincial operators of the
person's tenant and the person themself (SPEC 7.3; RELIABILITY S7)."""

from __future__ import annotations

import pytest

from services.common.policy import ROLES
from tests.isolation.resources import TENANT_A, TENANT_B, course_body, user_body

PHONE, CITIZEN_ID = "13912345678", "11010519491231002X"


def auth(issuer, role: str, tenant: str = TENANT_A, sub: str | None = None) -> dict:
    tenant = "100000" if role == "ministry_operator" else tenant
    return {"Authorization": f"Bearer {issuer.token(tenant=tenant, roles=[role], sub=sub)}"}


@pytest.fixture
async def course(platform, issuer):
    headers = auth(issuer, "provincial_operator")
    response = await platform.client.post("/v1/courses", json=course_body(), headers=headers)
    assert response.status_code == 201 and response.json()["contact_phone"] == PHONE
    return response.json()["id"]


@pytest.mark.parametrize("role", ROLES)
async def test_course_contact_phone_masked_for_every_role_not_allowed(platform, issuer, course, role):
    response = await platform.client.get(f"/v1/courses/{course}", headers=auth(issuer, role))
    assert response.status_code == 200
    phone = response.json()["contact_phone"]
    if role in ("ministry_operator", "provincial_operator"):
        assert phone == PHONE
    else:
        assert phone != PHONE and phone.startswith("139") and "*" in phone


async def test_operator_of_another_province_sees_no_phone(platform, issuer, course):
    response = await platform.client.get(f"/v1/courses/{course}", headers=auth(issuer, "provincial_operator", TENANT_B))
    assert response.status_code == 404


@pytest.mark.parametrize("role", ROLES)
async def test_citizen_id_only_for_allowed_readers(platform, issuer, role):
    created = await platform.client.post("/v1/users", json=user_body(), headers=auth(issuer, "provincial_operator"))
    assert created.status_code == 201 and created.json()["citizen_id"] == CITIZEN_ID
    user_id = created.json()["id"]
    response = await platform.client.get(f"/v1/users/{user_id}", headers=auth(issuer, role))
    if role in ("ministry_operator", "provincial_operator"):
        assert response.status_code == 200 and response.json()["citizen_id"] == CITIZEN_ID
    else:
        assert response.status_code == 404, "others cannot read the user at all"
    self_view = await platform.client.get("/v1/users/me", headers=auth(issuer, "trainee", sub=user_id))
    assert self_view.status_code == 200 and self_view.json()["citizen_id"] == CITIZEN_ID
    listed = await platform.client.get("/v1/users", params={"page_size": 500},
                                       headers=auth(issuer, "provincial_operator", TENANT_B))
    assert all(u["id"] != user_id for u in listed.json()["users"])


async def test_users_and_clients_bind_only_to_organisations_of_their_tenant(platform, issuer):
    """The `org` claim of issued tokens comes from this binding (review S2)."""
    from tests.isolation.resources import client_body, employer_in

    foreign = (await employer_in(TENANT_B)(platform, issuer))["organisation_id"]
    own = (await employer_in(TENANT_A)(platform, issuer))["organisation_id"]
    headers = auth(issuer, "provincial_operator")
    for organisation in (f"organisations/{foreign}", "organisations/" + "0" * 32):
        refused = await platform.client.post("/v1/users", json={**user_body(), "organisation": organisation},
                                             headers=headers)
        assert refused.status_code == 400 and refused.json()["violations"][0]["field"] == "user.organisation"
        refused = await platform.client.post("/v1/api-clients", json={**client_body(), "organisation": organisation},
                                             headers=headers)
        assert refused.status_code == 400 and refused.json()["violations"][0]["field"] == "api_client.organisation"
    bound = await platform.client.post("/v1/users", json={**user_body(), "organisation": f"organisations/{own}"},
                                       headers=headers)
    assert bound.status_code == 201 and bound.json()["organisation"] == f"organisations/{own}"


async def test_provincial_operator_cannot_touch_a_ministry_operator(platform, issuer):
    created = await platform.client.post("/v1/users", headers=auth(issuer, "ministry_operator"),
                                         json={**user_body(), "roles": ["ministry_operator"], "tenant_code": "110000"})
    assert created.status_code == 201, created.text
    for change in ({"enabled": False}, {"phone": "13800000000"}):
        response = await platform.client.patch(f"/v1/users/{created.json()['id']}", json=change,
                                               headers=auth(issuer, "provincial_operator"))
        assert response.status_code == 403, response.text
