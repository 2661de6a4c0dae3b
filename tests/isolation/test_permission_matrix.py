"""Role x route and role x RPC matrices, cross-tenant reads, and the tenant taken only from the
token (SPEC 7.3; RELIABILITY S1, S6, S9). Generated from the mounted routes, the proto
descriptors and the policy files, so a new route or RPC cannot escape it."""

from __future__ import annotations

import grpc
import pytest
from fastapi import FastAPI
from google.protobuf import message_factory

from services.common.policy import ROLES
from tests.isolation.harness import all_rpcs, gateway_routes, mounted_routes, service_policy, unlisted_routes
from tests.isolation.resources import SAMPLES, TENANT_A, TENANT_B

POLICY = service_policy()
ROUTES = gateway_routes()
RPCS = all_rpcs()
API_ROUTES = sorted(k for k, v in ROUTES.items() if "rpc" in v)


def token_for(issuer, role: str, tenant: str = TENANT_A) -> str:
    return issuer.token(tenant="100000" if role == "ministry_operator" else tenant, roles=[role])


# -- coverage: nothing escapes the matrix --------------------------------------------------------


def test_every_mounted_route_has_a_policy_entry(platform):
    assert unlisted_routes(platform.app) == [], "add these routes to gateway/policy.yaml"


def test_no_policy_entry_for_a_route_that_no_longer_exists(platform):
    assert sorted(set(ROUTES) - mounted_routes(platform.app)) == []


def test_an_unlisted_route_fails_the_harness(platform):
    app = FastAPI(redoc_url=None)
    app.router.routes.extend(platform.app.router.routes)

    @app.get("/v1/unlisted")
    async def unlisted() -> dict:
        return {}

    assert unlisted_routes(app) == ["GET /v1/unlisted"]


def test_every_rpc_has_a_policy_entry_and_every_route_rpc_exists():
    assert sorted(set(RPCS) - set(POLICY.rules)) == [], "add these RPCs to their service's policy.yaml"
    assert sorted(set(POLICY.rules) - set(RPCS)) == [], "policy entries for RPCs that do not exist"
    assert sorted(v["rpc"] for v in ROUTES.values() if "rpc" in v and v["rpc"] not in RPCS) == []


def test_every_route_with_an_id_has_samples():
    missing = []
    for key in API_ROUTES:
        sample = SAMPLES.get(key)
        if "{" in key and (sample is None or sample.own is None or (sample.foreign is None
                                                                    and not sample.not_tenant_data)):
            missing.append(key)
        if key.startswith(("POST", "PUT", "PATCH")) and (sample is None or sample.body is None):
            missing.append(key)
    assert missing == [], "add samples for these routes to tests/isolation/resources.py"


# -- REST: role x route --------------------------------------------------------------------------


async def call(platform, key: str, params: dict, token: str | None, body: dict | None = None, headers=None):
    method, path = key.split(" ", 1)
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    files = SAMPLES[key].files() if key in SAMPLES and SAMPLES[key].files and body is not None else None
    return await platform.client.request(method, path.format(**params), json=None if files else body,
                                         data=body if files else None, files=files, headers=headers)


async def own_params(platform, issuer, key: str) -> dict:
    sample = SAMPLES.get(key)
    return await sample.own(platform, issuer) if sample and sample.own else {}


def body_for(key: str) -> dict | None:
    sample = SAMPLES.get(key)
    return sample.body() if sample and sample.body else None


@pytest.mark.parametrize("key", API_ROUTES)
async def test_rest_without_token_is_401(platform, issuer, key):
    response = await call(platform, key, await own_params(platform, issuer, key), None, body_for(key))
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("key", API_ROUTES)
async def test_rest_role_matrix(platform, issuer, key, role):
    rule = POLICY.rule(ROUTES[key]["rpc"])
    params = await own_params(platform, issuer, key)
    response = await call(platform, key, params, token_for(issuer, role), body_for(key))
    if role in rule.roles:
        # Reaching the handler is what this matrix checks; self-service routes may then answer 404
        # for the harness's synthetic users, which exist only as token subjects.
        assert response.status_code not in (401, 403) and response.status_code < 500, (
            f"{role} should reach {key}: {response.text}"
        )
    else:
        assert response.status_code == 403, f"{role} must be refused {key}: {response.text}"


