"""Leader election through a Kubernetes ``Lease`` (SPEC 4.6 OPS-3), for the chassis scheduler.

``KubernetesLease`` implements ``services.common.scheduler.LeaderLock`` with the official
``kubernetes`` client against ``coordination.k8s.io/v1`` Leases:

- acquiring: read the Lease; create it when it does not exist; take it over when it has no
  holder or its holder's ``renewTime + leaseDurationSeconds`` is before now; renew it when this
  runner already holds it. Every write carries the ``resourceVersion`` that was read, so the API
  server's optimistic concurrency decides races: a 409 Conflict means another runner wrote first
  and this one is not the leader.
- holding: this runner believes it leads until ``renewTime + lease_duration - renew_margin``; the
  margin stops it acting before a contender may take over (clock skew, the time between checking
  ``held()`` and running a job). Renewals happen at most every ``retry_period`` while held.
- releasing: the holder clears ``holderIdentity`` so a contender takes over at once instead of
  waiting for the lease to expire.

API errors other than 404/409 (API server unreachable, 5xx) are logged; ``try_acquire`` then
reports whether the previous renewal is still within its safety window, so a leader keeps its
work for at most ``lease_duration - renew_margin`` without reaching the API server.

RBAC needed by the pods' ServiceAccount, in their own namespace only: ``coordination.k8s.io``
``leases``: ``get``, ``create``, ``update`` (a Role + RoleBinding; no ``list``/``watch``/``delete``/
``patch``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from services.common.clock import Clock, SystemClock
from services.common.scheduler import LeaderLock, LocalLock

__all__ = ["KubernetesLease", "in_cluster", "leader_lock"]

logger = logging.getLogger(__name__)

DEFAULT_LEASE_DURATION = timedelta(seconds=15)
DEFAULT_RENEW_MARGIN = timedelta(seconds=5)
DEFAULT_RETRY_PERIOD = timedelta(seconds=2)
REQUEST_TIMEOUT_SECONDS = 5.0  # try_acquire must not block a scheduler pass for long
NAMESPACE_FILE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")

_NOT_FOUND = 404
_CONFLICT = 409


def _micro_time(dt: datetime) -> datetime:
    """A Lease's times are ``MicroTime``: the API server parses them with a mandatory 6-digit
    fraction, and ``datetime.isoformat`` omits the fraction when it is zero. Nudge by 1 µs."""
    return dt.replace(microsecond=1) if dt.microsecond == 0 else dt


class KubernetesLease:
    """A ``LeaderLock`` backed by a ``coordination.k8s.io/v1`` Lease.

    ``api`` is a ``kubernetes.client.CoordinationV1Api`` (or anything with the same
    ``read_namespaced_lease`` / ``create_namespaced_lease`` / ``replace_namespaced_lease``);
    by default one is built from the in-cluster configuration.
    """

    def __init__(
        self,
        name: str,
        namespace: str,
        identity: str,
        *,
        api: Any = None,
        clock: Clock,
        lease_duration: timedelta = DEFAULT_LEASE_DURATION,
        renew_margin: timedelta = DEFAULT_RENEW_MARGIN,
        retry_period: timedelta = DEFAULT_RETRY_PERIOD,
    ) -> None:
        if not name or not namespace or not identity:
            raise ValueError("name, namespace and identity must be non-empty")
        if lease_duration < timedelta(seconds=1) or lease_duration % timedelta(seconds=1):
            raise ValueError("lease_duration must be a whole number of seconds, at least 1")
        if not timedelta(0) <= renew_margin < lease_duration:
            raise ValueError("renew_margin must be in [0, lease_duration)")
        if not timedelta(0) <= retry_period < lease_duration - renew_margin:
            raise ValueError("retry_period must be shorter than lease_duration - renew_margin")
        if api is None:
            from kubernetes import client, config

            config.load_incluster_config()
            api = client.CoordinationV1Api()
        self.name = name
        self.namespace = namespace
        self.identity = identity
        self._api = api
        self._clock = clock
        self._duration = lease_duration
        self._margin = renew_margin
        self._retry = retry_period
        self._renewed_at: datetime | None = None  # our last successful write as holder
        self._mutex = threading.Lock()

    # -- LeaderLock --------------------------------------------------------------------------

    def held(self) -> bool:
        renewed = self._renewed_at
        return renewed is not None and self._clock.now() < renewed + self._duration - self._margin

    def try_acquire(self) -> bool:
        from kubernetes.client.exceptions import ApiException

        with self._mutex:
            now = self._clock.now()
            if self.held() and now < self._renewed_at + self._retry:  # type: ignore[operator]
                return True
            try:
                return self._acquire_or_renew(now)
            except ApiException as exc:
                if exc.status == _CONFLICT:
                    self._renewed_at = None
                    return False
                logger.warning("lease %s/%s: API error %s; keeping the previous state",
                               self.namespace, self.name, exc.status)
            except Exception:  # network errors: urllib3, timeouts
                logger.warning("lease %s/%s: API server unreachable", self.namespace, self.name,
                               exc_info=True)
            if not self.held():
                self._renewed_at = None
            return self.held()

    def release(self) -> None:
        from kubernetes.client.exceptions import ApiException

        with self._mutex:
            if self._renewed_at is None:
                return
            self._renewed_at = None  # stop acting as leader first, whatever the API says
            try:
                lease = self._read()
                if lease is None or lease.spec is None or lease.spec.holder_identity != self.identity:
                    return
                lease.spec.holder_identity = None
                self._replace(lease)
            except ApiException as exc:
                # 409: someone else wrote in between; 404: deleted. Either way we are not leading.
                if exc.status not in (_CONFLICT, _NOT_FOUND):
                    logger.warning("lease %s/%s: release failed (API error %s); it expires in %s",
                                   self.namespace, self.name, exc.status, self._duration)
            except Exception:
                logger.warning("lease %s/%s: release failed; it expires in %s", self.namespace,
                               self.name, self._duration, exc_info=True)

    # -- internals ---------------------------------------------------------------------------

    def _read(self) -> Any:
        from kubernetes.client.exceptions import ApiException

        try:
            return self._api.read_namespaced_lease(self.name, self.namespace,
                                                   _request_timeout=REQUEST_TIMEOUT_SECONDS)
        except ApiException as exc:
            if exc.status == _NOT_FOUND:
                return None
            raise

    def _replace(self, lease: Any) -> Any:
        return self._api.replace_namespaced_lease(self.name, self.namespace, lease,
                                                  _request_timeout=REQUEST_TIMEOUT_SECONDS)

    def _acquire_or_renew(self, now: datetime) -> bool:
        from kubernetes import client

        stamp = _micro_time(now)
        seconds = int(self._duration.total_seconds())
        lease = self._read()
        if lease is None:
            body = client.V1Lease(
                metadata=client.V1ObjectMeta(name=self.name, namespace=self.namespace),
                spec=client.V1LeaseSpec(holder_identity=self.identity, lease_duration_seconds=seconds,
                                        acquire_time=stamp, renew_time=stamp, lease_transitions=0),
            )
            self._api.create_namespaced_lease(self.namespace, body,
                                              _request_timeout=REQUEST_TIMEOUT_SECONDS)
            self._became_leader(now, "created")
            return True
        spec = lease.spec or client.V1LeaseSpec()
        lease.spec = spec
        holder = spec.holder_identity or ""
        if holder == self.identity:
            spec.renew_time = stamp
            spec.lease_duration_seconds = seconds
            self._replace(lease)
            self._renewed_at = now
            return True
        if holder and not self._expired(spec, now):
            self._renewed_at = None
            return False
        spec.holder_identity = self.identity
        spec.acquire_time = stamp
        spec.renew_time = stamp
        spec.lease_duration_seconds = seconds
        spec.lease_transitions = (spec.lease_transitions or 0) + (1 if holder else 0)
        self._replace(lease)  # carries the read resourceVersion: 409 if anyone wrote since
        self._became_leader(now, f"taken over from {holder}" if holder else "acquired")
        return True

    @staticmethod
    def _expired(spec: Any, now: datetime) -> bool:
        if spec.renew_time is None or spec.lease_duration_seconds is None:
            return True
        return spec.renew_time + timedelta(seconds=spec.lease_duration_seconds) < now

    def _became_leader(self, now: datetime, how: str) -> None:
        self._renewed_at = now
        logger.info("lease %s/%s %s by %s", self.namespace, self.name, how, self.identity)

    def __repr__(self) -> str:
        return f"KubernetesLease({self.namespace}/{self.name}, identity={self.identity!r}, held={self.held()})"


def in_cluster() -> bool:
    return bool(os.environ.get("KUBERNETES_SERVICE_HOST"))


def _namespace() -> str:
    explicit = os.environ.get("POD_NAMESPACE")
    if explicit:
        return explicit
    try:
        return NAMESPACE_FILE.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise RuntimeError("in-cluster but the namespace is unknown: set POD_NAMESPACE") from exc


def _identity() -> str:
    # Pod name plus a per-process suffix: two processes of one pod must not share leadership.
    pod = os.environ.get("POD_NAME") or socket.gethostname()
    return f"{pod}_{uuid.uuid4().hex[:8]}"


def leader_lock(settings, name: str, *, clock: Clock | None = None, api: Any = None) -> LeaderLock:
    """The scheduler lock called ``name``: a Lease in-cluster, else ``<data dir>/locks/<name>.lock``."""
    if in_cluster():
        return KubernetesLease(name, _namespace(), _identity(), api=api, clock=clock or SystemClock())
    return LocalLock(Path(settings.data_dir) / "locks" / f"{name}.lock")
