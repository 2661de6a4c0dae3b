"""The xAPI Learning Record Store at /xapi (SPEC TR-3, GW-4): xAPI 2.0.0 and 1.0.3 over the
training service's statement and document RPCs — the same store as the gRPC ingestion.

Authentication: HTTP Basic with an API client's id and secret (exchanged at the identity service
for a client-credentials token, cached until shortly before it expires) or an OAuth2 bearer
token; either way the token's xAPI scopes limit what the caller may do, and the training
service's policy row decides who may call at all.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import parse_qsl, urlencode

import grpc
from fastapi import APIRouter, Depends, Request, Response
from prevention.identity.v1 import identity_pb2
from prevention.training.v1 import training_pb2

from gateway import xapi_canonical
from gateway.deps import Backends, backends
from gateway.problems import problem_response
from services.common.auth import bearer_token
from services.common.context import Caller, caller_var
from services.common.errors import InvalidArgument, PermissionDenied, Unauthenticated
from services.common.grpc_errors import parse_rpc_error

# Outside the OpenAPI document, like the OIDC protocol routes: the xAPI specification is its
# contract (and the ADL conformance suite its test), with xAPI status rules rather than ours.
router = APIRouter(prefix="/xapi", tags=["xapi"], include_in_schema=False)

VERSION_HEADER = "X-Experience-API-Version"
SUPPORTED = {"1.0.0": "1.0.3", "1.0.1": "1.0.3", "1.0.2": "1.0.3", "1.0.3": "1.0.3", "2.0.0": "2.0.0", "2.0": "2.0.0"}
# Scopes (SPEC TR-3): what each grants. `xapi` is the platform's umbrella scope, equal to `all`.
SCOPE_GRANTS: dict[str, set[str]] = {
    "all": {"statements/read", "statements/write", "state", "profile", "read"},
    "xapi": {"statements/read", "statements/write", "state", "profile", "read"},
    "all/read": {"statements/read", "read", "state/read", "profile/read"},
    "statements/write": {"statements/write"},
    "statements/read": {"statements/read", "read"},
    "statements/read/mine": {"statements/read", "read"},
    "learning_records.write": {"statements/write"},
    "learning_records.read": {"statements/read", "read"},
    "state": {"state", "read"},
    "define": {"read"},
    "profile": {"profile", "read"},
}
TOKEN_REFRESH_MARGIN_SECONDS = 30.0
ACTIVITY_MERGE_STATEMENTS = 200  # the newest statements an activity's definition is merged from
_TOKEN_CACHE_LIMIT = 1000


LATEST = "2.0.0"
_SPOKEN_LIMIT = 1000
_spoken: dict[str, str] = {}  # credentials digest -> the version they last declared (bounded)


def _answer_version(asked: str, authorization: bytes) -> str:
    """The version a response declares. A request that names a supported version gets it back;
    one that names none (refused with 400 except on /about) gets the version the same credentials
    last declared, else the latest this LRS speaks (xAPI: "the latest patch version"). A 1.0.3
    client that once forgets the header is thus answered in its own dialect, not told about 2.0.0."""
    key = hashlib.sha256(authorization).hexdigest() if authorization else ""
    version = SUPPORTED.get(asked)
    if version is not None:
        if key:
            if len(_spoken) >= _SPOKEN_LIMIT and key not in _spoken:
                _spoken.clear()
            _spoken[key] = version
        return version
    return _spoken.get(key, LATEST) if key else LATEST


class VersionHeaderMiddleware:
    """Every /xapi response carries the xAPI version the request asked for (errors included)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith("/xapi"):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "POST" and b"method=" in scope.get("query_string", b""):
            try:
                scope, receive = await alternate_request(scope, receive)
            except InvalidArgument as error:
                asked = dict(scope.get("headers") or []).get(VERSION_HEADER.lower().encode(), b"")
                version = SUPPORTED.get(asked.decode("latin-1").strip(), "1.0.3")
                response = problem_response(400, str(error), violations=error.violations,
                                            reason="INVALID_ARGUMENT", headers={VERSION_HEADER: version})
                await response(scope, receive, send)
                return
        headers_in = dict(scope.get("headers") or [])
        asked = headers_in.get(VERSION_HEADER.lower().encode(), b"").decode("latin-1")
        version = _answer_version(asked.strip(), headers_in.get(b"authorization", b""))

        statements = scope["path"].rstrip("/") == "/xapi/statements"

        async def send_with_version(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-experience-api-version"]
                headers.append((b"x-experience-api-version", version.encode()))
                if statements and not any(k.lower() == b"x-experience-api-consistent-through" for k, _ in headers):
                    # errors too: every statement stored before now is visible (writes commit synchronously)
                    now = datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")
                    headers.append((b"x-experience-api-consistent-through", now.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_version)


# --- the alternate request syntax (xAPI 1.0.3 Communication 1.3; removed in 2.0.0) ---------------
ALTERNATE_HEADERS = {"authorization", "x-experience-api-version", "content-type", "content-length", "if-match",
                     "if-none-match"}
ALTERNATE_METHODS = {"GET", "HEAD", "PUT", "POST", "DELETE"}
ALTERNATE_BODY_LIMIT = 2 * 1024 * 1024


async def alternate_request(scope, receive):
    """A POST with `?method=X` and a form body becomes the request it stands for: the form's
    header fields become headers, `content` the body, the other fields the query. Only the method
    parameter may be in the query (anything else: 400). xAPI 2.0.0 removed the syntax: a request
    declaring 2.0.0 is refused (and any non-POST carrying `method` is refused downstream, where
    `method` is no parameter of the resource)."""
    query = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    if [name for name, _ in query] != ["method"]:
        if "method" not in [name for name, _ in query]:
            return scope, receive
        raise InvalidArgument.field("method", "the alternate request syntax takes no other query parameter")
    method = query[0][1].upper()
    if method not in ALTERNATE_METHODS:
        raise InvalidArgument.field("method", "must be GET, HEAD, PUT, POST or DELETE")
    headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers") or []}
    content_type = headers.get("content-type", b"").decode("latin-1").split(";")[0].strip().lower()
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
        if len(body) > ALTERNATE_BODY_LIMIT:
            raise InvalidArgument.field("body", "is too large for the alternate request syntax")
    if content_type != "application/x-www-form-urlencoded":
        raise InvalidArgument.field("Content-Type", "the alternate request syntax needs a form-encoded body")
    try:
        form = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise InvalidArgument.field("body", "is not a form-encoded body") from None
    content = b""
    params: list[tuple[str, str]] = []
    for name, value in form:
        lower = name.lower()
        if lower == "content":
            content = value.encode("utf-8")
        elif lower in ALTERNATE_HEADERS:
            headers[lower] = value.encode("latin-1", errors="replace")
        else:
            params.append((name, value))
    version = SUPPORTED.get(headers.get("x-experience-api-version", b"").decode("latin-1").strip())
    if version == "2.0.0":
        raise InvalidArgument.field("method", "xAPI 2.0.0 has no alternate request syntax")
    if method in ("PUT", "POST") and not content:
        raise InvalidArgument.field("content", "is required for a PUT or POST in the alternate request syntax")
    headers.pop("content-length", None)
    if content:
        headers["content-length"] = str(len(content)).encode()
        headers.setdefault("content-type", b"application/json")
        if headers["content-type"].split(b";")[0].strip().lower() == b"application/x-www-form-urlencoded":
            headers["content-type"] = b"application/json"
    else:
        headers.pop("content-type", None)
    new_scope = {**scope, "method": method, "query_string": urlencode(params).encode("latin-1"),
                 "headers": [(k.encode("latin-1"), v) for k, v in headers.items()]}
    sent = False

    async def replay():
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": content, "more_body": False}

    return new_scope, replay


# --- authentication ----------------------------------------------------------------------------
async def _basic_token(request: Request, header: str) -> str:
    try:
        decoded = base64.b64decode(header.split(" ", 1)[1].strip(), validate=True).decode()
        client_id, secret = decoded.split(":", 1)
    except (ValueError, IndexError, UnicodeDecodeError):
        raise Unauthenticated("malformed Basic credentials", reason="INVALID_CLIENT") from None
    cache: dict = request.app.state.__dict__.setdefault("xapi_tokens", {})
    key = hashlib.sha256(decoded.encode()).hexdigest()
    cached = cache.get(key)
    if cached and cached[1] > time.monotonic():
        return cached[0]
    stubs: Backends = backends(request)
    try:
        reply = await stubs.identity.IssueToken(
            identity_pb2.IssueTokenRequest(grant_type="client_credentials", client_id=client_id, client_secret=secret),
            timeout=stubs.timeout)
    except grpc.aio.AioRpcError as error:
        failure = parse_rpc_error(error)
        if failure.code in (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.INVALID_ARGUMENT,
                            grpc.StatusCode.PERMISSION_DENIED):
            raise Unauthenticated("invalid client credentials", reason="INVALID_CLIENT") from None
        raise
    if len(cache) >= _TOKEN_CACHE_LIMIT:
        cache.clear()
    cache[key] = (reply.access_token, time.monotonic() + max(reply.expires_in - TOKEN_REFRESH_MARGIN_SECONDS, 0))
    return reply.access_token


async def xapi_caller(request: Request) -> Caller:
    header = request.headers.get("authorization")
    if header and header.lower().startswith("basic "):
        token = await _basic_token(request, header)
    else:
        token = bearer_token(header)
    caller = await request.app.state.validator.validate(token)
    caller_var.set(caller)  # outgoing gRPC calls forward the token from here
    return caller


def xapi_version(request: Request) -> str:
    asked = request.headers.get(VERSION_HEADER)
    if asked is None:
        raise InvalidArgument.field(VERSION_HEADER, "is required")
    version = SUPPORTED.get(asked.strip())
    if version is None:
        raise InvalidArgument.field(VERSION_HEADER, "must be 1.0.x or 2.0.0")
    return version


XapiCaller = Annotated[Caller, Depends(xapi_caller)]
Version = Annotated[str, Depends(xapi_version)]
Stubs = Annotated[Backends, Depends(backends)]


def require(caller: Caller, need: str) -> None:
    granted = set().union(*(SCOPE_GRANTS.get(s, set()) for s in caller.scopes))
    if need not in granted and not (need.endswith("/read") and need.split("/")[0] in granted):
        raise PermissionDenied(f"the token's scopes do not grant {need}", reason="XAPI_SCOPE")


def _params(request: Request, allowed: set[str]) -> dict[str, str]:
    params = dict(request.query_params)
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise InvalidArgument.field(unknown[0], "is not a parameter of this resource")
    return params


def _bool(params: dict, name: str) -> bool:
    value = params.get(name, "false").lower()
    if value not in ("true", "false"):
        raise InvalidArgument.field(name, "must be true or false")
    return value == "true"


# --- about, agents, activities -------------------------------------------------------------------
@router.get("/about")
async def about() -> Response:
    """The xAPI versions this LRS speaks (no authentication, per the xAPI specification)."""
    return Response(json.dumps({"version": ["1.0.3", "2.0.0"]}), media_type="application/json")


@router.get("/agents")
async def agents(request: Request, caller: XapiCaller, version: Version) -> Response:
    """The Person object of an agent: this LRS keeps no identities beyond the agent itself."""
    require(caller, "read")
    params = _params(request, {"agent"})
    try:
        agent = json.loads(params.get("agent", ""))
    except ValueError:
        raise InvalidArgument.field("agent", "must be an Agent as JSON") from None
    if not isinstance(agent, dict) or agent.get("objectType", "Agent") != "Agent":
        raise InvalidArgument.field("agent", "must be an Agent as JSON")
    person: dict = {"objectType": "Person"}
    for field in ("name", "mbox", "mbox_sha1sum", "openid", "account"):
        if field in agent:
            person[field] = [agent[field]]
    if len(person) == 1 or ("name" in person and len(person) == 2):
        raise InvalidArgument.field("agent", "needs an inverse functional identifier")
    return Response(json.dumps(person), media_type="application/json")


@router.get("/activities")
async def activities(request: Request, caller: XapiCaller, version: Version, stubs: Stubs) -> Response:
    """The activity with everything the latest statements say of it (xAPI Communication 2.5):
    definitions merged oldest to newest, language maps entry by entry; just its id when no
    statement carries it."""
    require(caller, "read")
    params = _params(request, {"activityId"})
    activity_id = params.get("activityId", "")
    if not activity_id:
        raise InvalidArgument.field("activityId", "is required")
    reply = await stubs.training.GetStatements(
        training_pb2.GetStatementsRequest(activity=activity_id, related_activities=True,
                                          limit=ACTIVITY_MERGE_STATEMENTS), timeout=stubs.timeout)
    body = xapi_canonical.merged_activity(activity_id, json.loads(reply.statements_json or "[]"))
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/json")


# --- statements --------------------------------------------------------------------------------
def _split_multipart(content_type: str, body: bytes) -> list[tuple[dict[str, str], bytes]]:
    boundary = ""
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "boundary":
            boundary = value.strip().strip('"')
    if not boundary:
        raise InvalidArgument.field("Content-Type", "multipart/mixed needs a boundary")
    delimiter = b"--" + boundary.encode()
    chunks = body.split(delimiter)
    if len(chunks) < 3:
        raise InvalidArgument.field("body", "is not a multipart/mixed body")
    parts = []
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n")
        head, sep, content = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise InvalidArgument.field("body", "a multipart part has no header block")
        headers = {}
        for line in head.decode("latin-1").split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip():
                headers[name.strip().lower()] = value.strip()
        parts.append((headers, content.removesuffix(b"\r\n")))
    return parts


async def _statements_payload(request: Request) -> tuple[str, list[training_pb2.StatementAttachment]]:
    content_type = request.headers.get("content-type", "application/json")
    body = await request.body()
    media = content_type.split(";")[0].strip().lower()
    if media == "multipart/mixed":
        parts = _split_multipart(content_type, body)
        if not parts or not parts[0][0].get("content-type", "").lower().startswith("application/json"):
            raise InvalidArgument.field("body", "the first part must be the statements as application/json")
        attachments = []
        for i, (headers, content) in enumerate(parts[1:], start=1):
            sha2 = headers.get("x-experience-api-hash")
            if not sha2:
                raise InvalidArgument.field(f"parts[{i}]", "needs an X-Experience-API-Hash header")
            if headers.get("content-transfer-encoding", "binary").lower() != "binary":
                raise InvalidArgument.field(f"parts[{i}]", "Content-Transfer-Encoding must be binary")
            attachments.append(training_pb2.StatementAttachment(
                sha2=sha2, content_type=headers.get("content-type", "application/octet-stream"), content=content))
        return parts[0][1].decode("utf-8", errors="strict"), attachments
    if media != "application/json":
        raise InvalidArgument.field("Content-Type", "must be application/json or multipart/mixed")
    try:
        return body.decode("utf-8"), []
    except UnicodeDecodeError:
        raise InvalidArgument.field("body", "must be UTF-8") from None


@router.put("/statements", status_code=204)
async def put_statement(request: Request, caller: XapiCaller, version: Version, stubs: Stubs) -> Response:
    require(caller, "statements/write")
    params = _params(request, {"statementId"})
    if not params.get("statementId"):
        raise InvalidArgument.field("statementId", "is required")
    text, attachments = await _statements_payload(request)
    await stubs.training.StoreStatements(
        training_pb2.StoreStatementsRequest(statements_json=text, statement_id=params["statementId"],
                                            attachments=attachments, xapi_version=version),
        timeout=stubs.timeout)
    return Response(status_code=204)


@router.post("/statements")
async def post_statements(request: Request, caller: XapiCaller, version: Version, stubs: Stubs) -> Response:
    require(caller, "statements/write")
    _params(request, set())
    text, attachments = await _statements_payload(request)
    reply = await stubs.training.StoreStatements(
        training_pb2.StoreStatementsRequest(statements_json=text, attachments=attachments, xapi_version=version),
        timeout=stubs.timeout)
    return Response(json.dumps(list(reply.statement_ids)), media_type="application/json")


STATEMENT_QUERY = {"statementId", "voidedStatementId", "agent", "verb", "activity", "registration",
                   "related_activities", "related_agents", "since", "until", "limit", "format", "attachments",
                   "ascending", "more"}


@router.get("/statements")
async def get_statements(request: Request, caller: XapiCaller, version: Version, stubs: Stubs) -> Response:
    require(caller, "statements/read")
    params = _params(request, STATEMENT_QUERY)
    limit = params.get("limit", "0")
    if not limit.isdigit():
        raise InvalidArgument.field("limit", "must be a non-negative integer")
    fmt = params.get("format", "exact")
    if fmt not in ("exact", "ids", "canonical"):
        raise InvalidArgument.field("format", "must be exact, ids or canonical")
    with_attachments = _bool(params, "attachments")
    message = training_pb2.GetStatementsRequest(
        statement_id=params.get("statementId", ""), voided_statement_id=params.get("voidedStatementId", ""),
        agent=params.get("agent", ""), verb=params.get("verb", ""), activity=params.get("activity", ""),
        registration=params.get("registration", ""), related_activities=_bool(params, "related_activities"),
        related_agents=_bool(params, "related_agents"), since=params.get("since", ""),
        until=params.get("until", ""), limit=min(int(limit), 10_000), format=fmt, attachments=with_attachments,
        ascending=_bool(params, "ascending"), page_token=params.get("more", ""))
    reply = await stubs.training.GetStatements(message, timeout=stubs.timeout)
    headers = {"X-Experience-API-Consistent-Through": reply.consistent_through}
    if message.statement_id or message.voided_statement_id:
        body = reply.statements_json
        headers["Last-Modified"] = _http_date(reply.last_modified)
    else:
        more = f"/xapi/statements?more={reply.next_page_token}" if reply.next_page_token else ""
        body = '{"statements":' + reply.statements_json + ',"more":' + json.dumps(more) + "}"
    if fmt == "canonical":
        wanted = xapi_canonical.preferences(request.headers.get("accept-language", ""))
        body = json.dumps(xapi_canonical.canonical(json.loads(body), wanted), ensure_ascii=False)
    if not with_attachments:
        return Response(body, media_type="application/json", headers=headers)
    boundary = uuid.uuid4().hex
    chunks = [f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode(), body.encode(), b"\r\n"]
    for a in reply.attachments:
        chunks += [f"--{boundary}\r\nContent-Type: {a.content_type}\r\nContent-Transfer-Encoding: binary\r\n"
                   f"X-Experience-API-Hash: {a.sha2}\r\n\r\n".encode(), a.content, b"\r\n"]
    chunks.append(f"--{boundary}--\r\n".encode())
    return Response(b"".join(chunks), media_type=f"multipart/mixed; boundary={boundary}", headers=headers)


def _http_date(rfc3339: str) -> str:
    from datetime import datetime
    from email.utils import format_datetime

    if not rfc3339:
        return ""
    return format_datetime(datetime.fromisoformat(rfc3339.replace("Z", "+00:00")), usegmt=True)


# --- documents ---------------------------------------------------------------------------------
_DOCS = {
    "state": (training_pb2.XAPI_DOCUMENT_KIND_STATE, "stateId", {"activityId", "agent", "registration", "stateId",
                                                                  "since"}, "state"),
    "activity_profile": (training_pb2.XAPI_DOCUMENT_KIND_ACTIVITY_PROFILE, "profileId",
                         {"activityId", "profileId", "since"}, "profile"),
    "agent_profile": (training_pb2.XAPI_DOCUMENT_KIND_AGENT_PROFILE, "profileId", {"agent", "profileId", "since"},
                      "profile"),
}


def _doc_key(kind: str, params: dict) -> training_pb2.XapiDocumentKey:
    enum, id_name, _, _ = _DOCS[kind]
    return training_pb2.XapiDocumentKey(kind=enum, activity_id=params.get("activityId", ""),
                                        agent=params.get("agent", ""), registration=params.get("registration", ""),
                                        document_id=params.get(id_name, ""))


async def _document(kind: str, request: Request, caller: Caller, stubs: Backends, version: str) -> Response:
    _, id_name, allowed, scope = _DOCS[kind]
    method = request.method
    require(caller, f"{scope}/read" if method in ("GET", "HEAD") else scope)
    params = _params(request, allowed)
    key = _doc_key(kind, params)
    if method in ("GET", "HEAD"):
        reply = await stubs.training.GetXapiDocument(
            training_pb2.GetXapiDocumentRequest(key=key, since=params.get("since", "")), timeout=stubs.timeout)
        if not key.document_id:
            return Response(json.dumps(list(reply.document_ids)), media_type="application/json")
        return Response(reply.content, media_type=reply.content_type,
                        headers={"ETag": f'"{reply.etag}"', "Last-Modified": _http_date(reply.updated)})
    if method == "DELETE":
        await stubs.training.DeleteXapiDocument(
            training_pb2.DeleteXapiDocumentRequest(key=key, if_match=request.headers.get("if-match", "")),
            timeout=stubs.timeout)
        return Response(status_code=204)
    if not key.document_id:
        raise InvalidArgument.field(id_name, "is required")
    reply = await stubs.training.PutXapiDocument(training_pb2.PutXapiDocumentRequest(
        key=key, content=await request.body(),
        content_type=request.headers.get("content-type", "application/octet-stream"), merge=method == "POST",
        if_match=request.headers.get("if-match", ""), if_none_match=request.headers.get("if-none-match", ""),
        # xAPI 2.0.0: overwriting any document needs a precondition; 1.0.3: profiles only, but
        # then also when creating one (what the ADL suite checks).
        require_precondition=kind != "state" or version == "2.0.0",
        require_precondition_when_new=kind != "state" and version == "1.0.3"), timeout=stubs.timeout)
    return Response(status_code=204, headers={"ETag": f'"{reply.etag}"'})


def _document_routes(path: str, kind: str) -> None:
    async def handler(request: Request, caller: XapiCaller, version: Version, stubs: Stubs) -> Response:
        return await _document(kind, request, caller, stubs, version)

    handler.__doc__ = f"xAPI {kind.replace('_', ' ')} documents (GET one or the ids, PUT, POST merges, DELETE)."
    for method in ("GET", "PUT", "POST", "DELETE"):
        router.add_api_route(path, handler, methods=[method], name=f"xapi_{kind}_{method.lower()}",
                             operation_id=f"xapi_{kind}_{method.lower()}")
    router.add_api_route(path, handler, methods=["HEAD"], include_in_schema=False)


# xAPI: HEAD answers like GET without a body (hidden from the OpenAPI document).
for _path, _endpoint in (("/statements", get_statements), ("/agents", agents), ("/activities", activities)):
    router.add_api_route(_path, _endpoint, methods=["HEAD"], include_in_schema=False)

_document_routes("/activities/state", "state")
_document_routes("/activities/profile", "activity_profile")
_document_routes("/agents/profile", "agent_profile")
