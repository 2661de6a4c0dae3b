"""Exposure rules a JSON Schema cannot state, for schemathesis' positive cases (RELIABILITY S15):
a GB/T 4754 division belongs to its section, and a batch names each division and year once.
Negative cases are untouched."""

from __future__ import annotations

import schemathesis

from tests.gateway.schemathesis_sharing_hooks import _industry, _positive


@schemathesis.hook.apply_to(method="PUT", path="/v1/exposure")
def map_case(context, case):
    if _positive(case) and isinstance(case.body, dict) and isinstance(case.body.get("exposures"), list):
        rows, seen = [], set()
        for row in case.body["exposures"]:
            if isinstance(row, dict) and isinstance(row.get("industry_code"), str):
                row = {**row, "industry_code": _industry(row["industry_code"])[:3]}
                key = (row["industry_code"], row.get("year"))
                if key in seen:
                    continue
                seen.add(key)
            rows.append(row)
        case.body = {**case.body, "exposures": rows or case.body["exposures"][:1]}
    return case
