async def test_readyz_and_tenants(platform, issuer):
    r = await platform.client.get("/readyz")
    assert r.status_code == 200, r.text
    token = issuer.token(tenant="110000", roles=["provincial_operator"])
    r = await platform.client.get("/v1/tenants", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    assert [t["code"] for t in r.json()["tenants"]] == ["110000"]
    r = await platform.client.get("/v1/action-plans/active", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    print(r.json())
