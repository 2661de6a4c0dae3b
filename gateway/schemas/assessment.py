from __future__ import annotations

from datetime import date

from prevention.assessment.v1 import assessment_pb2
from pydantic import BaseModel


class PlanTarget(BaseModel):
    indicator: str
    value: str
    due_date: date


class ActionPlan(BaseModel):
    id: str
    title: str
    start_date: date
    end_date: date
    baseline_year: int
    targets: list[PlanTarget]
    implementation_plan_due: date
    annual_report_due: str
    key_industry_codes: list[str]

    @classmethod
    def from_proto(cls, m: assessment_pb2.ActionPlan) -> ActionPlan:
        return cls(
            id=m.name.removeprefix("actionPlans/"), title=m.title, start_date=m.start_date, end_date=m.end_date,
            baseline_year=m.baseline_year,
            targets=[PlanTarget(indicator=t.indicator, value=t.value, due_date=t.due_date) for t in m.targets],
            implementation_plan_due=m.implementation_plan_due, annual_report_due=m.annual_report_due,
            key_industry_codes=list(m.key_industry_codes),
        )


class ActionPlanList(BaseModel):
    action_plans: list[ActionPlan]
    next_page_token: str
