"""Helpers for the assessment tests: a gRPC stub on the running platform, as third parties call it."""

from __future__ import annotations

import random
import uuid
from contextlib import asynccontextmanager

import grpc
from prevention.assessment.v1 import assessment_pb2_grpc, projects_pb2

PO_ROLES = ["provincial_operator"]
DOCUMENT_KINDS = ("application_form", "feasibility_report", "implementation_plan", "cost_estimate", "qualification")


class Client:
    """AssessmentService stub bound to one caller's token."""

    def __init__(self, stub, token: str):
        self._stub = stub
        self._md = [("authorization", f"Bearer {token}")]

    def __getattr__(self, method):
        rpc = getattr(self._stub, method)

        async def call(request):
            return await rpc(request, metadata=self._md, timeout=20)
        return call


@asynccontextmanager
async def assessment(platform):
    async with grpc.aio.insecure_channel(platform.addresses["assessment"]) as channel:
        yield lambda token: Client(assessment_pb2_grpc.AssessmentServiceStub(channel), token)


async def code_of(awaitable) -> tuple[grpc.StatusCode, str]:
    try:
        await awaitable
    except grpc.aio.AioRpcError as error:
        return error.code(), error.details()
    return grpc.StatusCode.OK, ""


def unique_region(tenant: str) -> str:
    """A pooling region of ``tenant``'s province no other test uses (budgets are per region)."""
    return f"{tenant[:2]}{random.randint(10, 99)}{random.randint(10, 99)}"


def call_message(tenant: str, *, year: int = 2026, closes_on: str = "2099-12-31") -> projects_pb2.ProjectCall:
    return projects_pb2.ProjectCall(
        title=f"Prevention projects {uuid.uuid4().hex[:6]}", year=year,
        guideline_object=f"{tenant}/assessment/guideline/g1",  # uploaded by tests/support/platform.py
        template_form_object=f"{tenant}/assessment/template_form/t1", closes_on=closes_on)


def application(tenant: str, call: str, *, region: str, budget_fen: int = 100_000_00, beneficiary: str = "",
                start: str = "2026-03-01", end: str = "2027-02-28") -> projects_pb2.Project:
    return projects_pb2.Project(
        call=call, title=f"Dust control training {uuid.uuid4().hex[:6]}", pooling_region=region,
        category="training", requested_budget_fen=budget_fen, planned_start=start, planned_end=end,
        beneficiary_employer=beneficiary,
        documents=[projects_pb2.ProjectDocument(kind=k, object_key=f"{tenant}/assessment/project_document/{k}")
                   for k in DOCUMENT_KINDS],
        milestones=[projects_pb2.Milestone(title="training delivered", due_date="2026-09-30")])


def approval(budget_fen: int, start: str = "2026-03-01", end: str = "2027-02-28") -> projects_pb2.ProjectApproval:
    return projects_pb2.ProjectApproval(budget_fen=budget_fen, start_date=start, end_date=end)
