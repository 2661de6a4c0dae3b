"""Documents of prevention projects in object storage (SPEC AS-1): a call's guideline and template
form, an application's required documents.

- Upload: a presigned PUT under ``{tenant}/assessment/{kind}/{id}`` of the caller's tenant
  (provincial operators for a call's guideline and template form, applicants for their
  documents); the key is what the call or application then names.
- A call or application is accepted only when every key it names holds an uploaded object
  (``require_uploaded``), so what reviewers open is what was filed.
- Download: a presigned GET for a document of a call or project the caller may see (the
  project's scoping: applicant own, PO own province, expert assigned, ministry all).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.common.context import Caller
from services.common.errors import FieldViolation, InvalidArgument, NotFound
from services.common.storage import ObjectStore, object_key

# What the object store accepts of document formats (services/common/storage.py).
CONTENT_TYPES = ("application/pdf", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "image/png",
                 "image/jpeg")
UPLOAD_KINDS = ("guideline", "template_form", "project_document")
_CALL = re.compile(r"^projectCalls/([0-9a-f]{32})$")
_PROJECT = re.compile(r"^projects/([0-9a-f]{32})$")


def create_upload(*, caller: Caller, store: ObjectStore, kind: str, content_type: str,
                  now: datetime) -> tuple[str, str]:
    """(object key, presigned PUT URL) for one document of ``kind`` under the caller's tenant."""
    if kind not in UPLOAD_KINDS:
        raise InvalidArgument.field("kind", f"must be one of {', '.join(UPLOAD_KINDS)}")
    content_type = (content_type or "").strip()
    if content_type not in CONTENT_TYPES:
        raise InvalidArgument.field("content_type", f"must be one of {', '.join(CONTENT_TYPES)}")
    key = object_key(caller.tenant, "assessment", kind, uuid.uuid4().hex)
    return key, store.presign_put(key, content_type=content_type, now=now)


async def require_uploaded(store: ObjectStore, keys: list[tuple[str, str]]) -> None:
    """Every (field, key) names an uploaded object; else INVALID_ARGUMENT naming each field."""
    violations = []
    for field, key in keys:
        try:
            await store.stat(key)
        except (NotFound, InvalidArgument):
            violations.append(FieldViolation(field, "names no uploaded object: upload the file first "
                                                    "(POST /v1/document-uploads) and give the key it returns"))
    if violations:
        raise InvalidArgument(violations)


async def download(*, session: AsyncSession, caller: Caller, store: ObjectStore, parent: str, kind: str,
                   now: datetime) -> tuple[str, str]:
    """(object key, presigned GET URL) of the ``kind`` document of the call or project ``parent``,
    as the caller sees it (NOT_FOUND across tenants, like the call or project itself)."""
    from services.assessment import projects

    if match := _CALL.match(parent or ""):
        call = await projects.get_call(session=session, caller=caller, call_id=match.group(1))
        named = {"guideline": call.guideline_object, "template_form": call.template_form_object}
    elif match := _PROJECT.match(parent or ""):
        view = await projects.get_project(session=session, caller=caller, project_id=match.group(1))
        named = {d["kind"]: d["object_key"] for d in view.project.documents}
    else:
        raise InvalidArgument.field("parent", "must be projectCalls/{id} or projects/{id}")
    if kind not in named:
        raise InvalidArgument.field("kind", f"must be one of {', '.join(sorted(named))}")
    return named[kind], store.presign_get(named[kind], now=now)
