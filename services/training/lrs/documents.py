"""xAPI documents: state, activity profile and agent profile, with ETag concurrency
(SPEC 7.4: a mismatch is FAILED_PRECONDITION -> 412; a profile overwritten blind -> 409)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.context import Caller
from services.common.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from services.training.lrs import statements as st
from services.training.lrs.models import XapiDocument
from services.training.lrs.store import parse_agent

KINDS = ("state", "activity_profile", "agent_profile")
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Key:
    kind: str
    activity_id: str = ""
    agent: str = ""
    registration: str = ""
    document_id: str = ""


def _scope(tenant: str, key: Key) -> str:
    if key.kind not in KINDS:
        raise InvalidArgument.field("key.kind", "must be state, activity_profile or agent_profile")
    parts = [tenant, key.kind]
    if key.kind in ("state", "activity_profile"):
        if not key.activity_id:
            raise InvalidArgument.field("activityId", "is required")
        st_check = st._Checker("1.0.3")
        st_check.iri(key.activity_id, "activityId")
        if st_check.errors:
            raise InvalidArgument(st_check.errors)
        parts.append(key.activity_id)
    if key.kind in ("state", "agent_profile"):
        if not key.agent:
            raise InvalidArgument.field("agent", "is required")
        parts.append(parse_agent(key.agent))
    if key.kind == "state":
        if key.registration:
            st_check = st._Checker("1.0.3")
            st_check.uuid(key.registration, "registration")
            if st_check.errors:
                raise InvalidArgument(st_check.errors)
        parts.append(key.registration.lower())
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _row_id(scope: str, document_id: str) -> str:
    return hashlib.sha256(f"{scope}\x1f{document_id}".encode()).hexdigest()


def etag_of(content: bytes) -> str:
    return hashlib.sha1(content, usedforsecurity=False).hexdigest()


def _matches(header: str, etag: str | None) -> bool:
    tags = [t.strip().strip('"').removeprefix("W/").strip('"') for t in header.split(",")]
    return etag is not None and ("*" in tags or etag in tags)


async def get(session: AsyncSession, *, caller: Caller, key: Key) -> XapiDocument:
    scope = _scope(caller.tenant, key)
    row = await session.get(XapiDocument, _row_id(scope, key.document_id))
    if row is None or row.tenant_code != caller.tenant:
        raise NotFound("no such document")
    return row


async def list_ids(session: AsyncSession, *, caller: Caller, key: Key, since: str) -> list[str]:
    scope = _scope(caller.tenant, key)
    query = select(XapiDocument.document_id).where(XapiDocument.tenant_code == caller.tenant,
                                                   XapiDocument.kind == key.kind, XapiDocument.scope_hash == scope)
    if since:
        moment = st.parse_timestamp(since)
        if moment is None:
            raise InvalidArgument.field("since", "must be an ISO 8601 timestamp")
        query = query.where(XapiDocument.updated > moment)
    return list((await session.scalars(query.order_by(XapiDocument.document_id))).all())


def _check_preconditions(row: XapiDocument | None, *, if_match: str, if_none_match: str,
                         require: bool, require_when_new: bool = False) -> None:
    current = row.etag if row is not None else None
    if if_match and not _matches(if_match, current):
        raise FailedPrecondition("If-Match does not match the document's ETag", reason="ETAG_MISMATCH")
    if if_none_match and current is not None and _matches(if_none_match, current):
        raise FailedPrecondition("If-None-Match matches the document's ETag", reason="ETAG_MISMATCH")
    if require and not if_match and not if_none_match:
        if row is not None:
            raise AlreadyExists("the document exists: send If-Match with its ETag (or If-None-Match)",
                                reason="ETAG_REQUIRED")
        if require_when_new:
            raise InvalidArgument.field("If-Match", "a profile is written with If-Match or If-None-Match")


async def put(session: AsyncSession, *, caller: Caller, key: Key, content: bytes, content_type: str, merge: bool,
              if_match: str, if_none_match: str, require_precondition: bool, now: datetime,
              require_precondition_when_new: bool = False) -> str:
    if not key.document_id:
        raise InvalidArgument.field("stateId" if key.kind == "state" else "profileId", "is required")
    if len(content) > MAX_DOCUMENT_BYTES:
        raise InvalidArgument.field("content", f"must be at most {MAX_DOCUMENT_BYTES} bytes")
    scope = _scope(caller.tenant, key)
    row_id = _row_id(scope, key.document_id)
    row = await session.get(XapiDocument, row_id)
    _check_preconditions(row, if_match=if_match, if_none_match=if_none_match,
                         require=require_precondition and not merge,
                         require_when_new=require_precondition_when_new and not merge)
    if merge:
        incoming = _json_object(content, content_type, "content")
        if row is not None:
            stored = _json_object(row.content, row.content_type, "stored document")
            stored.update(incoming)
            incoming = stored
        content = json.dumps(incoming, separators=(",", ":"), ensure_ascii=False).encode()
        content_type = "application/json"
    etag = etag_of(content)
    if row is None:
        session.add(XapiDocument(id=row_id, tenant_code=caller.tenant, kind=key.kind, scope_hash=scope,
                                 document_id=key.document_id, content=content,
                                 content_type=content_type or "application/octet-stream", etag=etag, updated=now))
    else:
        row.content, row.content_type, row.etag, row.updated = content, content_type, etag, now
    await session.flush()
    return etag


def _json_object(content: bytes, content_type: str, what: str) -> dict:
    if not content_type.split(";")[0].strip().lower() == "application/json":
        raise InvalidArgument.field(what, "merging (POST) needs application/json documents")
    try:
        value = json.loads(content)
    except ValueError:
        raise InvalidArgument.field(what, "is not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidArgument.field(what, "merging (POST) needs a JSON object")
    return value


async def remove(session: AsyncSession, *, caller: Caller, key: Key, if_match: str) -> None:
    scope = _scope(caller.tenant, key)
    if key.document_id:
        row = await session.get(XapiDocument, _row_id(scope, key.document_id))
        _check_preconditions(row, if_match=if_match, if_none_match="", require=False)
        if row is not None:
            await session.delete(row)
        return
    if key.kind != "state":
        raise InvalidArgument.field("profileId", "is required")
    await session.execute(delete(XapiDocument).where(XapiDocument.tenant_code == caller.tenant,
                                                     XapiDocument.kind == "state", XapiDocument.scope_hash == scope))
