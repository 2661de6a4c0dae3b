"""`prevention seed --demo` for assessment: demo data appears once (idempotent) and is usable
through the public RPCs (a draw over the demo experts, a rate run over the demo inputs)."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

import grpc
import pytest
from prevention.assessment.v1 import assessment_pb2_grpc, projects_pb2, rates_pb2

from services.assessment import seed as assessment_seed
from services.assessment.servicer import build as assessment_build
from services.common.db import Database
from services.common.runner import build_runtime
from tests.assessment.helpers import Client

pytestmark = pytest.mark.db


async def test_demo_seed_is_idempotent_and_usable(platform, db_factory, issuer):
    url = await db_factory.prepared("assessment")
    database = Database(url)
    try:
        async with database.session() as session:
            first = await assessment_seed.seed(session, demo=True, settings=platform.settings)
        async with database.session() as session:
            again = await assessment_seed.seed(session, demo=True, settings=platform.settings)
    finally:
        await database.dispose()
    assert first["projects"] == 4 and first["experts"] == 12 and first["rate_inputs"] == 120
    assert first["documents"] == 14  # the files the demo calls and projects name
    assert again["projects"] == again["experts"] == again["rate_inputs"] == 0
    runtime = build_runtime("assessment", functools.partial(assessment_build), settings=platform.settings,
                            database_url=url, addresses=platform.addresses)
    port = await runtime.start("127.0.0.1:0")
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            po = Client(assessment_pb2_grpc.AssessmentServiceStub(channel),
                        issuer.token(tenant="110000", roles=["provincial_operator"]))
            projects = (await po.ListProjects(projects_pb2.ListProjectsRequest())).projects
            assert len(projects) == 2
            document = await po.GetDocumentDownload(projects_pb2.GetDocumentDownloadRequest(
                parent=projects[0].name, kind="feasibility_report"))
            link = urlsplit(document.download_url)
            got = await platform.client.get(f"{link.path}?{link.query}")
            assert got.status_code == 200 and got.content.startswith(b"%PDF"), got.text
            draw = (await po.DrawReviewers(projects_pb2.DrawReviewersRequest(project=projects[0].name, count=3)))
            assert len(draw.reviewer_draw.reviewers) == 3
            run = (await po.StartRateRun(rates_pb2.StartRateRunRequest(pooling_region="110000",
                                                                       cycle_end_year=2025))).rate_run
            assert (run.state, run.processed) == ("completed", 20)
    finally:
        await runtime.stop(grace=1.0)
