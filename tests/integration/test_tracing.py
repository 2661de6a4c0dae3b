"""RELIABILITY R8 / A3, acceptance: "one trace id covers the gateway span, the service span and the
SQL span of one request, and no span or log line carries a request body field marked personal".

"Marked personal" = a proto field with ``[debug_redact = true]`` (FieldOptions.debug_redact).
"""

from __future__ import annotations

import importlib
import logging
import re
import uuid

import grpc
import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.rpc import status_pb2
from opentelemetry.trace import SpanKind
from prevention.training.v1 import training_pb2, training_pb2_grpc

from services.common.grpc_errors import DETAILS_KEY
from services.common.settings import SERVICES
from tests.integration.helpers import RPC_TIMEOUT, auth, raw_channel

PHONE = "13912345678"
BAD_PHONE = "1391234567x"
# A mainland mobile number standing alone (not inside a longer run of letters/digits such as a hex id).
PHONE_PATTERN = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")
CREATE_COURSE = "/prevention.training.v1.TrainingService/CreateCourse"


def redacted_fields() -> set[str]:
    """Full names of every field marked ``debug_redact`` in the four services' protos."""
    found: set[str] = set()

    def walk(message) -> None:
        for field in message.fields:
            if field.GetOptions().debug_redact:
                found.add(field.full_name)
        for nested in message.nested_types:
            walk(nested)

    for service in SERVICES:
        module = importlib.import_module(f"prevention.{service}.v1.{service}_pb2")
        for message in module.DESCRIPTOR.message_types_by_name.values():
            walk(message)
    return found


def redacted_values(message: Message) -> set[str]:
    """The values of a message's ``debug_redact`` fields (recursively), as text."""
    values: set[str] = set()
    for field, value in message.ListFields():
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            for item in (value if field.is_repeated else [value]):
                values |= redacted_values(item)
        elif field.GetOptions().debug_redact:
            values |= {str(v) for v in (value if field.is_repeated else [value])}
    return {v for v in values if v}


def span_texts(spans) -> list[tuple[str, str]]:
    """(where, text) for everything a span carries: name, attributes, events, links, status."""
    out = []
    for span in spans:
        where = f"span {span.name!r}"
        out.append((where, span.name))
        out += [(f"{where} attribute {k}", str(v)) for k, v in (span.attributes or {}).items()]
        for event in span.events:
            out.append((f"{where} event", event.name))
            out += [(f"{where} event {event.name} {k}", str(v)) for k, v in (event.attributes or {}).items()]
        for link in span.links:
            out += [(f"{where} link {k}", str(v)) for k, v in (link.attributes or {}).items()]
        if span.status.description:
            out.append((f"{where} status", span.status.description))
    return out


# What logging itself puts on a record (times, thread ids, paths...): never data; msg/args are
# scanned through getMessage().
_LOGGING_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def log_texts(records: list[logging.LogRecord]) -> list[tuple[str, str]]:
    """(where, text) for every log record: the message, every extra field, the traceback."""
    formatter = logging.Formatter()
    out = []
    for record in records:
        where = f"log {record.name}:{record.lineno}"
        out.append((where, record.getMessage()))
        out += [(f"{where} field {k}", str(v)) for k, v in vars(record).items() if k not in _LOGGING_FIELDS]
        if record.exc_info:
            out.append((f"{where} traceback", formatter.formatException(record.exc_info)))
    return out


def leaks(texts: list[tuple[str, str]], values: set[str]) -> list[str]:
    found = []
    for where, text in texts:
        found += [f"{where}: {value!r}" for value in values if value in text]
        found += [f"{where}: phone-like {m!r}" for m in PHONE_PATTERN.findall(text)]
    return found


def gateway_spans(spans, method: str, route: str) -> list:
    """The gateway's server spans of one route (FastAPI instrumentation)."""
    return [s for s in spans if s.kind == SpanKind.SERVER and (s.attributes or {}).get("http.route") == route
            and (s.attributes or {}).get("http.method") == method]


@pytest.fixture
def captured(caplog, span_exporter):
    """Everything logged (all loggers, DEBUG) and every span finished during the test."""
    caplog.set_level(logging.DEBUG)
    span_exporter.clear()
    return caplog, span_exporter


def test_the_personal_field_is_marked_in_the_proto():
    assert "prevention.training.v1.Course.contact_phone" in redacted_fields()


