"""Notification rules a JSON Schema cannot state, for schemathesis' positive cases (RELIABILITY
S15, S11): a webhook URL's host must resolve to public addresses only, which no pattern can say
(and the tests have no DNS). The OpenAPI document states the rule in words; this hook makes a
generated positive body keep it by using a public address literal. Negative cases are untouched."""

from __future__ import annotations

import schemathesis
from schemathesis.generation.modes import GenerationMode

PUBLIC_WEBHOOK = "https://93.184.216.34/hook"  # a public address: no DNS needed, nothing contacted on save


@schemathesis.hook.apply_to(method="PUT", path="/v1/notifications/settings")
def map_case(context, case):
    if (case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE
            and isinstance(case.body, dict) and case.body.get("webhook_url")):
        case.body = {**case.body, "webhook_url": PUBLIC_WEBHOOK}
    return case
