"""Training rules a JSON Schema cannot state, for schemathesis' positive cases (RELIABILITY S15):
URLs name a public host (the service resolves nothing but refuses local names and non-public
addresses); a platform's base URL and client ids are unique per tenant (each positive case gets
fresh ones); GB/T 4754 divisions belong to their section; programmes name existing courses (none
here); inline material content is base64 of at most the inline limit and matches its kind; a
material outside a module has a publicity topic; a question's answer is one of its options.
Negative cases are untouched."""

from __future__ import annotations

import base64
import uuid

import schemathesis

from tests.gateway.schemathesis_sharing_hooks import _industry, _positive

CONTENT_TYPES = {"video": "video/mp4", "document": "application/pdf", "infographic": "image/png",
                 "typical_case": "application/pdf"}


def _url() -> str:
    return f"https://st-{uuid.uuid4().hex[:12]}.example.com"


@schemathesis.hook.apply_to(method="POST", path="/v1/training-platforms")
def map_case(context, case):
    if _positive(case) and isinstance(case.body, dict):
        case.body = {**case.body, "base_url": _url(),
                     "client_ids": [f"st-{uuid.uuid4().hex[:12]}" for _ in case.body.get("client_ids", [])]}
    return case


@schemathesis.hook.apply_to(method="POST", path="/v1/trainees")
def map_case(context, case):  # noqa: F811 - one hook per operation
    if _positive(case) and isinstance(case.body, dict):
        body = {**case.body, "industry_code": _industry(case.body.get("industry_code", "C26")), "citizen_id": ""}
        body["accounts"] = [{"home_page": _url(), "name": a.get("name") or "learner"}
                            for a in body.get("accounts", []) if isinstance(a, dict)]
        case.body = body
    return case


@schemathesis.hook.apply_to(method="POST", path="/v1/programmes")
def map_case(context, case):  # noqa: F811
    if _positive(case) and isinstance(case.body, dict):
        case.body = {**case.body, "course_ids": []}
    return case


@schemathesis.hook.apply_to(method="PUT", path="/v1/courses/{course_id}/tags")
def map_case(context, case):  # noqa: F811
    if _positive(case) and isinstance(case.body, dict):
        case.body = {**case.body, "industries": [_industry(c) for c in case.body.get("industries", [])]}
    return case


@schemathesis.hook.apply_to(method="POST", path="/v1/warning-education-bases")
def map_case(context, case):  # noqa: F811
    if _positive(case) and isinstance(case.body, dict):
        case.body = {**case.body, "industries": [_industry(c) for c in case.body.get("industries", [])],
                     "website": _url() if case.body.get("website") else ""}
    return case


@schemathesis.hook.apply_to(method="POST", path="/v1/materials")
def map_case(context, case):  # noqa: F811
    if _positive(case) and isinstance(case.body, dict):
        body = dict(case.body)
        kind = body.get("kind", "document")
        body["content_type"] = CONTENT_TYPES.get(kind, "application/pdf")
        body["content_base64"] = base64.b64encode(b"schemathesis material").decode()
        body["size_bytes"] = 0
        if not body.get("course_module_id") and not body.get("publicity_topic"):
            body["publicity_topic"] = "work_safety"
        if body.get("public") and not body.get("publicity_topic"):
            body["public"] = False
        case.body = body
    return case


@schemathesis.hook.apply_to(method="POST", path="/v1/question-banks")
def map_case(context, case):  # noqa: F811
    if _positive(case) and isinstance(case.body, dict):
        questions = []
        for q in case.body.get("questions", []):
            if isinstance(q, dict) and isinstance(q.get("options"), list) and q["options"]:
                q = {**q, "answer": min(max(q.get("answer", 0), 0), len(q["options"]) - 1)}
            questions.append(q)
        case.body = {**case.body, "questions": questions}
    return case
