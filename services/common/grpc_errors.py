"""Domain errors <-> gRPC status with google.rpc details (BadRequest, ErrorInfo), and the
gRPC -> HTTP mapping of SPEC 7.4 used by the gateway."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from services.common.errors import DomainError, FieldViolation, InvalidArgument

ERROR_DOMAIN = "prevention.gov.cn"
DETAILS_KEY = "grpc-status-details-bin"

HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.DATA_LOSS: 500,
}

# Reasons whose status differs from the code's default mapping (SPEC 7.4).
HTTP_STATUS_BY_REASON: dict[str, int] = {
    "IDEMPOTENCY_KEY_REUSED": 422,
    "ETAG_MISMATCH": 412,
    "PAYLOAD_TOO_LARGE": 413,
    "OBJECT_TOO_LARGE": 413,
}


def to_status(error: DomainError) -> status_pb2.Status:
    code = grpc.StatusCode[error.code]
    details = []
    info = error_details_pb2.ErrorInfo(reason=error.reason, domain=ERROR_DOMAIN, metadata=error.metadata)
    details.append(info)
    if isinstance(error, InvalidArgument):
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                    for v in error.violations
                ]
            )
        )
    packed = []
    for detail in details:
        any_msg = any_pb2.Any()
        any_msg.Pack(detail)
        packed.append(any_msg)
    return status_pb2.Status(code=code.value[0], message=error.message, details=packed)


async def abort(context: grpc.aio.ServicerContext, error: DomainError) -> None:
    await context.abort_with_status(rpc_status.to_status(to_status(error)))


@dataclass
class RpcFailure:
    """What the gateway needs from a failed call."""

    code: grpc.StatusCode
    message: str
    reason: str = ""
    violations: list[FieldViolation] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def http_status(self) -> int:
        return HTTP_STATUS_BY_REASON.get(self.reason) or HTTP_STATUS.get(self.code, 500)


def parse_rpc_error(error: grpc.aio.AioRpcError | grpc.RpcError) -> RpcFailure:
    code = error.code()
    failure = RpcFailure(code=code, message=error.details() or code.name)
    for key, value in error.trailing_metadata() or ():
        if key != DETAILS_KEY:
            continue
        status = status_pb2.Status.FromString(value)
        failure.message = status.message or failure.message
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                failure.reason = info.reason
                failure.metadata = dict(info.metadata)
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                failure.violations = [FieldViolation(v.field, v.description) for v in bad.field_violations]
    if code == grpc.StatusCode.INTERNAL or code == grpc.StatusCode.UNKNOWN:
        failure.message = "internal error"  # never pass internal detail on
    return failure


def code_number(code: grpc.StatusCode) -> int:
    return code.value[0]


assert code_pb2.INVALID_ARGUMENT == grpc.StatusCode.INVALID_ARGUMENT.value[0]
