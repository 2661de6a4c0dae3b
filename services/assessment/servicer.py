"""gRPC adapter: proto <-> domain; owns the transaction. Calls sharing for key industries
(SPEC 7.1: assessment -> sharing) with the caller's token and a propagated deadline."""

from __future__ import annotations

from pathlib import Path

from prevention.assessment.v1 import assessment_pb2, assessment_pb2_grpc
from prevention.sharing.v1 import sharing_pb2, sharing_pb2_grpc

from services.assessment import service
from services.assessment.models import ActionPlan
from services.assessment.rpc_filings import FilingRpcs
from services.assessment.rpc_projects import ProjectRpcs
from services.assessment.rpc_rates import RateRpcs
from services.assessment.rpc_records import RecordRpcs
from services.assessment.rpc_scorecards import ScorecardRpcs
from services.assessment.scorecards import IndicatorSource, NoExternalIndicators
from services.common.channels import open_channel
from services.common.clock import Clock, SystemClock
from services.common.db import Database
from services.common.mtls import tls_files
from services.common.pagination import MAX_PAGE_SIZE, clamp_page_size, decode_page_token, encode_page_token
from services.common.policy import Policy
from services.common.server import Registration
from services.common.storage import ObjectStore, object_store

SHARING_TIMEOUT_SECONDS = 5.0


def plan_to_proto(plan: ActionPlan) -> assessment_pb2.ActionPlan:
    return assessment_pb2.ActionPlan(
        name=f"actionPlans/{plan.id}",
        title=plan.title,
        start_date=plan.start_date.isoformat(),
        end_date=plan.end_date.isoformat(),
        baseline_year=plan.baseline_year,
        targets=[assessment_pb2.PlanTarget(**t) for t in plan.targets],
        implementation_plan_due=plan.implementation_plan_due.isoformat(),
        annual_report_due=plan.annual_report_due,
    )


class AssessmentServicer(ProjectRpcs, RateRpcs, FilingRpcs, ScorecardRpcs, RecordRpcs,
                         assessment_pb2_grpc.AssessmentServiceServicer):
    def __init__(self, database: Database, sharing: sharing_pb2_grpc.SharingServiceStub, clock: Clock,
                 indicators: IndicatorSource | None = None, store: ObjectStore | None = None):
        self.db = database
        self.store = store
        self.sharing = sharing
        self.clock = clock
        self.indicators = indicators or NoExternalIndicators()

    async def ListActionPlans(self, request, context):
        size = clamp_page_size(request.page_size)
        after = decode_page_token(request.page_token)
        async with self.db.session() as session:
            rows = await service.list_plans(session=session, after=after[0] if after else None, limit=size + 1)
        return assessment_pb2.ListActionPlansResponse(
            action_plans=[plan_to_proto(p) for p in rows[:size]],
            next_page_token=encode_page_token([rows[size - 1].id]) if len(rows) > size else "",
        )

    async def GetActionPlan(self, request, context):
        plan_id = service.parse_plan_name(request.name)
        async with self.db.session() as session:
            plan = await service.get_plan(session=session, plan_id=plan_id, clock=self.clock)
        message = plan_to_proto(plan)
        # The channel interceptor caps this timeout at the caller's remaining deadline.
        industries = await self.sharing.ListKeyIndustries(
            sharing_pb2.ListKeyIndustriesRequest(page_size=MAX_PAGE_SIZE), timeout=SHARING_TIMEOUT_SECONDS
        )
        message.key_industry_codes.extend(k.code for k in industries.key_industries)
        return assessment_pb2.GetActionPlanResponse(action_plan=message)


POLICY_FILE = Path(__file__).with_name("policy.yaml")


def _service_token(identity_address: str, settings, tracer_provider, channels: list):
    """The assessment service's own identity for the filing-reminder job (no caller token there):
    its client-credentials client (services/common/service_clients.py), seeded by identity."""
    from prevention.identity.v1 import identity_pb2_grpc

    from services.common.service_clients import (
        ServiceTokens,
        identity_token_issuer,
        service_client_id,
        service_client_secret,
    )

    identity = open_channel(identity_address, default_timeout=settings.grpc_default_timeout_seconds,
                            tracer_provider=tracer_provider, tls=tls_files(settings))
    channels.append(identity)
    tokens = ServiceTokens(client_id=service_client_id("assessment"),
                           client_secret=service_client_secret(settings.data_dir, "assessment"),
                           issue=identity_token_issuer(identity_pb2_grpc.IdentityServiceStub(identity)))
    return tokens.token


def build(*, database: Database, addresses: dict[str, str], settings, tracer_provider=None,
          clock: Clock | None = None, notify_token=None, indicator_source: IndicatorSource | None = None,
          **_) -> Registration:
    """``notify_token``: an async callable giving the bearer token for identity's Notify in the
    filing-reminder job (the platform's service identity, wired by the integrator); without it
    the job is not started. ``indicator_source``: the scorecards' external indicators (sharing,
    training); the integrator passes the gRPC implementation here."""
    clock = clock or SystemClock()
    channel = open_channel(addresses["sharing"], default_timeout=settings.grpc_default_timeout_seconds,
                           tracer_provider=tracer_provider, tls=tls_files(settings))
    channels = [channel]
    background = []
    if notify_token is None and "identity" in addresses and getattr(settings, "data_dir", None) is not None:
        notify_token = _service_token(addresses["identity"], settings, tracer_provider, channels)
    if indicator_source is None and "training" in addresses:
        from prevention.training.v1 import training_pb2_grpc

        from services.assessment.indicators_grpc import GrpcIndicatorSource

        training = open_channel(addresses["training"], default_timeout=settings.grpc_default_timeout_seconds,
                                tracer_provider=tracer_provider, tls=tls_files(settings))
        channels.append(training)
        indicator_source = GrpcIndicatorSource(sharing_pb2_grpc.SharingServiceStub(channel),
                                               training_pb2_grpc.TrainingServiceStub(training))
    if notify_token is not None and "identity" in addresses:
        from prevention.identity.v1 import identity_pb2_grpc

        from services.assessment.filings import reminder_background
        from services.assessment.notify import IdentityNotifier
        from services.common.lease import leader_lock

        identity = open_channel(addresses["identity"], default_timeout=settings.grpc_default_timeout_seconds,
                                tracer_provider=tracer_provider, tls=tls_files(settings))
        channels.append(identity)
        background.append(reminder_background(
            sessionmaker=database.sessionmaker, clock=clock, lock=leader_lock(settings, "assessment-filing-reminders"),
            notifier=IdentityNotifier(identity_pb2_grpc.IdentityServiceStub(identity), notify_token)))
    if settings is not None and getattr(settings, "data_dir", None) is not None:
        from services.assessment.records import purge_background
        from services.common.lease import leader_lock

        background.append(purge_background(sessionmaker=database.sessionmaker, clock=clock,
                                           lock=leader_lock(settings, "assessment-retention-purge")))
    servicer = AssessmentServicer(database, sharing_pb2_grpc.SharingServiceStub(channel), clock, indicator_source,
                                  store=object_store(settings))
    return Registration(
        add_to_server=lambda server: assessment_pb2_grpc.add_AssessmentServiceServicer_to_server(servicer, server),
        service_names=[assessment_pb2.DESCRIPTOR.services_by_name["AssessmentService"].full_name],
        policy=Policy.load(POLICY_FILE),
        channels=channels,
        background=background,
    )
