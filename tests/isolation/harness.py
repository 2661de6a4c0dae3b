"""The isolation and permission harness (SPEC 7.3; RELIABILITY S1, S6, S9).

It enumerates every mounted REST route (from the app) and every RPC (from the proto
descriptors), reads the policies the platform enforces (gateway/policy.yaml, services/*/policy.yaml)
and the samples in tests/isolation/resources.py. A route or RPC without a policy entry, or a
route with a path parameter and no sample, fails. Later services add policy entries and
samples, not new harnesses.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from fastapi.routing import iter_route_contexts
from prevention.assessment.v1 import assessment_pb2
from prevention.identity.v1 import identity_pb2
from prevention.sharing.v1 import sharing_pb2
from prevention.training.v1 import training_pb2

from services.common.policy import Policy, merge

ROOT = Path(__file__).resolve().parents[2]
GATEWAY_POLICY = ROOT / "gateway" / "policy.yaml"
SERVICE_MODULES = {
    "identity": identity_pb2, "sharing": sharing_pb2, "training": training_pb2, "assessment": assessment_pb2,
}


def service_policy() -> Policy:
    return merge([Policy.load(ROOT / "services" / name / "policy.yaml") for name in SERVICE_MODULES])


def gateway_routes() -> dict[str, dict]:
    return yaml.safe_load(GATEWAY_POLICY.read_text(encoding="utf-8"))["routes"]


def mounted_routes(app) -> set[str]:
    keys = set()
    for route in iter_route_contexts(app.routes):
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                keys.add(f"{method} {route.path}")
    return keys


def unlisted_routes(app, routes: dict[str, dict] | None = None) -> list[str]:
    listed = routes if routes is not None else gateway_routes()
    return sorted(mounted_routes(app) - set(listed))


def all_rpcs() -> dict[str, object]:
    """Full method name -> method descriptor, for every service in the contracts."""
    methods = {}
    for module in SERVICE_MODULES.values():
        for service in module.DESCRIPTOR.services_by_name.values():
            for method in service.methods:
                methods[f"/{service.full_name}/{method.name}"] = method
    return methods
