from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from prevention.assessment.v1 import assessment_pb2

from gateway.deps import BackendsDep, CurrentCaller
from gateway.problems import ERROR_RESPONSES
from gateway.routers.params import PageSize, PageToken, page_size
from gateway.schemas.assessment import ActionPlan, ActionPlanList

router = APIRouter(prefix="/v1", tags=["assessment"], responses=ERROR_RESPONSES)
PlanId = Annotated[str, Path(pattern=r"^[0-9a-z-]{1,32}$", description="e.g. 2021-2025, or `active`")]


@router.get("/action-plans", response_model=ActionPlanList)
async def list_action_plans(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                            page_token: PageToken = "") -> ActionPlanList:
    response = await backends.assessment.ListActionPlans(
        assessment_pb2.ListActionPlansRequest(page_size=page_size(page_size_), page_token=page_token),
        timeout=backends.timeout,
    )
    return ActionPlanList(action_plans=[ActionPlan.from_proto(p) for p in response.action_plans],
                          next_page_token=response.next_page_token)


@router.get("/action-plans/{plan_id}", response_model=ActionPlan)
async def get_action_plan(plan_id: PlanId, caller: CurrentCaller, backends: BackendsDep) -> ActionPlan:
    response = await backends.assessment.GetActionPlan(
        assessment_pb2.GetActionPlanRequest(name=f"actionPlans/{plan_id}"), timeout=backends.timeout
    )
    return ActionPlan.from_proto(response.action_plan)
