"""Domain rules that a JSON Schema cannot state, for schemathesis' positive cases (RELIABILITY S15).

Positive cases must be accepted, but some valid-looking bodies are invalid in the domain: a USCC
whose 18th character is not its check character (SPEC 5), an insured headcount above the headcount,
a pooling region outside the caller's province, fields that only some organisation types take.
The OpenAPI document states these in words; `map_case` turns a generated positive body into one
that also keeps them (the caller of test_schemathesis is a provincial operator of 110000), so the
check still proves that every body the schema promises is accepted. Negative cases are untouched.
"""

from __future__ import annotations

import schemathesis
from schemathesis.generation.modes import GenerationMode

from services.common.validators import uscc_check_char

CALLER_PROVINCE = "110000"  # test_schemathesis calls as a provincial operator of Beijing (no pooling regions)


def _employer(profile: dict | None) -> dict:
    profile = dict(profile or {"uscc": "91110000000000000", "industry_code": "C26", "risk_class": 1,
                               "headcount": 0, "insured_headcount": 0})
    profile["uscc"] = profile["uscc"][:17] + uscc_check_char(profile["uscc"][:17])
    profile["insured_headcount"] = min(profile["insured_headcount"], profile["headcount"])
    profile["pooling_region_code"] = CALLER_PROVINCE
    return profile


def organisation_rules(body: dict) -> dict:
    body = dict(body)
    if body.get("type") == "government_department":
        body["department_type"] = body.get("department_type") or "hrss"
        if body["department_type"] == "industry_regulator":
            body["sector"] = body.get("sector") or "construction"
        else:
            body.pop("sector", None)
    else:
        body.pop("department_type", None)
        body.pop("sector", None)
    if body.get("type") == "employer":
        body["employer"] = _employer(body.get("employer"))
    else:
        body.pop("employer", None)
    return body


@schemathesis.hook.apply_to(method="POST", path="/v1/organisations")
def map_case(context, case):
    if (case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE
            and isinstance(case.body, dict)):
        case.body = organisation_rules(case.body)
    return case


@schemathesis.hook.apply_to(method="POST", path="/v1/employers:import")
def filter_case(context, case):
    """multipart/form-data carries no JSON types: a negative case that makes `file` a number or an
    object arrives as a file whose content is that text, which is a well-formed upload (the import
    reports its rows). Such cases test the transport, not the API; every other negative case stays."""
    if (case.meta is not None and case.meta.generation.mode == GenerationMode.NEGATIVE
            and isinstance(case.body, dict) and "file" in case.body):
        return isinstance(case.body["file"], bytes | str)
    return True
