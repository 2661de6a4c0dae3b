"""The one seam through which assessment notifies people: identity's Notify over gRPC (SPEC 7.8).

Scheduled jobs (filing reminders) have no caller token. ``IdentityNotifier`` takes a ``token``
callable; the integrator plugs in the platform's service identity there (the same mechanism the
sharing rectification reminders use). Nothing else in assessment calls Notify.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from prevention.identity.v1 import identity_pb2

TokenSource = Callable[[], Awaitable[str]]


class IdentityNotifier:
    """Notify over gRPC with a deadline. ``token`` yields the bearer token for the call: the
    service identity the integrator wires in (see README, assessment)."""

    def __init__(self, stub, token: TokenSource, *, timeout: float = 5.0):
        self.stub, self.token, self.timeout = stub, token, timeout

    async def notify(self, *, tenant_code: str, kind: str, title: str, body: str, request_id: str) -> None:
        await self.stub.Notify(
            identity_pb2.NotifyRequest(roles=["provincial_operator"], tenant_code=tenant_code, kind=kind, title=title,
                                       body=body, request_id=request_id),
            metadata=[("authorization", f"Bearer {await self.token()}")], timeout=self.timeout)
