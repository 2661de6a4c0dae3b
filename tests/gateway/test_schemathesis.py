"""RELIABILITY S15: the gateway keeps its OpenAPI contract under generated input.

schemathesis 4 loads the document from the ASGI app and runs every operation through all its
default checks (no 5xx, documented status codes, content types, headers and response schemas,
negative data rejected, positive data accepted, auth enforced, ...) with a fixed seed and
deterministic generation, as a provincial operator of 110000.

schemathesis' ASGI transport is synchronous: it runs the app on an event loop of its own thread
and blocks the calling thread until the response is complete, and its pytest tests are
synchronous. The services of the `platform` fixture live on the session's event loop, which is
idle while a synchronous test runs; so each case is sent from a worker thread while the test's
thread runs the session loop (services, their health loops) until the case is done. The app is
a fresh `create_app` on the platform's services, whose lifespan schemathesis starts and stops
itself on its own loop (sharing `platform.app` would replace its channels with ones bound to
schemathesis' loop).
"""

from __future__ import annotations

import asyncio
import uuid
import zlib

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

import tests.gateway.schemathesis_analytics_hooks  # registers the exposure hooks
import tests.gateway.schemathesis_assessment_hooks
import tests.gateway.schemathesis_hooks
import tests.gateway.schemathesis_identity_hooks
import tests.gateway.schemathesis_rectification_hooks  # noqa: F401 - likewise for rectification
import tests.gateway.schemathesis_sharing_hooks as _sharing_hooks  # noqa: F401 - likewise for sharing
import tests.gateway.schemathesis_training_hooks as _training_hooks  # noqa: F401 - likewise for training
from gateway.app import create_app
from tests.gateway import schemathesis_notification_hooks  # noqa: F401 - likewise for notifications
from tests.gateway.helpers import bearer

# Code on other threads (the services, the app's event loop) touches the global `random` module
# while hypothesis draws; that does not affect the drawn cases.
# Generated input is fuzzing: it runs once, in the SQLite pass of .ci/run (marker `fuzz`).
pytestmark = [pytest.mark.filterwarnings("ignore:Do not use the `random` module inside strategies"),
              pytest.mark.fuzz]

SEED = 20250601
MAX_EXAMPLES = 10
# The operations (about 170) are split into shards, one test each, so that pytest-xdist runs them
# on all workers; an operation's shard is fixed by its label ("GET /v1/...").
SHARDS = 6


@pytest.fixture(scope="session")
async def session_loop(platform) -> asyncio.AbstractEventLoop:
    return asyncio.get_running_loop()


@pytest.fixture(scope="module")
def gateway_schema(platform):
    config = SchemathesisConfig.from_dict({
        "seed": SEED,
        "generation": {
            "max-examples": MAX_EXAMPLES, "deterministic": True, "mode": "all",
            # The test sends a valid bearer token with every case (and the auth check probes
            # without one); unknown query parameters are ignored, as the contract does not close them.
            "with-security-parameters": False, "allow-extra-parameters": False,
            # Text with NUL (U+0000) is refused everywhere with 400, as the API description says
            # (PostgreSQL cannot store it); test_problems covers that refusal.
            "allow-x00": False,
        },
        # An opaque cursor cannot be generated: only "" (the first page) or a next_page_token is valid,
        # and any other string is refused with 400 (covered by test_limits).
        "parameters": {"query.page_token": ""},
    })
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(platform.settings, addresses=platform.addresses),
                                          config=config)


schema = schemathesis.pytest.from_fixture("gateway_schema")


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request):
    # schemathesis 4.32's lazy schemas read and rewrite `node._nodeid`, which pytest 9.2 no longer has.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


def conforms(case, issuer, session_loop) -> None:
    # A new subject per case: Idempotency-Key scopes are per caller, and a generated key that an
    # earlier case used with another body is rightly refused with 422 (test_problems covers it).
    headers = bearer(issuer, tenant="110000", roles=("provincial_operator",), sub=f"schemathesis-{uuid.uuid4().hex}")
    session_loop.run_until_complete(asyncio.to_thread(case.call_and_validate, headers=headers))


def shard_of(label: str) -> int:
    return zlib.crc32(label.encode()) % SHARDS


def _shard_test(shard: int):
    @schema.include(func=lambda ctx: shard_of(ctx.operation.label) == shard).parametrize()
    @pytest.mark.timeout(900)  # one test runs its shard's operations as subtests
    def test(case, issuer, session_loop):
        conforms(case, issuer, session_loop)

    test.__name__ = f"test_gateway_conforms_to_its_openapi_shard_{shard}"
    return test


for _shard in range(SHARDS):
    globals()[f"test_gateway_conforms_to_its_openapi_shard_{_shard}"] = _shard_test(_shard)


def test_the_shards_cover_every_operation(gateway_schema):
    labels = [result.ok().label for result in gateway_schema.get_all_operations()]
    assert len(labels) > 150
    assert sorted({shard_of(label) for label in labels}) == list(range(SHARDS))
