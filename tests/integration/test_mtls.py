"""Mutual TLS between the platform's processes (RELIABILITY S16; SPEC 7.1): certificates from a
throwaway CA on loopback. The handshake fails without a client certificate, with one from
another CA or an expired one; a valid certificate of a process SPEC 7.1 does not list as a
caller is refused; listed callers get through (the token is still checked)."""

from __future__ import annotations

import grpc
import pytest
from prevention.training.v1 import training_pb2, training_pb2_grpc

from services.common.mtls import identity_name
from services.common.runner import build_runtime
from services.training.servicer import build as training_build
from tests.conftest import make_settings
from tests.support.certs import CertificateAuthority


@pytest.fixture
async def tls_training(issuer, db_factory, tmp_path):
    ca = CertificateAuthority()
    cert, key, ca_file = ca.write(tmp_path / "pki", "training", ca.issue([identity_name("training"), "localhost"]))
    settings = make_settings(issuer, tmp_path, tls_cert_file=str(cert), tls_key_file=str(key),
                             tls_ca_file=str(ca_file))
    runtime = build_runtime("training", training_build, settings=settings,
                            database_url=await db_factory.prepared("training"), addresses={})
    port = await runtime.start("127.0.0.1:0")
    yield ca, f"127.0.0.1:{port}"
    await runtime.stop(grace=1.0)


async def list_courses(target: str, credentials: grpc.ChannelCredentials, token: str):
    async with grpc.aio.secure_channel(target, credentials) as channel:
        return await training_pb2_grpc.TrainingServiceStub(channel).ListCourses(
            training_pb2.ListCoursesRequest(), metadata=(("authorization", f"Bearer {token}"),), timeout=5)


def client(ca: CertificateAuthority, process: str | None, *, issuing_ca=None, expired=False):
    if process is None:
        return grpc.ssl_channel_credentials(root_certificates=ca.pem)
    issued = (issuing_ca or ca).issue([identity_name(process)], expired=expired, server=False)
    return grpc.ssl_channel_credentials(root_certificates=ca.pem, private_key=issued.key,
                                        certificate_chain=issued.cert)


@pytest.mark.parametrize("caller", ["gateway", "assessment", "ingress"])
async def test_listed_callers_are_accepted(tls_training, issuer, caller):
    ca, target = tls_training
    token = issuer.token(tenant="110000", roles=["trainee"])
    assert await list_courses(target, client(ca, caller), token) is not None


@pytest.mark.parametrize("case", ["no-client-cert", "other-ca", "expired"])
async def test_handshake_fails(tls_training, issuer, case):
    ca, target = tls_training
    credentials = {
        "no-client-cert": lambda: client(ca, None),
        "other-ca": lambda: client(ca, "gateway", issuing_ca=CertificateAuthority("Rogue CA")),
        "expired": lambda: client(ca, "gateway", expired=True),
    }[case]()
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await list_courses(target, credentials, issuer.token(tenant="110000", roles=["trainee"]))
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_process_spec_does_not_list_is_refused(tls_training, issuer):
    ca, target = tls_training
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await list_courses(target, client(ca, "identity"), issuer.token(tenant="110000", roles=["trainee"]))
    assert info.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_client_refuses_a_server_from_another_ca(tls_training, issuer):
    _, target = tls_training
    rogue = CertificateAuthority("Rogue CA")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await list_courses(target, client(rogue, "gateway"), issuer.token(tenant="110000", roles=["trainee"]))
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_chassis_channel_presents_the_process_certificate(tls_training, issuer, tmp_path):
    from services.common.channels import open_channel
    from services.common.mtls import TlsFiles

    ca, target = tls_training
    cert, key, ca_file = ca.write(tmp_path / "gw", "gateway", ca.issue([identity_name("gateway")], server=False))
    channel = open_channel(target, tls=TlsFiles(cert, key, ca_file))
    try:
        reply = await training_pb2_grpc.TrainingServiceStub(channel).ListCourses(
            training_pb2.ListCoursesRequest(),
            metadata=(("authorization", f"Bearer {issuer.token(tenant='110000', roles=['trainee'])}"),))
    finally:
        await channel.close()
    assert reply is not None


async def test_health_is_also_served_in_plaintext_on_the_probe_port(issuer, db_factory, tmp_path):
    """Kubelet's native gRPC probes cannot present a client certificate: with mTLS on, the health
    service (and nothing else) is also served on its own plaintext port."""
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from tests.support.platform import free_port

    ca = CertificateAuthority()
    cert, key, ca_file = ca.write(tmp_path / "pki", "training", ca.issue([identity_name("training"), "localhost"]))
    settings = make_settings(issuer, tmp_path, tls_cert_file=str(cert), tls_key_file=str(key),
                             tls_ca_file=str(ca_file), health_port=free_port(), health_host="127.0.0.1")
    runtime = build_runtime("training", training_build, settings=settings,
                            database_url=await db_factory.prepared("training"), addresses={})
    await runtime.start("127.0.0.1:0")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{runtime.health_port}") as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await training_pb2_grpc.TrainingServiceStub(channel).ListCourses(training_pb2.ListCoursesRequest(),
                                                                                 timeout=5)
            assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED, "only health on the probe port"
    finally:
        await runtime.stop(grace=1.0)
