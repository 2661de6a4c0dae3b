"""gRPC adapter of the catalogue below courses (TR-1) and of exams and certificates (TR-4).

A mixin of ``TrainingServicer``: it needs ``self.db``, ``self.keyring``, ``self.clock``,
``self.store`` (ObjectStore or None when the service runs without object storage) and
``self.public_base_url`` (the gateway's public URL, for the courses' xAPI activity ids)."""

from __future__ import annotations

from datetime import UTC

from prevention.training.v1 import core_pb2

from services.common.context import Caller, current_caller
from services.common.errors import InvalidArgument, Unavailable
from services.common.idempotency import idempotent_rpc
from services.common.pagination import (
    clamp_page_size,
    newest_first_after,
    newest_first_token,
)
from services.training import catalogue, completions, exams
from services.training.core_models import CourseModule, Material, QuestionBank
from services.training.models import IdempotencyKeys
from services.training.service import parse_course_name


def _ts(message, value) -> None:
    if value is not None:
        message.FromDatetime(value if value.tzinfo else value.replace(tzinfo=UTC))


class CatalogueRpcs:
    db: object
    keyring: object
    clock: object
    store: object
    public_base_url: str

    def _store(self):
        if self.store is None:
            raise Unavailable("object storage is not configured for the training service")
        return self.store

    def material_to_proto(self, row: Material) -> core_pb2.Material:
        message = core_pb2.Material(
            name=f"materials/{row.id}", tenant_code=row.tenant_code,
            course_module=f"courseModules/{row.module_id}" if row.module_id else "", kind=row.kind, title=row.title,
            content_type=row.content_type, publicity_topic=row.publicity_topic, public=row.public,
            size_bytes=row.size, state=row.state, sha256=row.sha256,
            download_url=self._store().presign_get(row.object_key) if row.state == "ready" else "")
        _ts(message.create_time, row.create_time)
        return message

    def module_to_proto(self, row: CourseModule, materials: list[Material]) -> core_pb2.CourseModule:
        return core_pb2.CourseModule(name=f"courseModules/{row.id}", course=f"courses/{row.course_id}",
                                     title=row.title, position=row.position,
                                     materials=[self.material_to_proto(m) for m in materials])

    async def _once(self, caller, method, request, response_type, work):
        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller, method=method,
                                    request=request, response_type=response_type, work=work)

    async def SetCourseTags(self, request, context):
        caller = current_caller()
        course_id = parse_course_name(request.name)
        async with self.db.session() as session:
            row = await catalogue.set_tags(session=session, caller=caller, course_id=course_id,
                                           industries=list(request.tags.industries),
                                           target_positions=list(request.tags.target_positions),
                                           now=self.clock.now())
            response = core_pb2.SetCourseTagsResponse(tags=core_pb2.CourseTags(
                industries=row.industries, target_positions=row.target_positions))
            await session.commit()
        return response

    async def GetCourseCatalogue(self, request, context):
        caller = current_caller()
        course_id = parse_course_name(request.name)
        async with self.db.session() as session:
            modules = await catalogue.list_modules(session=session, caller=caller, course_id=course_id)
            tags = await catalogue.tags_of(session, course_id)
            response = core_pb2.GetCourseCatalogueResponse(
                course=f"courses/{course_id}",
                activity_id=completions.course_activity_id(self.public_base_url, course_id),
                tags=core_pb2.CourseTags(industries=tags.industries if tags else [],
                                         target_positions=tags.target_positions if tags else []),
                modules=[self.module_to_proto(m, materials) for m, materials in modules])
        return response

    async def CreateCourseModule(self, request, context):
        caller = current_caller()
        course_id = parse_course_name(request.parent)

        async def work(session):
            row = await catalogue.create_module(session=session, caller=caller, course_id=course_id,
                                                title=request.course_module.title, now=self.clock.now())
            return core_pb2.CreateCourseModuleResponse(course_module=self.module_to_proto(row, []))

        return await self._once(caller, "CreateCourseModule", request, core_pb2.CreateCourseModuleResponse, work)

    async def CreateMaterial(self, request, context):
        caller = current_caller()
        store = self._store()
        module_id = catalogue.parse_module_name(request.parent) if request.parent else ""
        m = request.material
        new = catalogue.NewMaterial(kind=m.kind, title=m.title, content_type=m.content_type,
                                    publicity_topic=m.publicity_topic, public=m.public, content=request.content,
                                    size=m.size_bytes)

        async def work(session):
            row, upload_url = await catalogue.create_material(session=session, store=store, caller=caller,
                                                              module_id=module_id, new=new, now=self.clock.now())
            return core_pb2.CreateMaterialResponse(material=self.material_to_proto(row), upload_url=upload_url)

        return await self._once(caller, "CreateMaterial", request, core_pb2.CreateMaterialResponse, work)

    async def GetMaterial(self, request, context):
        caller = current_caller()
        material_id = catalogue.parse_material_name(request.name)
        async with self.db.session() as session:
            row = await catalogue.get_material(session=session, store=self._store(), caller=caller,
                                               material_id=material_id)
            response = core_pb2.GetMaterialResponse(material=self.material_to_proto(row))
            await session.commit()
        return response

    async def ListPublicMaterials(self, request, context):
        size = clamp_page_size(request.page_size)
        query = {"topic": request.publicity_topic}
        async with self.db.session() as session:
            rows = await catalogue.list_public_materials(session=session, topic=request.publicity_topic,
                                                         after=newest_first_after(request.page_token, query),
                                                         limit=size + 1)
        return core_pb2.ListPublicMaterialsResponse(materials=[self.material_to_proto(r) for r in rows[:size]],
                                                    next_page_token=newest_first_token(rows, size, query))

    # -- exams and certificates ----------------------------------------------------------------

    @staticmethod
    def bank_to_proto(row: QuestionBank, caller: Caller) -> core_pb2.QuestionBank:
        show = exams.shows_answers(caller, row)
        return core_pb2.QuestionBank(
            name=f"questionBanks/{row.id}", tenant_code=row.tenant_code, course=f"courses/{row.course_id}",
            title=row.title, pass_mark=row.pass_mark,
            questions=[core_pb2.Question(text=q["text"], options=q["options"], answer=q["answer"] if show else -1)
                       for q in row.questions])

    async def CreateQuestionBank(self, request, context):
        caller = current_caller()
        b = request.question_bank
        if not b.course:
            raise InvalidArgument.field("question_bank.course", "is required: courses/{id}")
        course_id = parse_course_name(b.course)
        questions = [exams.Question(text=q.text, options=list(q.options), answer=q.answer) for q in b.questions]

        async def work(session):
            row = await exams.create_bank(session=session, caller=caller, course_id=course_id, title=b.title,
                                          pass_mark=b.pass_mark, questions=questions, now=self.clock.now())
            return core_pb2.CreateQuestionBankResponse(question_bank=self.bank_to_proto(row, caller))

        return await self._once(caller, "CreateQuestionBank", request, core_pb2.CreateQuestionBankResponse, work)

    async def GetQuestionBank(self, request, context):
        caller = current_caller()
        bank_id = exams.parse_bank_name(request.name)
        async with self.db.session() as session:
            row = await exams.get_bank(session=session, caller=caller, bank_id=bank_id)
        return core_pb2.GetQuestionBankResponse(question_bank=self.bank_to_proto(row, caller))

    async def SubmitExamAttempt(self, request, context):
        caller = current_caller()
        store = self._store()
        bank_id = exams.parse_bank_name(request.parent, "parent")

        async def work(session):
            attempt, certificate = await exams.submit_attempt(
                session=session, store=store, keyring=self.keyring, caller=caller, bank_id=bank_id,
                answers=list(request.answers), now=self.clock.now())
            message = core_pb2.ExamAttempt(name=f"examAttempts/{attempt.id}", question_bank=f"questionBanks/{bank_id}",
                                           score=attempt.score, passed=attempt.passed)
            if certificate is not None:
                message.certificate.verification_code = certificate.verification_code
                message.certificate.download_url = store.presign_get(certificate.object_key)
                _ts(message.certificate.issue_time, certificate.issue_time)
            return core_pb2.SubmitExamAttemptResponse(attempt=message)

        return await self._once(caller, "SubmitExamAttempt", request, core_pb2.SubmitExamAttemptResponse, work)

    async def VerifyCertificate(self, request, context):
        async with self.db.session() as session:
            certificate = await exams.verify(session=session, code=request.verification_code)
        if certificate is None:
            return core_pb2.VerifyCertificateResponse(valid=False)
        return core_pb2.VerifyCertificateResponse(valid=True, masked_name=certificate.masked_name)
