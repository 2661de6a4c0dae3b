"""FastAPI dependencies: the validated caller and the backend stubs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from opentelemetry import trace
from prevention.assessment.v1 import assessment_pb2_grpc
from prevention.identity.v1 import identity_pb2_grpc
from prevention.sharing.v1 import sharing_pb2_grpc
from prevention.training.v1 import training_pb2_grpc

from services.common.auth import bearer_token
from services.common.context import TENANT_SPAN_ATTRIBUTE, Caller, caller_var

_bearer = HTTPBearer(auto_error=False, description="OIDC access token of the `prevention` realm")


@dataclass
class Backends:
    identity: identity_pb2_grpc.IdentityServiceStub
    sharing: sharing_pb2_grpc.SharingServiceStub
    training: training_pb2_grpc.TrainingServiceStub
    assessment: assessment_pb2_grpc.AssessmentServiceStub
    timeout: float


async def authenticate(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Caller:
    """Validates the bearer token here (the services validate it again themselves)."""
    header = f"{credentials.scheme} {credentials.credentials}" if credentials else None
    caller = await request.app.state.validator.validate(bearer_token(header))
    caller_var.set(caller)  # outgoing gRPC calls forward the token from here
    trace.get_current_span().set_attribute(TENANT_SPAN_ATTRIBUTE, caller.tenant)
    return caller


def backends(request: Request) -> Backends:
    return request.app.state.backends


CurrentCaller = Annotated[Caller, Depends(authenticate)]
BackendsDep = Annotated[Backends, Depends(backends)]
