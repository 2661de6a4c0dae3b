"""The scorecards' external indicators over gRPC (SPEC AS-5, 7.1): key-industry incidence change
and rectification closure from sharing, key-position training coverage from training.

Each call carries the caller's token and a deadline no later than the caller's (the channel
interceptor of services/common/channels.py), so a province's scorecard is computed from exactly
what the calling ministry operator may read. The figures are the province's own tenant row as
the peers report it (records are published under the province's code).
"""

from __future__ import annotations

import time
from decimal import Decimal

from prevention.sharing.v1 import rectification_pb2, sharing_pb2, sharing_pb2_grpc
from prevention.training.v1 import core_pb2, training_pb2_grpc

from services.assessment.scorecards import IndicatorValue
from services.common.context import current_caller

PEER_TIMEOUT_SECONDS = 5.0


def _decimal(value: float) -> Decimal:
    """A peer's double as a decimal to 6 places (so 100 -> 90 reads -10 %, not -9.999999999999998 %)."""
    return Decimal(repr(value)).quantize(Decimal("0.000001")).normalize()


class GrpcIndicatorSource:
    """IndicatorSource backed by the sharing and training services. The all-tenant answers
    (incidence, closure) are kept for a few seconds per caller and year, so one scorecard
    computation over every province asks each peer once, and the next computation asks again."""

    def __init__(self, sharing: sharing_pb2_grpc.SharingServiceStub,
                 training: training_pb2_grpc.TrainingServiceStub, *, keep_seconds: float = 10.0):
        self.sharing = sharing
        self.training = training
        self.keep_seconds = keep_seconds
        self._kept: dict[tuple, tuple[float, object]] = {}

    async def _kept_call(self, key: tuple, call):
        """The peer's answer for ``key`` (method, year) and the current caller, reused briefly."""
        caller = current_caller()
        key = (*key, caller.subject if caller else "", caller.tenant if caller else "")
        now = time.monotonic()
        kept = self._kept.get(key)
        if kept is not None and now - kept[0] < self.keep_seconds:
            return kept[1]
        answer = await call()
        self._kept = {k: v for k, v in self._kept.items() if now - v[0] < self.keep_seconds}
        self._kept[key] = (now, answer)
        return answer

    async def incidence_change(self, *, tenant_code: str, year: int, baseline_year: int) -> IndicatorValue | None:
        response = await self._kept_call(("incidence", year), lambda: self.sharing.GetIncidenceAnalytics(
            sharing_pb2.GetIncidenceAnalyticsRequest(year=year), timeout=PEER_TIMEOUT_SECONDS))
        row = next((r for r in response.key_industries if r.tenant_code == tenant_code), None)
        if row is None or not row.HasField("change_vs_baseline_pct"):
            return None
        return IndicatorValue(
            value=(_decimal(row.change_vs_baseline_pct) / 100).normalize(),
            inputs={"source": "sharing GetIncidenceAnalytics", "plan": response.plan,
                    "baseline_year": str(response.baseline_year),
                    "incidence_per_100k_insured": repr(row.figures.incidence_per_100k_insured),
                    "baseline_incidence_per_100k_insured": repr(row.baseline.incidence_per_100k_insured),
                    "change_vs_baseline_pct": repr(row.change_vs_baseline_pct)})

    async def rectification_closure(self, *, tenant_code: str, year: int) -> IndicatorValue | None:
        response = await self._kept_call(("closure", year), lambda: self.sharing.GetRectificationClosure(
            rectification_pb2.GetRectificationClosureRequest(year=year), timeout=PEER_TIMEOUT_SECONDS))
        row = next((t for t in response.tenants if t.tenant_code == tenant_code), None)
        if row is None or row.due == 0:
            return None
        return IndicatorValue(value=Decimal(row.closed) / Decimal(row.due),
                              inputs={"source": "sharing GetRectificationClosure", "due": str(row.due),
                                      "closed": str(row.closed)})

    async def training_coverage(self, *, tenant_code: str, year: int) -> IndicatorValue | None:
        response = await self.training.GetCoverage(core_pb2.GetCoverageRequest(tenant_code=tenant_code, year=year),
                                                    timeout=PEER_TIMEOUT_SECONDS)
        if response.required == 0:
            return None
        return IndicatorValue(value=Decimal(response.trained) / Decimal(response.required),
                              inputs={"source": "training GetCoverage", "required": str(response.required),
                                      "trained": str(response.trained), "plan": response.plan_id})
