"""Permissions as data (SPEC 7.3, ID-6): each service ships a ``policy.yaml`` naming, for every
RPC, the roles that may call it (or ``public: true``). The chassis interceptor enforces it
before the servicer runs, deny by default: an RPC without an entry is refused. Tenant scoping
(a foreign id answers NOT_FOUND) is the domain query's job (services.common.tenancy).
The isolation harness in tests/ reads the same files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from services.common.context import Caller
from services.common.errors import PermissionDenied

ROLES: tuple[str, ...] = (
    "ministry_operator",
    "provincial_operator",
    "department_liaison",
    "employer_officer",
    "trainee",
    "expert",
    "training_platform",
    "service_institution",
)
ALL = "all"  # every authenticated role
# An operator who has not enrolled TOTP yet gets a token with only this role: it may enrol and
# nothing else (like Keycloak's CONFIGURE_TOTP required action).
TOTP_ENROLMENT = "totp_enrolment"


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    public: bool = False

    def allows(self, caller: Caller | None) -> bool:
        if self.public:
            return True
        return caller is not None and bool(self.roles & caller.roles)


class Policy:
    def __init__(self, service: str, rules: dict[str, Rule]):
        self.service = service
        self.rules = rules

    @classmethod
    def load(cls, path: Path) -> Policy:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        service = document["service"]
        rules = {}
        for method, entry in (document.get("methods") or {}).items():
            entry = entry or {}
            names = entry.get("roles") or []
            roles = (frozenset(ROLES) if ALL in names else frozenset()) | (frozenset(names) - {ALL})
            unknown = roles - set(ROLES) - {TOTP_ENROLMENT}
            if unknown:
                raise ValueError(f"{path}: {method}: unknown roles {sorted(unknown)}")
            if entry.get("public") and roles:
                raise ValueError(f"{path}: {method}: a public method takes no roles")
            if not roles and not entry.get("public"):
                raise ValueError(f"{path}: {method}: give roles or public: true")
            rules[f"/{service}/{method}"] = Rule(roles=roles, public=bool(entry.get("public")))
        return cls(service, rules)

    def rule(self, full_method: str) -> Rule | None:
        return self.rules.get(full_method)

    def authorize(self, full_method: str, caller: Caller | None) -> None:
        rule = self.rule(full_method)
        if rule is None:
            raise PermissionDenied("no policy allows this method", reason="NO_POLICY")
        if not rule.allows(caller):
            raise PermissionDenied("the caller's role may not use this method", reason="ROLE_NOT_ALLOWED")


def merge(policies: list[Policy]) -> Policy:
    merged: dict[str, Rule] = {}
    for policy in policies:
        merged.update(policy.rules)
    return Policy(",".join(p.service for p in policies), merged)
