"""KubernetesLease (SPEC OPS-3): Lease-based leader election for the chassis scheduler.

No Kubernetes API server can run here, so these tests use ``FakeLeaseApi``: an in-memory
stand-in with exactly the contract ``KubernetesLease`` relies on, modelled on the real
``CoordinationV1Api``:
- ``read_namespaced_lease`` returns a copy of the stored Lease or raises ApiException 404;
- ``create_namespaced_lease`` stores a new Lease (resourceVersion "1") or raises 409 if it exists;
- ``replace_namespaced_lease`` raises 404 when missing and 409 when the body's resourceVersion is
  not the stored one (optimistic concurrency), else stores it with a new resourceVersion.
Time is a FrozenClock; nothing sleeps.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from services.common.clock import FrozenClock
from services.common.lease import KubernetesLease, leader_lock
from services.common.scheduler import LocalLock

NS = "prevention"
NAME = "scheduler"
DURATION = timedelta(seconds=15)


class FakeLeaseApi:
    def __init__(self) -> None:
        self.leases: dict[tuple[str, str], client.V1Lease] = {}
        self.version = 0
        self.after_read = None  # one-shot hook: runs after a read returns (to interleave a race)
        self.writes = 0

    def _next_version(self) -> str:
        self.version += 1
        return str(self.version)

    def read_namespaced_lease(self, name, namespace, *, _request_timeout=None):
        stored = self.leases.get((namespace, name))
        if stored is None:
            raise ApiException(status=404, reason="Not Found")
        result = copy.deepcopy(stored)
        hook, self.after_read = self.after_read, None
        if hook is not None:
            hook()
        return result

    def create_namespaced_lease(self, namespace, body, *, _request_timeout=None):
        key = (namespace, body.metadata.name)
        if key in self.leases:
            raise ApiException(status=409, reason="AlreadyExists")
        stored = copy.deepcopy(body)
        stored.metadata.namespace = namespace
        stored.metadata.resource_version = self._next_version()
        self.leases[key] = stored
        self.writes += 1
        return copy.deepcopy(stored)

    def replace_namespaced_lease(self, name, namespace, body, *, _request_timeout=None):
        key = (namespace, name)
        stored = self.leases.get(key)
        if stored is None:
            raise ApiException(status=404, reason="Not Found")
        if body.metadata.resource_version != stored.metadata.resource_version:
            raise ApiException(status=409, reason="Conflict")
        stored = copy.deepcopy(body)
        stored.metadata.resource_version = self._next_version()
        self.leases[key] = stored
        self.writes += 1
        return copy.deepcopy(stored)

    def holder(self) -> str | None:
        return self.leases[(NS, NAME)].spec.holder_identity


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 1, 8, 0, tzinfo=UTC))


@pytest.fixture
def api() -> FakeLeaseApi:
    return FakeLeaseApi()


def contender(identity: str, api: FakeLeaseApi, clock: FrozenClock) -> KubernetesLease:
    return KubernetesLease(NAME, NS, identity, api=api, clock=clock, lease_duration=DURATION,
                           renew_margin=timedelta(seconds=5), retry_period=timedelta(seconds=2))


def test_fake_replace_with_a_stale_resource_version_conflicts(api):
    """The fake's contract: two writers that read the same version cannot both replace."""
    api.create_namespaced_lease(NS, client.V1Lease(metadata=client.V1ObjectMeta(name=NAME),
                                                   spec=client.V1LeaseSpec()))
    first, second = api.read_namespaced_lease(NAME, NS), api.read_namespaced_lease(NAME, NS)
    api.replace_namespaced_lease(NAME, NS, first)
    with pytest.raises(ApiException) as raised:
        api.replace_namespaced_lease(NAME, NS, second)
    assert raised.value.status == 409


def test_two_contenders_one_leads(api, clock):
    a, b = contender("a", api, clock), contender("b", api, clock)
    assert a.try_acquire() is True
    assert b.try_acquire() is False
    assert (a.held(), b.held()) == (True, False)
    assert api.holder() == "a"
    spec = api.leases[(NS, NAME)].spec
    assert spec.lease_duration_seconds == 15 and spec.lease_transitions == 0
    # Renewing keeps the lead; the other keeps losing while renewals continue.
    for _ in range(20):
        clock.advance(timedelta(seconds=3))
        assert a.try_acquire() is True
        assert b.try_acquire() is False
    assert api.holder() == "a"


