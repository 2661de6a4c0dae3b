"""gRPC adapter of the training core (issue 5): recommended platforms, trainees, programmes,
enrolment, offline sessions, coverage and the NF-8 self-export. Converts proto <-> domain and owns
the transaction; the domain lives in platforms.py, trainees.py, coverage.py.

A mixin of ``TrainingServicer``: it needs ``self.db`` (Database), ``self.keyring`` (PiiKeyring)
and ``self.clock`` (Clock)."""

from __future__ import annotations

import json
from datetime import UTC

from prevention.training.v1 import core_pb2

from services.common.context import Caller, current_caller
from services.common.enums import EnumLabels
from services.common.errors import InvalidArgument
from services.common.idempotency import idempotent_rpc
from services.common.pagination import (
    clamp_page_size,
    decode_page_token,
    encode_page_token,
    newest_first_after,
    newest_first_token,
)
from services.training import coverage, platforms, schools, trainees
from services.training.core_models import (
    Enrolment,
    OfflineSession,
    Programme,
    TechnicalSchoolCourse,
    Trainee,
    TrainingPlatform,
    WarningEducationBase,
)
from services.training.models import IdempotencyKeys
from services.training.reference import key_industry_of

_STATES = EnumLabels(core_pb2.TrainingPlatformState)


def _ts(message, value) -> None:
    if value is not None:
        message.FromDatetime(value if value.tzinfo else value.replace(tzinfo=UTC))


async def platform_to_proto(session, row: TrainingPlatform, *, public: bool = False) -> core_pb2.TrainingPlatform:
    message = core_pb2.TrainingPlatform(
        name=f"trainingPlatforms/{row.id}", tenant_code=row.tenant_code, display_name=row.display_name,
        kind=row.kind, base_url=row.base_url, qualifications=list(row.qualifications or []),
        state=_STATES.to_proto[row.state])
    _ts(message.create_time, row.create_time)
    _ts(message.update_time, row.update_time)
    if not public:
        message.client_ids.extend(await platforms.client_ids(session, row.id))
        for t in await platforms.transitions(session, row.id):
            step = message.transitions.add(from_state=_STATES.to_proto.get(t.from_state, 0),
                                           to_state=_STATES.to_proto[t.to_state], reason=t.reason, actor=t.actor)
            _ts(step.time, t.time)
    return message


async def trainee_to_proto(session, keyring, caller: Caller, row: Trainee) -> core_pb2.Trainee:
    view = trainees.personal_view(keyring, caller, row)
    message = core_pb2.Trainee(
        name=f"trainees/{row.id}", tenant_code=row.tenant_code, display_name=view["name"],
        citizen_id=view["citizen_id"], employer_id=row.employer_id, employer_name=row.employer_name,
        industry_code=row.industry_code, key_industry=key_industry_of(row.industry_code),
        key_position=row.key_position, user_id=row.user_id,
        accounts=[core_pb2.XapiAccount(home_page=a.home_page, name=a.name)
                  for a in await trainees.accounts_of(session, row.id)])
    _ts(message.create_time, row.create_time)
    return message


def programme_to_proto(row: Programme) -> core_pb2.Programme:
    message = core_pb2.Programme(name=f"programmes/{row.id}", tenant_code=row.tenant_code, title=row.title,
                                 year=row.year, courses=[f"courses/{c}" for c in row.course_ids or []])
    _ts(message.create_time, row.create_time)
    return message


def enrolment_to_proto(row: Enrolment) -> core_pb2.Enrolment:
    message = core_pb2.Enrolment(name=f"enrolments/{row.id}", programme=f"programmes/{row.programme_id}",
                                 trainee=f"trainees/{row.trainee_id}")
    _ts(message.create_time, row.create_time)
    return message


def session_to_proto(row: OfflineSession, attendees: int = 0) -> core_pb2.OfflineSession:
    message = core_pb2.OfflineSession(name=f"offlineSessions/{row.id}", programme=f"programmes/{row.programme_id}",
                                      course=f"courses/{row.course_id}", title=row.title, location=row.location,
                                      attendee_count=attendees)
    _ts(message.start_time, row.start_time)
    return message


def _rows(tallies: dict, names: dict | None = None) -> list[core_pb2.CoverageRow]:
    return [core_pb2.CoverageRow(key=k, display_name=(names or {}).get(k, ""), required=t.required,
                                 trained=t.trained, ratio=float(t.ratio)) for k, t in sorted(tallies.items())]


