"""Per-request context carried in contextvars: request id, caller, deadline.

Set by the server interceptor (services) or the gateway middleware; read by the client
interceptor so that outgoing calls carry the request id, the caller's token and a deadline no
later than the upstream one.
"""

from __future__ import annotations

import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
caller_var: ContextVar[Caller | None] = ContextVar("caller", default=None)
# Absolute time.monotonic() at which the current request's deadline passes; None = no deadline.
deadline_var: ContextVar[float | None] = ContextVar("deadline", default=None)

MINISTRY_OPERATOR = "ministry_operator"
PROVINCIAL_OPERATOR = "provincial_operator"
NATIONAL_TENANT = "100000"


def new_request_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Caller:
    """Who is calling, from a validated access token. The tenant comes only from here."""

    subject: str
    tenant: str
    roles: frozenset[str] = field(default_factory=frozenset)
    organisation: str = ""
    client_id: str = ""
    scopes: frozenset[str] = field(default_factory=frozenset)
    token: str = field(default="", repr=False)

    @property
    def is_ministry(self) -> bool:
        return MINISTRY_OPERATOR in self.roles

    def sees_tenant(self, code: str) -> bool:
        """True when ``code`` lies in the caller's tenant subtree (ministry operators see all)."""
        return self.is_ministry or in_subtree(code, self.tenant)

    def may_see_personal(self, tenant_code: str, subject: str = "") -> bool:
        """SPEC 7.3: personal data in clear only for ministry operators, provincial operators of
        the data's (non-national) tenant, and the person themself; masked for everyone else."""
        return self.is_ministry or (bool(subject) and subject == self.subject) or (
            PROVINCIAL_OPERATOR in self.roles and tenant_code != NATIONAL_TENANT and self.sees_tenant(tenant_code)
        )


def subtree_prefix(root: str) -> str:
    """GB/T 2260: the code prefix every tenant of ``root``'s subtree shares ("" = all)."""
    if root == NATIONAL_TENANT:
        return ""
    if root.endswith("0000"):
        return root[:2]
    if root.endswith("00"):
        return root[:4]
    return root


def in_subtree(code: str, root: str) -> bool:
    """100000 holds all; XX0000 holds XX....; XXYY00 holds XXYY...; anything else only itself."""
    return code.startswith(subtree_prefix(root))


TENANT_SPAN_ATTRIBUTE = "prevention.tenant"


def current_caller() -> Caller | None:
    return caller_var.get()


def deadline_remaining() -> float | None:
    """Seconds left of the current request's deadline, or None when there is none."""
    deadline = deadline_var.get()
    if deadline is None:
        return None
    return deadline - time.monotonic()


def set_deadline(seconds_remaining: float | None):
    return deadline_var.set(None if seconds_remaining is None else time.monotonic() + seconds_remaining)