async def test_one_trace_covers_gateway_service_and_sql_without_personal_data(platform, issuer, captured):
    caplog, span_exporter = captured
    token = issuer.token(tenant="110000", roles=["provincial_operator"])
    body = {"title": f"trace-{uuid.uuid4().hex[:8]}", "content_category": "accident_prevention",
            "contact_phone": PHONE}
    r = await platform.client.post("/v1/courses", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, r.text
    assert r.json()["contact_phone"] == PHONE  # the owner tenant's operator sees it (SPEC 7.3)

    spans = span_exporter.get_finished_spans()
    (gateway,) = gateway_spans(spans, "POST", "/v1/courses")
    trace_id = gateway.context.trace_id
    in_trace = [s for s in spans if s.context.trace_id == trace_id]
    service = [s for s in in_trace if s.kind == SpanKind.SERVER and s.name == CREATE_COURSE]
    assert len(service) == 1, [s.name for s in in_trace]
    sql = [s for s in in_trace if "db.system" in (s.attributes or {}) and "db.statement" in (s.attributes or {})]
    assert any("INSERT INTO courses" in s.attributes["db.statement"] for s in sql), [s.name for s in in_trace]
    # Parentage: the service span descends from the gateway span, the SQL span from the service span.
    by_id = {s.context.span_id: s for s in in_trace}

    def ancestors(span):
        while span.parent is not None and span.parent.span_id in by_id:
            span = by_id[span.parent.span_id]
            yield span

    assert gateway in ancestors(service[0])
    insert = next(s for s in sql if "INSERT INTO courses" in s.attributes["db.statement"])
    assert service[0] in ancestors(insert)

    # No span or log line carries the personal field (nor anything shaped like a phone number).
    request = training_pb2.CreateCourseRequest(course=training_pb2.Course(
        title=body["title"], content_category=training_pb2.CONTENT_CATEGORY_ACCIDENT_PREVENTION, contact_phone=PHONE))
    personal = redacted_values(request)
    assert personal == {PHONE}
    assert caplog.records, "nothing was logged: the scan would prove nothing"
    assert leaks(span_texts(spans) + log_texts(caplog.records), personal) == []


async def test_request_spans_carry_the_tenant(platform, issuer, captured):
    _caplog, span_exporter = captured
    token = issuer.token(tenant="110000", roles=["provincial_operator"])
    r = await platform.client.get("/v1/courses", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    spans = span_exporter.get_finished_spans()
    (gateway,) = gateway_spans(spans, "GET", "/v1/courses")
    service = [s for s in spans if s.kind == SpanKind.SERVER and s.context.trace_id == gateway.context.trace_id
               and s.name.endswith("/ListCourses")]
    for span in [gateway, *service]:
        tenants = {v for k, v in (span.attributes or {}).items() if "tenant" in k}
        assert tenants == {"110000"}, f"{span.name}: {dict(span.attributes or {})}"


async def test_a_domain_error_never_echoes_the_personal_value(platform, issuer, captured):
    caplog, span_exporter = captured
    token = issuer.token(tenant="110000", roles=["provincial_operator"])
    body = {"title": "bad phone", "content_category": "accident_prevention", "contact_phone": BAD_PHONE}
    r = await platform.client.post("/v1/courses", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 400, r.text
    problem = r.json()
    assert [v["field"] for v in problem["violations"]] == ["course.contact_phone"]
    assert BAD_PHONE[:10] not in r.text

    # The same through gRPC: status message and details name the field, never the value.
    request = training_pb2.CreateCourseRequest(course=training_pb2.Course(
        title="bad phone", content_category=training_pb2.CONTENT_CATEGORY_ACCIDENT_PREVENTION,
        contact_phone=BAD_PHONE))
    assert redacted_values(request) == {BAD_PHONE}
    async with raw_channel(platform.addresses["training"]) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await training_pb2_grpc.TrainingServiceStub(channel).CreateCourse(
                request, metadata=auth(token), timeout=RPC_TIMEOUT)
    error = info.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "course.contact_phone" in error.details()
    details = [status_pb2.Status.FromString(v) for k, v in error.trailing_metadata() or () if k == DETAILS_KEY]
    assert details and all(BAD_PHONE[:10] not in str(d) for d in details)
    assert BAD_PHONE[:10] not in error.details()

    # The access log line of the failed RPCs exists, says INVALID_ARGUMENT, and carries no value.
    rpc_lines = [rec for rec in caplog.records if rec.name == "prevention.rpc" and rec.rpc_method == CREATE_COURSE]
    assert [rec.rpc_status for rec in rpc_lines] == ["INVALID_ARGUMENT", "INVALID_ARGUMENT"]
    texts = span_texts(span_exporter.get_finished_spans()) + log_texts(caplog.records)
    assert leaks(texts, {BAD_PHONE, BAD_PHONE[:10]}) == []
