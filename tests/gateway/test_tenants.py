"""Pooling regions (SPEC 3, 7.7): ministry operators add them under a province."""

from tests.gateway.helpers import bearer


async def test_ministry_adds_a_pooling_region(platform, issuer):
    ministry = bearer(issuer, tenant="100000", roles=("ministry_operator",))
    body = {"code": "620100", "parent_code": "620000", "display_name": "兰州市", "display_name_en": "Lanzhou"}
    created = await platform.client.post("/v1/tenants", json=body, headers=ministry)
    assert created.status_code in (201, 409), created.text
    again = await platform.client.post("/v1/tenants", json=body, headers=ministry)
    assert again.status_code == 409
    children = await platform.client.get("/v1/tenants", params={"parent": "620000"}, headers=ministry)
    assert [(t["code"], t["level"]) for t in children.json()["tenants"]] == [("620100", "pooling_region")]
    gansu = bearer(issuer, tenant="620000", roles=("provincial_operator",))
    seen = await platform.client.get("/v1/tenants", params={"parent": "620000"}, headers=gansu)
    assert [t["code"] for t in seen.json()["tenants"]] == ["620100"]
    beijing = bearer(issuer, tenant="110000", roles=("provincial_operator",))
    assert (await platform.client.get("/v1/tenants/620100", headers=beijing)).status_code == 404


async def test_pooling_region_rules(platform, issuer):
    ministry = bearer(issuer, tenant="100000", roles=("ministry_operator",))
    for body, field in (
        ({"code": "630000", "parent_code": "630000", "display_name": "x"}, "tenant.code"),
        ({"code": "110100", "parent_code": "630000", "display_name": "x"}, "tenant.code"),
        ({"code": "630100", "parent_code": "100000", "display_name": "x"}, "tenant.parent_code"),
    ):
        response = await platform.client.post("/v1/tenants", json=body, headers=ministry)
        assert response.status_code == 400, response.text
        assert field in {v["field"] for v in response.json()["violations"]}
    operator = bearer(issuer, tenant="630000", roles=("provincial_operator",))
    refused = await platform.client.post("/v1/tenants", headers=operator,
                                         json={"code": "630100", "parent_code": "630000", "display_name": "西宁市"})
    assert refused.status_code == 403