class CoreRpcs:
    db: object
    keyring: object
    clock: object

    async def _idempotent(self, caller, method, request, response_type, work):
        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller, method=method,
                                    request=request, response_type=response_type, work=work)

    # -- recommended platform list (TR-6) ------------------------------------------------------

    async def CreateTrainingPlatform(self, request, context):
        caller = current_caller()
        p = request.training_platform
        new = platforms.NewPlatform(display_name=p.display_name, kind=p.kind, base_url=p.base_url,
                                    qualifications=list(p.qualifications), client_ids=list(p.client_ids))

        async def work(session):
            row = await platforms.create_platform(session=session, caller=caller, new=new, now=self.clock.now())
            return core_pb2.CreateTrainingPlatformResponse(
                training_platform=await platform_to_proto(session, row))

        return await self._idempotent(caller, "CreateTrainingPlatform", request,
                                      core_pb2.CreateTrainingPlatformResponse, work)

    async def GetTrainingPlatform(self, request, context):
        caller = current_caller()
        platform_id = platforms.parse_platform_name(request.name)
        async with self.db.session() as session:
            row = await platforms.get_platform(session=session, caller=caller, platform_id=platform_id)
            return core_pb2.GetTrainingPlatformResponse(training_platform=await platform_to_proto(session, row))

    async def ListTrainingPlatforms(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        state = _STATES.from_proto.get(request.state, "")
        query = {"tenant": request.tenant_code, "state": state}
        async with self.db.session() as session:
            rows = await platforms.list_platforms(session=session, caller=caller, tenant_code=request.tenant_code,
                                                  state=state, after=newest_first_after(request.page_token, query),
                                                  limit=size + 1)
            return core_pb2.ListTrainingPlatformsResponse(
                training_platforms=[await platform_to_proto(session, r) for r in rows[:size]],
                next_page_token=newest_first_token(rows, size, query))

    async def ChangeTrainingPlatformState(self, request, context):
        caller = current_caller()
        platform_id = platforms.parse_platform_name(request.name)
        state = _STATES.from_proto.get(request.state, "")
        async with self.db.session() as session:
            row = await platforms.change_state(session=session, caller=caller, platform_id=platform_id, state=state,
                                               reason=request.reason, now=self.clock.now())
            response = core_pb2.ChangeTrainingPlatformStateResponse(
                training_platform=await platform_to_proto(session, row))
            await session.commit()
        return response

    async def ListRecommendedPlatforms(self, request, context):
        tenant = request.tenant_code
        if not (len(tenant) == 6 and tenant.isdigit()):
            raise InvalidArgument.field("tenant_code", "must be a 6-digit tenant code")
        size = clamp_page_size(request.page_size)
        query = {"public": tenant}
        public_reader = Caller(subject="", tenant=tenant)  # reads exactly this tenant's list
        async with self.db.session() as session:
            rows = await platforms.list_platforms(session=session, caller=public_reader, tenant_code=tenant,
                                                  state="recommended",
                                                  after=newest_first_after(request.page_token, query),
                                                  limit=size + 1)
            return core_pb2.ListRecommendedPlatformsResponse(
                training_platforms=[await platform_to_proto(session, r, public=True) for r in rows[:size]],
                next_page_token=newest_first_token(rows, size, query))

    # -- trainees, programmes, enrolment, offline sessions (TR-2) -------------------------------

    async def CreateTrainee(self, request, context):
        caller = current_caller()
        t = request.trainee
        new = trainees.NewTrainee(
            name=t.display_name, citizen_id=t.citizen_id, employer_id=t.employer_id, employer_name=t.employer_name,
            industry_code=t.industry_code, key_position=t.key_position, user_id=t.user_id,
            accounts=[trainees.Account(a.home_page, a.name) for a in t.accounts])

        async def work(session):
            row = await trainees.create_trainee(session=session, keyring=self.keyring, caller=caller, new=new,
                                                now=self.clock.now())
            return core_pb2.CreateTraineeResponse(
                trainee=await trainee_to_proto(session, self.keyring, caller, row))

        return await self._idempotent(caller, "CreateTrainee", request, core_pb2.CreateTraineeResponse, work)

    async def GetTrainee(self, request, context):
        caller = current_caller()
        trainee_id = trainees.parse_name("trainees", request.name)
        async with self.db.session() as session:
            row = await trainees.get_trainee(session=session, caller=caller, trainee_id=trainee_id)
            return core_pb2.GetTraineeResponse(trainee=await trainee_to_proto(session, self.keyring, caller, row))

    async def ListTrainees(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        async with self.db.session() as session:
            rows = await trainees.list_trainees(session=session, caller=caller,
                                                after=newest_first_after(request.page_token), limit=size + 1)
            return core_pb2.ListTraineesResponse(
                trainees=[await trainee_to_proto(session, self.keyring, caller, r) for r in rows[:size]],
                next_page_token=newest_first_token(rows, size))

    async def CreateProgramme(self, request, context):
        caller = current_caller()
        p = request.programme
        new = trainees.NewProgramme(title=p.title, year=p.year, course_ids=list(p.courses))

        async def work(session):
            row = await trainees.create_programme(session=session, caller=caller, new=new, now=self.clock.now())
            return core_pb2.CreateProgrammeResponse(programme=programme_to_proto(row))

        return await self._idempotent(caller, "CreateProgramme", request, core_pb2.CreateProgrammeResponse, work)

    async def GetProgramme(self, request, context):
        caller = current_caller()
        programme_id = trainees.parse_name("programmes", request.name)
        async with self.db.session() as session:
            row = await trainees.get_programme(session=session, caller=caller, programme_id=programme_id)
        return core_pb2.GetProgrammeResponse(programme=programme_to_proto(row))

    async def ListProgrammes(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        async with self.db.session() as session:
            rows = await trainees.list_programmes(session=session, caller=caller,
                                                  after=newest_first_after(request.page_token), limit=size + 1)
        return core_pb2.ListProgrammesResponse(programmes=[programme_to_proto(r) for r in rows[:size]],
                                                   next_page_token=newest_first_token(rows, size))

    async def CreateEnrolment(self, request, context):
        caller = current_caller()
        programme_id = trainees.parse_name("programmes", request.parent, "parent")
        trainee_id = trainees.parse_name("trainees", request.trainee, "trainee")
        async with self.db.session() as session:
            row = await trainees.enrol(session=session, caller=caller, programme_id=programme_id,
                                       trainee_id=trainee_id, now=self.clock.now())
            response = core_pb2.CreateEnrolmentResponse(enrolment=enrolment_to_proto(row))
            await session.commit()
        return response

    async def CreateOfflineSession(self, request, context):
        caller = current_caller()
        programme_id = trainees.parse_name("programmes", request.parent, "parent")
        s = request.offline_session
        course_id = s.course.removeprefix("courses/")
        start = s.start_time.ToDatetime(tzinfo=UTC) if s.HasField("start_time") else None

        async def work(session):
            row = await trainees.create_offline_session(
                session=session, caller=caller, programme_id=programme_id, course_id=course_id, title=s.title,
                location=s.location, start_time=start, now=self.clock.now())
            return core_pb2.CreateOfflineSessionResponse(offline_session=session_to_proto(row))

        return await self._idempotent(caller, "CreateOfflineSession", request,
                                      core_pb2.CreateOfflineSessionResponse, work)

    async def RecordAttendance(self, request, context):
        caller = current_caller()
        session_id = trainees.parse_name("offlineSessions", request.name)
        ids = [trainees.parse_name("trainees", t, f"trainees[{i}]") for i, t in enumerate(request.trainees)]
        if len(ids) > 1000:
            raise InvalidArgument.field("trainees", "at most 1000 per request")
        async with self.db.session() as session:
            count = await trainees.record_attendance(session=session, caller=caller, session_id=session_id,
                                                     trainee_ids=ids, now=self.clock.now())
            await session.commit()
        return core_pb2.RecordAttendanceResponse(attendee_count=count)

    # -- coverage (TR-5) -----------------------------------------------------------------------

    def _year(self, year: int) -> int:
        return year or self.clock.now().year

    async def GetCoverage(self, request, context):
        caller = current_caller()
        async with self.db.session() as session:
            result = await coverage.compute(session=session, caller=caller, tenant_code=request.tenant_code,
                                            year=self._year(request.year))
        return core_pb2.GetCoverageResponse(
            tenant_code=result.tenant_code, year=result.year, required=result.total.required,
            trained=result.total.trained, ratio=float(result.total.ratio), plan_id=result.plan.plan_id,
            target=float(result.plan.target), due_date=result.plan.due_date.isoformat(), gap=result.gap(),
            by_key_industry=_rows(result.by_industry), by_employer=_rows(result.by_employer, result.employer_names),
            by_key_position=_rows(result.by_position))

    async def ListUncoveredTrainees(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        year = self._year(request.year)
        query = {"tenant": request.tenant_code, "year": year}
        after = decode_page_token(request.page_token, query, shape=(str,))
        async with self.db.session() as session:
            result = await coverage.compute(session=session, caller=caller, tenant_code=request.tenant_code,
                                            year=year)
        rows = sorted(coverage.uncovered_rows(result, self.keyring, caller), key=lambda r: r[0])
        if after:
            rows = [r for r in rows if r[0] > after[0]]
        page = rows[:size]
        return core_pb2.ListUncoveredTraineesResponse(
            trainees=[core_pb2.UncoveredTrainee(trainee=r[0], display_name=r[1], tenant_code=r[2], employer_id=r[3],
                                                employer_name=r[4], key_industry=r[5], key_position=r[6])
                      for r in page],
            next_page_token=encode_page_token([page[-1][0]], query) if len(rows) > size else "")

    async def ExportCoverage(self, request, context):
        caller = current_caller()
        if request.format not in ("csv", "xlsx"):
            raise InvalidArgument.field("format", "must be csv or xlsx")
        async with self.db.session() as session:
            result = await coverage.compute(session=session, caller=caller, tenant_code=request.tenant_code,
                                            year=self._year(request.year))
        content, content_type = coverage.export(result, self.keyring, caller, request.format)
        return core_pb2.ExportCoverageResponse(
            content=content, content_type=content_type,
            filename=f"coverage-{result.tenant_code}-{result.year}.{request.format}")

    # -- NF-8 ----------------------------------------------------------------------------------

    async def ExportMyLearningData(self, request, context):
        caller = current_caller()
        async with self.db.session() as session:
            data = await trainees.export_own(session=session, keyring=self.keyring, caller=caller)
        return core_pb2.ExportMyLearningDataResponse(json=json.dumps(data, ensure_ascii=False, sort_keys=True))

    # -- technical schools and warning-education bases (TR-7) ------------------------------------

    async def CreateTechnicalSchoolCourse(self, request, context):
        caller = current_caller()
        c = request.technical_school_course

        async def work(session):
            row = await schools.create_school_course(
                session=session, caller=caller, school_name=c.school_name, course_title=c.course_title,
                content_categories=list(c.content_categories), academic_year=c.academic_year, now=self.clock.now())
            return core_pb2.CreateTechnicalSchoolCourseResponse(technical_school_course=school_course_to_proto(row))

        return await self._idempotent(caller, "CreateTechnicalSchoolCourse", request,
                                      core_pb2.CreateTechnicalSchoolCourseResponse, work)

    async def ListTechnicalSchoolCourses(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        async with self.db.session() as session:
            rows = await schools.list_rows(TechnicalSchoolCourse, session=session, caller=caller,
                                           after=newest_first_after(request.page_token), limit=size + 1)
        return core_pb2.ListTechnicalSchoolCoursesResponse(
            technical_school_courses=[school_course_to_proto(r) for r in rows[:size]],
            next_page_token=newest_first_token(rows, size))

    async def CreateWarningEducationBase(self, request, context):
        caller = current_caller()
        b = request.warning_education_base

        async def work(session):
            row = await schools.create_base(session=session, caller=caller, name=b.display_name, address=b.address,
                                            industries=list(b.industries), website=b.website, now=self.clock.now())
            return core_pb2.CreateWarningEducationBaseResponse(warning_education_base=base_to_proto(row))

        return await self._idempotent(caller, "CreateWarningEducationBase", request,
                                      core_pb2.CreateWarningEducationBaseResponse, work)

    async def ListWarningEducationBases(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        async with self.db.session() as session:
            rows = await schools.list_rows(WarningEducationBase, session=session, caller=caller,
                                           after=newest_first_after(request.page_token), limit=size + 1)
        return core_pb2.ListWarningEducationBasesResponse(
            warning_education_bases=[base_to_proto(r) for r in rows[:size]],
            next_page_token=newest_first_token(rows, size))


def school_course_to_proto(row: TechnicalSchoolCourse) -> core_pb2.TechnicalSchoolCourse:
    message = core_pb2.TechnicalSchoolCourse(
        name=f"technicalSchoolCourses/{row.id}", tenant_code=row.tenant_code, school_name=row.school_name,
        course_title=row.course_title, content_categories=list(row.content_categories),
        academic_year=row.academic_year)
    _ts(message.create_time, row.create_time)
    return message


def base_to_proto(row: WarningEducationBase) -> core_pb2.WarningEducationBase:
    message = core_pb2.WarningEducationBase(
        name=f"warningEducationBases/{row.id}", tenant_code=row.tenant_code, display_name=row.name,
        address=row.address, industries=list(row.industries), website=row.website)
    _ts(message.create_time, row.create_time)
    return message