def test_the_other_takes_over_within_the_lease_duration_when_the_leader_stops_renewing(api, clock):
    a, b = contender("a", api, clock), contender("b", api, clock)
    assert a.try_acquire()
    stopped = clock.now()  # a's process hangs or dies: no more renewals
    took_over_at = None
    while clock.now() <= stopped + DURATION + timedelta(seconds=2):
        clock.advance(timedelta(seconds=1))
        if b.try_acquire():
            took_over_at = clock.now()
            break
        # a stops believing it leads before anyone may take over (renew margin).
        assert not (a.held() and clock.now() > stopped + DURATION - timedelta(seconds=5))
    assert took_over_at is not None, "b never took over"
    assert took_over_at - stopped <= DURATION + timedelta(seconds=1)
    assert not a.held(), "the old leader still believes it leads after a takeover"
    assert api.holder() == "b"
    assert api.leases[(NS, NAME)].spec.lease_transitions == 1
    # The old leader comes back: it sees b's fresh lease and does not lead.
    assert a.try_acquire() is False


def test_not_taken_over_while_the_lease_is_still_valid(api, clock):
    a, b = contender("a", api, clock), contender("b", api, clock)
    assert a.try_acquire()
    clock.advance(DURATION)  # renewTime + duration == now: not yet expired
    assert b.try_acquire() is False
    clock.advance(timedelta(microseconds=2))
    assert b.try_acquire() is True


def test_conflicting_concurrent_takeover_only_one_wins(api, clock):
    a, b, c = (contender(x, api, clock) for x in "abc")
    assert a.try_acquire()
    clock.advance(DURATION + timedelta(seconds=1))  # a's lease expired
    results: dict[str, bool] = {}
    # b reads the expired lease; before b writes, c reads the same version and replaces it.
    api.after_read = lambda: results.setdefault("c", c.try_acquire())
    results["b"] = b.try_acquire()
    assert results == {"c": True, "b": False}
    assert api.holder() == "c"
    assert (b.held(), c.held()) == (False, True)


def test_concurrent_create_only_one_wins(api, clock):
    """Both see no Lease (404) and create it: the API's AlreadyExists (409) makes one lose."""
    a, b = contender("a", api, clock), contender("b", api, clock)
    original_read = api.read_namespaced_lease
    raced = {}

    def read(name, namespace, **kw):
        try:
            return original_read(name, namespace, **kw)
        except ApiException:
            if not raced:
                raced["b"] = None
                raced["b"] = b.try_acquire()  # b creates between a's 404 and a's create
            raise

    api.read_namespaced_lease = read
    assert a.try_acquire() is False
    assert raced == {"b": True}
    assert api.holder() == "b"


def test_release_clears_the_holder_and_lets_the_other_take_over_at_once(api, clock):
    a, b = contender("a", api, clock), contender("b", api, clock)
    assert a.try_acquire()
    a.release()
    assert not a.held()
    assert api.holder() is None
    assert b.try_acquire() is True  # no waiting for expiry
    a.release()  # not held: a no-op that must not touch b's lease
    assert api.holder() == "b"


def test_renewals_are_rate_limited_by_the_retry_period(api, clock):
    a = contender("a", api, clock)
    assert a.try_acquire()
    writes = api.writes
    clock.advance(timedelta(seconds=1))
    assert a.try_acquire() and api.writes == writes
    clock.advance(timedelta(seconds=1))
    assert a.try_acquire() and api.writes == writes + 1


def test_api_outage_keeps_the_lead_only_within_the_safety_window(api, clock):
    a = contender("a", api, clock)
    assert a.try_acquire()

    def unavailable(*args, **kwargs):
        raise ApiException(status=503, reason="Service Unavailable")

    api.read_namespaced_lease = unavailable
    clock.advance(timedelta(seconds=5))
    assert a.try_acquire() is True  # renewed 5 s ago: still inside 15 s - 5 s
    clock.advance(timedelta(seconds=5))
    assert a.try_acquire() is False and not a.held()


def test_lease_times_serialise_as_micro_time(api, clock):
    """The API server parses renewTime/acquireTime with a mandatory 6-digit fraction."""
    assert clock.now().microsecond == 0
    contender("a", api, clock).try_acquire()
    body = client.ApiClient().sanitize_for_serialization(api.leases[(NS, NAME)])
    for field in ("renewTime", "acquireTime"):
        assert "." in body["spec"][field] and len(body["spec"][field].split(".")[1].split("+")[0]) == 6, body


def test_leader_lock_is_a_local_lock_outside_kubernetes(monkeypatch, tmp_path):
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)

    class Settings:
        data_dir = tmp_path

    lock = leader_lock(Settings(), "training-scheduler")
    assert isinstance(lock, LocalLock)
    assert lock.path == tmp_path / "locks" / "training-scheduler.lock"


def test_leader_lock_is_a_lease_in_cluster(monkeypatch, tmp_path, api, clock):
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("POD_NAMESPACE", NS)
    monkeypatch.setenv("POD_NAME", "training-7d9f-abcde")

    class Settings:
        data_dir = tmp_path

    lock = leader_lock(Settings(), NAME, clock=clock, api=api)
    assert isinstance(lock, KubernetesLease)
    assert lock.namespace == NS and lock.identity.startswith("training-7d9f-abcde_")
    assert lock.try_acquire() and api.holder() == lock.identity
