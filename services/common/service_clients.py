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

import os
import secrets
from pathlib import Path


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
