"""gRPC adapter: proto <-> domain; owns the transaction."""

from __future__ import annotations

from pathlib import Path

from prevention.training.v1 import training_pb2, training_pb2_grpc

from services.common.context import Caller, current_caller
from services.common.db import Database
from services.common.enums import EnumLabels
from services.common.idempotency import idempotent_rpc
from services.common.pagination import (
    clamp_page_size,
    newest_first_after,
    newest_first_token,
)
from services.common.policy import Policy
from services.common.server import Registration
from services.common.validators import mask_phone
from services.training import service
from services.training.models import Course, IdempotencyKeys
from services.training.rpc_catalogue import CatalogueRpcs
from services.training.rpc_core import CoreRpcs
from services.training.rpc_lrs import LearningRecordRpcs, add_to_server

_CATEGORIES = EnumLabels(training_pb2.ContentCategory)
_CATEGORY_TO_PROTO, _CATEGORY_FROM_PROTO = _CATEGORIES.to_proto, _CATEGORIES.from_proto


def course_to_proto(row: Course, caller: Caller) -> training_pb2.Course:
    message = training_pb2.Course(
        name=f"courses/{row.id}",
        tenant_code=row.tenant_code,
        title=row.title,
        description=row.description,
        content_category=_CATEGORY_TO_PROTO[row.content_category],
        contact_phone=row.contact_phone if caller.may_see_personal(row.tenant_code)
        else mask_phone(row.contact_phone),
    )
    message.create_time.FromDatetime(row.create_time)
    return message


class TrainingServicer(CoreRpcs, CatalogueRpcs, LearningRecordRpcs, training_pb2_grpc.TrainingServiceServicer):
    def __init__(self, database: Database, *, keyring=None, clock=None, store=None, public_base_url: str = "",
                 may_push=None):
        self.db = database
        self.keyring = keyring  # personal data of trainees (services.common.pii)
        self.clock = clock
        self.store = store  # materials, certificates and xAPI attachments (services.common.storage)
        self.object_store = store  # the learning-record store's name for it
        self.public_base_url = public_base_url
        # Injectable; None = the recommended list (TR-6), looked up at call time.
        self.may_push = may_push

    async def CreateCourse(self, request, context):
        caller = current_caller()
        new = service.NewCourse(
            title=request.course.title,
            description=request.course.description,
            content_category=_CATEGORY_FROM_PROTO.get(request.course.content_category, ""),
            contact_phone=request.course.contact_phone,
        )

        async def work(session):
            row = await service.create_course(session=session, caller=caller, course=new)
            return training_pb2.CreateCourseResponse(course=course_to_proto(row, caller))

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller, method="CreateCourse",
                                    request=request, response_type=training_pb2.CreateCourseResponse, work=work)

    async def GetCourse(self, request, context):
        caller = current_caller()
        course_id = service.parse_course_name(request.name)
        async with self.db.session() as session:
            row = await service.get_course(session=session, caller=caller, course_id=course_id)
        return training_pb2.GetCourseResponse(course=course_to_proto(row, caller))

    async def ListCourses(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        async with self.db.session() as session:
            rows = await service.list_courses(session=session, caller=caller,
                                              after=newest_first_after(request.page_token), limit=size + 1)
        return training_pb2.ListCoursesResponse(courses=[course_to_proto(r, caller) for r in rows[:size]],
                                                next_page_token=newest_first_token(rows, size))


POLICY_FILE = Path(__file__).with_name("policy.yaml")


def build(*, database: Database, settings=None, clock=None, keyring=None, may_push=None, object_store=None,
          **_) -> Registration:
    from services.common.clock import SystemClock
    from services.common.pii import PiiKeyring
    from services.common.storage import object_store as store_from_settings

    if keyring is None and settings is not None:
        keyring = PiiKeyring.from_settings(settings)
    if object_store is None and settings is not None:
        object_store = store_from_settings(settings)
    servicer = TrainingServicer(database, keyring=keyring, clock=clock or SystemClock(), store=object_store,
                                public_base_url=settings.public_base_url if settings is not None else "",
                                may_push=may_push)
    background = []
    if settings is not None and object_store is not None:  # RELIABILITY D5: orphan objects swept
        from datetime import timedelta

        from services.common.lease import leader_lock
        from services.training.object_sweep import training_sweep_background
        background.append(training_sweep_background(
            sessionmaker=database.sessionmaker, store=object_store, clock=clock or SystemClock(),
            lock=leader_lock(settings, "training-object-sweep"),
            grace=timedelta(seconds=settings.object_sweep_grace_seconds)))
    return Registration(
        add_to_server=lambda server: add_to_server(servicer, server),
        service_names=[training_pb2.DESCRIPTOR.services_by_name["TrainingService"].full_name],
        policy=Policy.load(POLICY_FILE),
        background=background,
    )
