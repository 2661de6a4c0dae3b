"""SPEC 7.4 through REST: every outcome has its HTTP status and an application/problem+json body
carrying the request id; RELIABILITY R7: the gRPC -> HTTP mapping, with no internal detail leaked.

Outcomes come from the real platform (gateway validation, the training and identity services
behind it); the mapping of the codes the services do not produce on demand is driven through the
gateway by a loopback gRPC backend that answers each call with the status it is asked for.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from contextlib import AsyncExitStack

import grpc
import pytest
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from gateway.app import create_app
from services.common.channels import open_channel
from services.common.grpc_errors import DETAILS_KEY, HTTP_STATUS
from tests.conftest import open_gateway
from tests.gateway.helpers import assert_problem, bearer, course_body, violation_fields

PO_BEIJING = dict(tenant="110000", roles=("provincial_operator",))
PO_TIANJIN = dict(tenant="120000", roles=("provincial_operator",))


async def list_all_courses(client, headers) -> list[dict]:
    courses, token = [], ""
    while True:
        r = await client.get("/v1/courses", params={"page_size": 500, "page_token": token}, headers=headers)
        assert r.status_code == 200, r.text
        courses += r.json()["courses"]
        token = r.json()["next_page_token"]
        if not token:
            return courses


async def titled(client, headers, title: str) -> list[dict]:
    return [c for c in await list_all_courses(client, headers) if c["title"] == title]


# --- 400: the gateway's own validation (FastAPI's 422 becomes 400) -----------------------------

@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tenant_code": "120000"}, "tenant_code"),  # unknown field: mass assignment (S7)
        ({"title": None}, "title"),
        ({"content_category": "gossip"}, "content_category"),
        ({"title": "x" * 201}, "title"),
    ],
    ids=["unknown-field", "missing-title", "bad-category", "title-too-long"],
)
async def test_body_failing_gateway_validation_is_400_naming_the_field(platform, issuer, change, field):
    headers = bearer(issuer, **PO_BEIJING)
    body = {k: v for k, v in {**course_body(), **change}.items() if v is not None}
    r = await platform.client.post("/v1/courses", json=body, headers=headers)
    problem = assert_problem(r, 400, reason="INVALID_ARGUMENT")
    assert violation_fields(problem) == [field], problem
    if "title" in body:  # nothing was written (NF-3)
        assert await titled(platform.client, headers, body["title"]) == []


async def test_body_that_is_not_json_is_400(platform, issuer):
    r = await platform.client.post("/v1/courses", content=b"{not json",
                                   headers={**bearer(issuer, **PO_BEIJING), "Content-Type": "application/json"})
    assert_problem(r, 400, reason="INVALID_ARGUMENT")


# --- 400: a domain rule of the training service, through gRPC status details ------------------

async def test_invalid_phone_is_400_from_the_service_without_echoing_the_value(platform, issuer):
    headers = bearer(issuer, **PO_BEIJING)
    phone = "call 13912345678 evenings"  # personal data: must not come back in the problem
    body = course_body(contact_phone=phone)
    r = await platform.client.post("/v1/courses", json=body, headers=headers)
    problem = assert_problem(r, 400, reason="INVALID_ARGUMENT")
    assert violation_fields(problem) == ["course.contact_phone"]
    assert phone not in r.text and "13912345678" not in r.text
    assert await titled(platform.client, headers, body["title"]) == []


async def test_blank_title_is_400_from_the_service(platform, issuer):
    r = await platform.client.post("/v1/courses", json=course_body(title="   "), headers=bearer(issuer, **PO_BEIJING))
    problem = assert_problem(r, 400, reason="INVALID_ARGUMENT")
    assert violation_fields(problem) == ["course.title"]


# --- 401 / 403 --------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer not-a-jwt", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.c2ln", "Basic dXNlcjpwYXNz"],
    ids=["no-token", "garbage", "garbage-jwt-shape", "basic-scheme"],
)
async def test_missing_or_invalid_token_is_401(platform, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    for method, path, kwargs in (("GET", "/v1/courses", {}), ("POST", "/v1/courses", {"json": course_body()})):
        r = await platform.client.request(method, path, headers=headers, **kwargs)
        assert_problem(r, 401)
        assert r.headers["www-authenticate"].startswith("Bearer"), r.headers  # RFC 6750 section 3


async def test_trainee_creating_a_course_is_403(platform, issuer):
    trainee = bearer(issuer, tenant="110000", roles=("trainee",))
    body = course_body()
    r = await platform.client.post("/v1/courses", json=body, headers=trainee)
    assert_problem(r, 403)
    assert await titled(platform.client, bearer(issuer, **PO_BEIJING), body["title"]) == []
    # the same trainee may read the catalogue: 403 is about the verb, not about the caller
    assert (await platform.client.get("/v1/courses", headers=trainee)).status_code == 200


# --- 404: foreign ids look exactly like unknown ones (SPEC 3) -----------------------------------

def comparable(problem: dict, object_id: str) -> dict:
    """A problem with what legitimately differs between two requests taken out."""
    return {k: (v.replace(object_id, "{id}") if isinstance(v, str) else v)
            for k, v in problem.items() if k != "request_id"}


async def test_course_of_another_province_is_404_like_an_unknown_id(platform, issuer):
    tianjin, beijing = bearer(issuer, **PO_TIANJIN), bearer(issuer, **PO_BEIJING)
    r = await platform.client.post("/v1/courses", json=course_body(), headers=tianjin)
    assert r.status_code == 201, r.text
    course_id = r.json()["id"]
    assert (await platform.client.get(f"/v1/courses/{course_id}", headers=tianjin)).status_code == 200

    foreign = await platform.client.get(f"/v1/courses/{course_id}", headers=beijing)
    unknown_id = uuid.uuid4().hex
    unknown = await platform.client.get(f"/v1/courses/{unknown_id}", headers=beijing)
    assert_problem(foreign, 404, reason="NOT_FOUND")
    assert_problem(unknown, 404, reason="NOT_FOUND")
    assert comparable(foreign.json(), course_id) == comparable(unknown.json(), unknown_id)
    assert course_id not in {c["id"] for c in await list_all_courses(platform.client, beijing)}


async def test_tenant_outside_the_callers_subtree_is_404_like_an_unknown_one(platform, issuer):
    beijing = bearer(issuer, **PO_BEIJING)
    assert (await platform.client.get("/v1/tenants/110000", headers=beijing)).status_code == 200
    foreign = await platform.client.get("/v1/tenants/120000", headers=beijing)
    unknown = await platform.client.get("/v1/tenants/990000", headers=beijing)
    assert_problem(foreign, 404, reason="NOT_FOUND")
    assert_problem(unknown, 404, reason="NOT_FOUND")
    assert comparable(foreign.json(), "120000") == comparable(unknown.json(), "990000")
    ministry = bearer(issuer, tenant="100000", roles=("ministry_operator",))
    assert (await platform.client.get("/v1/tenants/120000", headers=ministry)).status_code == 200


# --- Idempotency-Key: replay, 422 on reuse, 409 while in progress (SPEC 7.4, R2) ---------------

async def test_same_idempotency_key_and_body_creates_one_course(platform, issuer):
    headers = {**bearer(issuer, **PO_BEIJING, sub=f"user-{uuid.uuid4().hex}"), "Idempotency-Key": uuid.uuid4().hex}
    body = course_body()
    first = await platform.client.post("/v1/courses", json=body, headers=headers)
    second = await platform.client.post("/v1/courses", json=body, headers=headers)
    assert first.status_code == 201, first.text
    assert second.status_code == 201, second.text
    assert second.json() == first.json()
    assert [c["id"] for c in await titled(platform.client, headers, body["title"])] == [first.json()["id"]]


async def test_same_idempotency_key_with_another_body_is_422(platform, issuer):
    headers = {**bearer(issuer, **PO_BEIJING, sub=f"user-{uuid.uuid4().hex}"), "Idempotency-Key": uuid.uuid4().hex}
    body = course_body()
    assert (await platform.client.post("/v1/courses", json=body, headers=headers)).status_code == 201
    other = course_body()
    r = await platform.client.post("/v1/courses", json=other, headers=headers)
    assert_problem(r, 422, reason="IDEMPOTENCY_KEY_REUSED")
    assert await titled(platform.client, headers, other["title"]) == []
    assert len(await titled(platform.client, headers, body["title"])) == 1


async def test_idempotency_key_is_scoped_to_the_caller(platform, issuer):
    key, body = uuid.uuid4().hex, course_body()
    ids = set()
    for _ in range(2):  # two different users, same key and body: two courses
        headers = {**bearer(issuer, **PO_BEIJING, sub=f"user-{uuid.uuid4().hex}"), "Idempotency-Key": key}
        r = await platform.client.post("/v1/courses", json=body, headers=headers)
        assert r.status_code == 201, r.text
        ids.add(r.json()["id"])
    assert len(ids) == 2


async def test_concurrent_retries_with_one_key_create_one_course(platform, issuer):
    headers = {**bearer(issuer, **PO_BEIJING, sub=f"user-{uuid.uuid4().hex}"), "Idempotency-Key": uuid.uuid4().hex}
    body = course_body()
    responses = await asyncio.gather(*(platform.client.post("/v1/courses", json=body, headers=headers)
                                       for _ in range(5)))
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    for r in responses:
        if r.status_code != 201:  # lost the race while the first was uncommitted: retry later
            assert_problem(r, 409, reason="IDEMPOTENCY_KEY_IN_USE")
    assert len(created) == 1, [r.text for r in responses]
    assert [c["id"] for c in await titled(platform.client, headers, body["title"])] == list(created)


async def test_idempotency_key_over_128_characters_is_400(platform, issuer):
    headers = {**bearer(issuer, **PO_BEIJING), "Idempotency-Key": "k" * 129}
    problem = assert_problem(await platform.client.post("/v1/courses", json=course_body(), headers=headers), 400)
    assert violation_fields(problem) == ["Idempotency-Key"]


# --- request id ----------------------------------------------------------------------------------

async def test_request_id_is_echoed_and_appears_in_problems(platform, issuer):
    request_id = f"req-{uuid.uuid4().hex}"
    r = await platform.client.get("/v1/courses", headers={**bearer(issuer, **PO_BEIJING), "X-Request-ID": request_id})
    assert r.status_code == 200 and r.headers["x-request-id"] == request_id
    r = await platform.client.get("/v1/courses", headers={"X-Request-ID": request_id})
    assert assert_problem(r, 401)["request_id"] == request_id
    r = await platform.client.get(f"/v1/courses/{uuid.uuid4().hex}",
                                  headers={**bearer(issuer, **PO_BEIJING), "X-Request-ID": request_id})
    assert assert_problem(r, 404)["request_id"] == request_id


@pytest.mark.parametrize("given", [None, "", "has spaces", "x" * 129, "<script>"],
                         ids=["absent", "empty", "spaces", "too-long", "markup"])
async def test_request_id_is_generated_when_absent_or_unusable(platform, given):
    headers = {"X-Request-ID": given} if given is not None else {}
    first = await platform.client.get("/v1/courses", headers=headers)
    second = await platform.client.get("/v1/courses", headers=headers)
    ids = [assert_problem(r, 401)["request_id"] for r in (first, second)]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids), ids
    assert ids[0] != ids[1]
    assert (await platform.client.get("/healthz")).headers["x-request-id"]


# --- R7: the gRPC -> HTTP table -------------------------------------------------------------------

R7 = {16: 401, 7: 403, 5: 404, 3: 400, 8: 429, 4: 504, 14: 503, 9: 409, 6: 409, 10: 409}


def status_code(number: int) -> grpc.StatusCode:
    return next(code for code in grpc.StatusCode if code.value[0] == number)


@pytest.mark.parametrize(("number", "http"), sorted(R7.items()))
def test_grpc_status_maps_to_http_status(number, http):
    assert HTTP_STATUS[status_code(number)] == http


SECRET = "secret detail: dsn=postgresql://app:hunter2@db/prevention"


class FailingBackend:
    """A loopback gRPC server whose one method fails with the status code named in the request,
    the way a service does: a message plus a google.rpc.Status in the trailing metadata."""

    def __init__(self):
        self.server = grpc.aio.server()
        handler = grpc.unary_unary_rpc_method_handler(self.fail)
        self.server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler("test.Failing",
                                                                                   {"Fail": handler})])
        self.port = self.server.add_insecure_port("127.0.0.1:0")

    async def fail(self, request: bytes, context: grpc.aio.ServicerContext):
        code = status_code(int(request.decode()))
        if code == grpc.StatusCode.UNKNOWN:
            raise RuntimeError(SECRET)  # what an unhandled exception in a servicer looks like
        info = any_pb2.Any()
        info.Pack(error_details_pb2.ErrorInfo(reason=f"TEST_{code.name}", domain="prevention.gov.cn"))
        details = status_pb2.Status(code=code.value[0], message=SECRET, details=[info]).SerializeToString()
        await context.abort(code, SECRET, trailing_metadata=((DETAILS_KEY, details),))


@pytest.fixture
async def failing_gateway(platform):
    backend = FailingBackend()
    await backend.server.start()
    channel = open_channel(f"127.0.0.1:{backend.port}", default_timeout=5.0)
    fail = channel.unary_unary("/test.Failing/Fail")
    app = create_app(platform.settings, addresses=platform.addresses)

    @app.get("/test-only/fail/{number}")
    async def fail_route(number: int):
        return await fail(str(number).encode(), timeout=5.0)

    async with AsyncExitStack() as stack:
        client = await open_gateway(stack, app)
        yield client
    await channel.close()
    await backend.server.stop(0)


@pytest.mark.parametrize(("number", "http"), sorted({**R7, 13: 500, 2: 500, 15: 500}.items()))
async def test_backend_failure_becomes_its_http_status_without_internal_detail(failing_gateway, number, http):
    r = await failing_gateway.get(f"/test-only/fail/{number}")
    problem = assert_problem(r, http)
    if http in (429, 503):
        assert r.headers["retry-after"].isdigit()
    if http == 500:  # INTERNAL, UNKNOWN, DATA_LOSS: a generic message and nothing else
        assert problem["detail"] == "internal error" and problem["reason"] == "INTERNAL"
        assert "hunter2" not in r.text and "secret" not in r.text and "RuntimeError" not in r.text
    else:  # the service's reason travels in google.rpc.ErrorInfo
        assert problem["reason"] == f"TEST_{status_code(number).name}"


async def test_concurrent_retries_with_one_key_replay_instead_of_colliding(platform, issuer):
    """The key is claimed before the work: a racing retry waits and replays rather than tripping over
    the work's own unique constraint (here the username) and answering 409 USERNAME_TAKEN."""
    import asyncio
    import uuid

    headers = {**bearer(issuer, roles=("provincial_operator",)), "Idempotency-Key": uuid.uuid4().hex}
    body = {"username": f"race-{uuid.uuid4().hex[:8]}", "display_name": "Race", "roles": ["trainee"],
            "password": "race-password-1234"}
    replies = await asyncio.gather(*[platform.client.post("/v1/users", json=body, headers=headers)
                                     for _ in range(5)])
    assert [r.status_code for r in replies] == [201] * 5, [r.text for r in replies]
    assert len({r.json()["id"] for r in replies}) == 1


async def test_nul_characters_are_refused_with_the_field_named(platform, issuer):
    """PostgreSQL cannot store NUL in text: refused at the edge with 400, never a 500 deep in a write,
    both through REST and on a direct gRPC call."""
    import grpc
    from prevention.training.v1 import training_pb2, training_pb2_grpc

    headers = bearer(issuer, roles=("provincial_operator",))
    body = {"title": "bad\x00title", "content_category": "warning_education"}
    response = await platform.client.post("/v1/courses", json=body, headers=headers)
    assert response.status_code == 400 and response.json()["violations"][0]["field"] == "title"
    async with grpc.aio.insecure_channel(platform.addresses["training"]) as channel:
        request = training_pb2.CreateCourseRequest(course=training_pb2.Course(
            title="ok", description="bad\x00", content_category=training_pb2.CONTENT_CATEGORY_WARNING_EDUCATION))
        try:
            await training_pb2_grpc.TrainingServiceStub(channel).CreateCourse(
                request, metadata=(("authorization", headers["Authorization"]),), timeout=10)
        except grpc.aio.AioRpcError as error:
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "course.description" in error.details()
        else:
            raise AssertionError("a NUL character was accepted")
