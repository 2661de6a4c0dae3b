"""Wires the rectification workflow into the sharing service (called by servicer.build): the
evidence object store, and the deadline job (reminders, escalation) announcing through identity's
Notify RPC under the service's own client-credentials identity (services.sharing.rectification_jobs)."""

from __future__ import annotations

from services.common.channels import open_channel
from services.common.clock import SystemClock
from services.common.lease import leader_lock
from services.common.mtls import tls_files
from services.common.service_clients import service_client_id, service_client_secret
from services.common.storage import object_store
from services.sharing.rectification_jobs import (
    DeadlineJob,
    ServiceTokens,
    deadline_background,
    identity_notifier,
    identity_token_issuer,
)


def wire_rectification(servicer, *, database, settings, clock, addresses: dict, tracer_provider, background: list):
    servicer.store = object_store(settings)
    if "identity" not in addresses:
        return []
    from prevention.identity.v1 import identity_pb2_grpc

    channel = open_channel(addresses["identity"], default_timeout=settings.grpc_default_timeout_seconds,
                           tracer_provider=tracer_provider, tls=tls_files(settings))
    identity = identity_pb2_grpc.IdentityServiceStub(channel)
    tokens = ServiceTokens(client_id=service_client_id("sharing"),
                           client_secret=service_client_secret(settings.data_dir, "sharing"),
                           issue=identity_token_issuer(identity))
    job = DeadlineJob(sessionmaker=database.sessionmaker, tokens=tokens, notifier=identity_notifier(identity))
    background.append(deadline_background(job=job, clock=clock or SystemClock(),
                                          lock=leader_lock(settings, "sharing-rectification-deadlines")))
    return [channel]
