"""Tokens on direct gRPC calls (SPEC 7.2; RELIABILITY S4, S6): every service authenticates the
caller itself, and the tenant comes from the validated token only."""

from __future__ import annotations

import time

import grpc
import pytest
from prevention.assessment.v1 import assessment_pb2, assessment_pb2_grpc
from prevention.identity.v1 import identity_pb2, identity_pb2_grpc
from prevention.sharing.v1 import sharing_pb2, sharing_pb2_grpc
from prevention.training.v1 import training_pb2, training_pb2_grpc

from tests.integration.helpers import RPC_TIMEOUT, auth, raw_channel

# One read RPC per service: (stub class, method, request).
CALLS = {
    "identity": (identity_pb2_grpc.IdentityServiceStub, "ListTenants", identity_pb2.ListTenantsRequest()),
    "sharing": (sharing_pb2_grpc.SharingServiceStub, "ListKeyIndustries", sharing_pb2.ListKeyIndustriesRequest()),
    "training": (training_pb2_grpc.TrainingServiceStub, "ListCourses", training_pb2.ListCoursesRequest()),
    "assessment": (assessment_pb2_grpc.AssessmentServiceStub, "ListActionPlans",
                   assessment_pb2.ListActionPlansRequest()),
}


async def call(platform, service: str, metadata=()) -> grpc.StatusCode:
    stub_class, method, request = CALLS[service]
    async with raw_channel(platform.addresses[service]) as channel:
        try:
            await getattr(stub_class(channel), method)(request, metadata=metadata, timeout=RPC_TIMEOUT)
        except grpc.aio.AioRpcError as error:
            return error.code()
    return grpc.StatusCode.OK


@pytest.mark.parametrize("service", sorted(CALLS))
async def test_no_token_is_unauthenticated(platform, issuer, service):
    assert await call(platform, service) == grpc.StatusCode.UNAUTHENTICATED
    assert await call(platform, service, (("authorization", "Basic dXNlcjpwYXNz"),)) == grpc.StatusCode.UNAUTHENTICATED
    # Control: the same call with a valid token succeeds, so the refusals above are about the token.
    token = issuer.token(tenant="110000", roles=["provincial_operator"])
    assert await call(platform, service, auth(token)) == grpc.StatusCode.OK


@pytest.mark.parametrize("service", sorted(CALLS))
async def test_expired_token_is_unauthenticated(platform, issuer, service):
    now = int(time.time())
    leeway = platform.settings.oidc_leeway_seconds
    claims = issuer.claims(tenant="110000", roles=["provincial_operator"], iat=now - 600, exp=now - leeway - 60)
    assert await call(platform, service, auth(issuer.sign(claims))) == grpc.StatusCode.UNAUTHENTICATED


async def test_tenant_comes_from_the_token_not_from_metadata(platform, issuer):
    token = issuer.token(tenant="110000", roles=["provincial_operator"])
    spoof = (("x-tenant", "120000"), ("tenant", "120000"), ("x-tenant-id", "120000"))
    async with raw_channel(platform.addresses["identity"]) as channel:
        stub = identity_pb2_grpc.IdentityServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await stub.GetTenant(identity_pb2.GetTenantRequest(name="tenants/120000"),
                                 metadata=auth(token, *spoof), timeout=RPC_TIMEOUT)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
        # The token's own tenant is readable with the same metadata ...
        own = await stub.GetTenant(identity_pb2.GetTenantRequest(name="tenants/110000"),
                                   metadata=auth(token, *spoof), timeout=RPC_TIMEOUT)
        assert own.tenant.code == "110000"
        # ... and the listing shows the token's subtree, not the spoofed one.
        listing = await stub.ListTenants(identity_pb2.ListTenantsRequest(), metadata=auth(token, *spoof),
                                         timeout=RPC_TIMEOUT)
        assert {t.code[:2] for t in listing.tenants} == {"11"}