@pytest.mark.parametrize("key", sorted(k for k in API_ROUTES if SAMPLES.get(k) and SAMPLES[k].foreign))
async def test_rest_foreign_id_is_404_like_an_unknown_id(platform, issuer, key):
    foreign = await SAMPLES[key].foreign(platform, issuer)
    token = issuer.token(tenant=TENANT_A, roles=["provincial_operator"])
    response = await call(platform, key, foreign, token, body_for(key))
    assert response.status_code == 404, response.text
    ministry = await call(platform, key, foreign, issuer.token(tenant="100000", roles=["ministry_operator"]),
                          body_for(key))
    assert ministry.status_code == 200, ministry.text


async def test_tenant_header_and_body_field_never_change_the_tenant(platform, issuer):
    token = issuer.token(tenant=TENANT_A, roles=["provincial_operator"])
    headers = {"Authorization": f"Bearer {token}", "X-Tenant": TENANT_B, "X-Tenant-Code": TENANT_B}
    response = await platform.client.post("/v1/courses", json=SAMPLES["POST /v1/courses"].body(), headers=headers)
    assert response.status_code == 201 and response.json()["tenant_code"] == TENANT_A
    with_field = {**SAMPLES["POST /v1/courses"].body(), "tenant_code": TENANT_B}
    response = await platform.client.post("/v1/courses", json=with_field, headers=headers)
    assert response.status_code == 400 and response.json()["violations"][0]["field"] == "tenant_code"
    response = await platform.client.get(f"/v1/tenants/{TENANT_B}", headers=headers)
    assert response.status_code == 404


# -- gRPC: role x RPC, called directly as third parties do --------------------------------------


def empty_request(method):
    return message_factory.GetMessageClass(method.input_type)()


async def rpc(platform, full_method: str, request, token: str | None, metadata=()):
    service = full_method.split("/")[1].split(".")[1]
    method = RPCS[full_method]
    response_class = message_factory.GetMessageClass(method.output_type)
    async with grpc.aio.insecure_channel(platform.addresses[service]) as channel:
        call = channel.unary_unary(full_method, request_serializer=lambda m: m.SerializeToString(),
                                   response_deserializer=response_class.FromString)
        md = [("authorization", f"Bearer {token}")] if token else []
        try:
            await call(request, metadata=[*md, *metadata], timeout=10)
        except grpc.aio.AioRpcError as error:
            return error.code()
    return grpc.StatusCode.OK


@pytest.mark.parametrize("full_method", sorted(RPCS))
async def test_grpc_without_token_is_unauthenticated(platform, full_method):
    code = await rpc(platform, full_method, empty_request(RPCS[full_method]), None)
    if POLICY.rule(full_method).public:
        assert code != grpc.StatusCode.UNAUTHENTICATED
    else:
        assert code == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("full_method", sorted(RPCS))
async def test_grpc_role_matrix(platform, issuer, full_method, role):
    code = await rpc(platform, full_method, empty_request(RPCS[full_method]), token_for(issuer, role))
    rule = POLICY.rule(full_method)
    if rule.public or role in rule.roles:
        assert code not in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED), code
    else:
        assert code == grpc.StatusCode.PERMISSION_DENIED, code


async def test_grpc_foreign_objects_are_not_found(platform, issuer):
    from prevention.identity.v1 import identity_pb2
    from prevention.training.v1 import training_pb2

    token = issuer.token(tenant=TENANT_A, roles=["provincial_operator"])
    spoof = (("x-tenant", TENANT_B),)
    code = await rpc(platform, "/prevention.identity.v1.IdentityService/GetTenant",
                     identity_pb2.GetTenantRequest(name=f"tenants/{TENANT_B}"), token, spoof)
    assert code == grpc.StatusCode.NOT_FOUND
    course = await SAMPLES["GET /v1/courses/{course_id}"].foreign(platform, issuer)
    code = await rpc(platform, "/prevention.training.v1.TrainingService/GetCourse",
                     training_pb2.GetCourseRequest(name=f"courses/{course['course_id']}"), token, spoof)
    assert code == grpc.StatusCode.NOT_FOUND
