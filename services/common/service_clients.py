"""Service identities for scheduled work, which has no caller whose token it could pass on.

Each calling service has its own API client in the token issuer (client id ``<service>-service``)
and uses the ``client_credentials`` grant. The secret comes from
``PREVENTION_<SERVICE>_SERVICE_CLIENT_SECRET`` (distributed mode: one Kubernetes Secret given to the
service and to identity's seed job) or, in embedded mode, from a random secret kept in
``<data dir>/service-client-<service>.secret`` (0600; one of ``prevention backup``'s key files),
created by whichever process needs it first (``prevention seed`` registers it with the issuer; the
service reads it to log in).
``PREVENTION_<SERVICE>_SERVICE_CLIENT_ID`` overrides the client id (e.g. a Keycloak client).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from services.common.errors import Unavailable

TOKEN_TIMEOUT_SECONDS = 5.0
TOKEN_REFRESH_MARGIN_SECONDS = 60


def service_client_id(service: str) -> str:
    return os.environ.get(f"PREVENTION_{service.upper()}_SERVICE_CLIENT_ID") or f"{service}-service"


def service_client_secret(data_dir: Path, service: str) -> str:
    configured = os.environ.get(f"PREVENTION_{service.upper()}_SERVICE_CLIENT_SECRET", "")
    if configured:
        return configured
    path = Path(data_dir) / f"service-client-{service}.secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_urlsafe(32))
    return path.read_text().strip()


class ServiceTokens:
    """Access tokens of the service's own API client (client_credentials), cached until shortly
    before they expire. ``issue`` is identity's IssueToken RPC (or a stand-in in tests)."""

    def __init__(self, *, client_id: str, client_secret: str, issue: Callable[..., Awaitable],
                 monotonic: Callable[[], float] = time.monotonic):
        self._client_id, self._secret, self._issue, self._monotonic = client_id, client_secret, issue, monotonic
        self._token, self._until = "", 0.0
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        async with self._lock:
            if self._token and self._monotonic() < self._until:
                return self._token
            if not self._client_id or not self._secret:
                raise Unavailable("the service has no API client configured "
                                  "(PREVENTION_<SERVICE>_SERVICE_CLIENT_ID/_SECRET)",
                                  reason="SERVICE_TOKEN_UNAVAILABLE")
            try:
                response = await self._issue(grant_type="client_credentials", client_id=self._client_id,
                                             client_secret=self._secret)
            except Exception as error:
                raise Unavailable(f"the token endpoint refused the service's client {self._client_id}: "
                                  f"{type(error).__name__}", reason="SERVICE_TOKEN_UNAVAILABLE") from error
            self._token = response.access_token
            self._until = self._monotonic() + max(response.expires_in - TOKEN_REFRESH_MARGIN_SECONDS, 0)
            return self._token


def identity_token_issuer(identity_stub) -> Callable[..., Awaitable]:
    from prevention.identity.v1 import identity_pb2

    async def issue(**fields):
        return await identity_stub.IssueToken(identity_pb2.IssueTokenRequest(**fields),
                                              timeout=TOKEN_TIMEOUT_SECONDS)

    return issue
