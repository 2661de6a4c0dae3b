from tests.integration.helpers import wait_until


async def test_readyz_and_tenants(platform, issuer):
    # The services share this process's event loop with the tests: a test that blocks the loop for a
    # second (building a gateway app, its OpenAPI document) times out a database ping, and that
    # service reads NOT_SERVING until its next check, 0.1 s later. Ready is what is asserted.
    async def ready() -> bool:
        return (await platform.client.get("/readyz")).status_code == 200

    await wait_until(ready, timeout=10, what="every service to answer SERVING")
    r = await platform.client.get("/readyz")
    assert r.status_code == 200 and set(r.json()["services"].values()) == {"SERVING"}, r.text
    token = issuer.token(tenant="110000", roles=["provincial_operator"])
    r = await platform.client.get("/v1/tenants", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    assert [t["code"] for t in r.json()["tenants"]] == ["110000"]
    r = await platform.client.get("/v1/action-plans/active", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    print(r.json())
