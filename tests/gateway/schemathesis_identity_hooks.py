"""Identity rules a JSON Schema cannot state, for schemathesis' positive cases (RELIABILITY S15):
a password needs letters and digits; a citizen ID's 18th character is its check character and
positions 7-14 a real birth date (SPEC 5); an `organisation` must exist in the caller's tenant.
The OpenAPI document states them in words; these
hooks make generated positive bodies keep them. Negative cases are untouched."""

from __future__ import annotations

import schemathesis
from schemathesis.generation.modes import GenerationMode

from services.common.validators import citizen_id_check_char


def _positive(case) -> bool:
    return (case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE
            and isinstance(case.body, dict))


def user_rules(body: dict) -> dict:
    body = dict(body)
    password = body.get("password", "")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        body["password"] = (password + "a1")[-256:] if len(password) >= 12 else "generated-password-1"
    body.pop("organisation", None)  # must name an existing organisation of the tenant (see below)
    if body.get("citizen_id"):
        first17 = body["citizen_id"][:6] + "19900101" + body["citizen_id"][14:17]
        body["citizen_id"] = first17 + citizen_id_check_char(first17)
    return body


@schemathesis.hook.apply_to(method="POST", path="/v1/users")
def map_case(context, case):
    if _positive(case):
        case.body = user_rules(case.body)
    return case


@schemathesis.hook.apply_to(method="POST", path="/v1/api-clients")
def map_case(context, case):  # noqa: F811 - one hook per operation
    if _positive(case):
        case.body = {k: v for k, v in case.body.items() if k != "organisation"}
    return case


@schemathesis.hook.apply_to(method="PATCH", path="/v1/users/{user_id}")
def map_case(context, case):  # noqa: F811
    if _positive(case):
        case.body = {k: v for k, v in case.body.items() if k != "organisation"} or {"display_name": "x"}
    return case
