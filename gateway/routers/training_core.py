"""Training core over REST (issue 5): the recommended platform list (TR-6, with a public view),
trainees, programmes, enrolment and offline attendance (TR-2), coverage and its export (TR-5),
and a trainee's own learning data (NF-8)."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response
from prevention.training.v1 import core_pb2

from gateway.deps import BackendsDep, CurrentCaller
from gateway.problems import ERROR_RESPONSES
from gateway.routers.params import IdempotencyKey, PageSize, PageToken, page_size
from gateway.schemas.training_core import (
    AttemptCreate,
    AttendanceRecord,
    AttendanceResult,
    CertificateVerification,
    CourseCatalogue,
    CourseModule,
    CourseModuleCreate,
    CourseTagsBody,
    Coverage,
    Enrolment,
    EnrolmentCreate,
    ExamAttempt,
    IssuedCertificate,
    Material,
    MaterialCreate,
    MaterialCreated,
    MaterialList,
    OfflineSession,
    OfflineSessionCreate,
    PlatformState,
    Programme,
    ProgrammeCreate,
    ProgrammeList,
    PublicityTopic,
    QuestionBank,
    QuestionBankCreate,
    TechnicalSchoolCourse,
    TechnicalSchoolCourseCreate,
    TechnicalSchoolCourseList,
    Trainee,
    TraineeCreate,
    TraineeList,
    TrainingPlatform,
    TrainingPlatformCreate,
    TrainingPlatformList,
    TrainingPlatformStateChange,
    UncoveredList,
    UncoveredTrainee,
    WarningEducationBase,
    WarningEducationBaseCreate,
    WarningEducationBaseList,
)
from services.common.enums import EnumLabels
from services.common.errors import InvalidArgument

router = APIRouter(prefix="/v1", tags=["training"], responses=ERROR_RESPONSES)
Id = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
TenantCode = Annotated[str, Query(pattern=r"^([0-9]{6})?$", description="Default: the caller's tenant")]
Year = Annotated[int | None, Query(ge=2000, le=2100, description="Default: the current year")]
_STATES = EnumLabels(core_pb2.TrainingPlatformState)
# One gRPC message carries inline content (4 MiB limit): larger files go by presigned PUT (SPEC 7.5).
INLINE_MAX_BYTES = 4 * 1024 * 1024 - 64 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# -- recommended platform list (TR-6) ---------------------------------------------------------------


@router.post("/training-platforms", response_model=TrainingPlatform, status_code=201)
async def create_training_platform(body: TrainingPlatformCreate, caller: CurrentCaller, backends: BackendsDep,
                                   idempotency_key: IdempotencyKey = None) -> TrainingPlatform:
    """Registers a platform or institution on the caller's tenant list, in state recommended."""
    response = await backends.training.CreateTrainingPlatform(
        core_pb2.CreateTrainingPlatformRequest(training_platform=body.to_proto(), request_id=idempotency_key or ""),
        timeout=backends.timeout)
    return TrainingPlatform.from_proto(response.training_platform)


@router.get("/training-platforms", response_model=TrainingPlatformList)
async def list_training_platforms(caller: CurrentCaller, backends: BackendsDep, tenant_code: TenantCode = "",
                                  state: PlatformState | None = None, page_size_: PageSize = 0,
                                  page_token: PageToken = "") -> TrainingPlatformList:
    response = await backends.training.ListTrainingPlatforms(
        core_pb2.ListTrainingPlatformsRequest(tenant_code=tenant_code, state=_STATES.to_proto[state] if state else 0,
                                              page_size=page_size(page_size_), page_token=page_token),
        timeout=backends.timeout)
    return TrainingPlatformList(
        training_platforms=[TrainingPlatform.from_proto(p) for p in response.training_platforms],
        next_page_token=response.next_page_token)


@router.get("/training-platforms/{platform_id}", response_model=TrainingPlatform)
async def get_training_platform(platform_id: Id, caller: CurrentCaller, backends: BackendsDep) -> TrainingPlatform:
    response = await backends.training.GetTrainingPlatform(
        core_pb2.GetTrainingPlatformRequest(name=f"trainingPlatforms/{platform_id}"), timeout=backends.timeout)
    return TrainingPlatform.from_proto(response.training_platform)


@router.post("/training-platforms/{platform_id}/state", response_model=TrainingPlatform)
async def change_training_platform_state(platform_id: Id, body: TrainingPlatformStateChange, caller: CurrentCaller,
                                         backends: BackendsDep) -> TrainingPlatform:
    """recommended <-> suspended; either -> revoked (final). Illegal transitions answer 409."""
    response = await backends.training.ChangeTrainingPlatformState(
        core_pb2.ChangeTrainingPlatformStateRequest(name=f"trainingPlatforms/{platform_id}",
                                                    state=_STATES.to_proto[body.state], reason=body.reason),
        timeout=backends.timeout)
    return TrainingPlatform.from_proto(response.training_platform)


@router.get("/public/recommended-platforms", response_model=TrainingPlatformList)
async def list_recommended_platforms(backends: BackendsDep,
                                     tenant_code: Annotated[str, Query(pattern=r"^[0-9]{6}$")],
                                     page_size_: PageSize = 0, page_token: PageToken = "") -> TrainingPlatformList:
    """No login: a tenant's recommended entries (no client ids, no history)."""
    response = await backends.training.ListRecommendedPlatforms(
        core_pb2.ListRecommendedPlatformsRequest(tenant_code=tenant_code, page_size=page_size(page_size_),
                                                 page_token=page_token), timeout=backends.timeout)
    return TrainingPlatformList(
        training_platforms=[TrainingPlatform.from_proto(p) for p in response.training_platforms],
        next_page_token=response.next_page_token)


# -- trainees, programmes, enrolment, offline sessions (TR-2) ---------------------------------------


@router.post("/trainees", response_model=Trainee, status_code=201)
async def create_trainee(body: TraineeCreate, caller: CurrentCaller, backends: BackendsDep,
                         idempotency_key: IdempotencyKey = None) -> Trainee:
    """A key-position person of the caller's tenant (an employer officer: of its own employer)."""
    response = await backends.training.CreateTrainee(
        core_pb2.CreateTraineeRequest(trainee=body.to_proto(), request_id=idempotency_key or ""),
        timeout=backends.timeout)
    return Trainee.from_proto(response.trainee)


@router.get("/trainees", response_model=TraineeList)
async def list_trainees(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                        page_token: PageToken = "") -> TraineeList:
    response = await backends.training.ListTrainees(
        core_pb2.ListTraineesRequest(page_size=page_size(page_size_), page_token=page_token), timeout=backends.timeout)
    return TraineeList(trainees=[Trainee.from_proto(t) for t in response.trainees],
                       next_page_token=response.next_page_token)


@router.get("/trainees/me/learning-data", responses={200: {"content": {"application/json": {}}}})
async def export_my_learning_data(caller: CurrentCaller, backends: BackendsDep) -> Response:
    """SPEC NF-8: everything the training service holds about the calling trainee, as a JSON download."""
    response = await backends.training.ExportMyLearningData(core_pb2.ExportMyLearningDataRequest(),
                                                            timeout=backends.timeout)
    return Response(content=json.dumps(json.loads(response.json), ensure_ascii=False, indent=2),
                    media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="learning-data.json"',
                             "Cache-Control": "private, no-store"})


@router.get("/trainees/{trainee_id}", response_model=Trainee)
async def get_trainee(trainee_id: Id, caller: CurrentCaller, backends: BackendsDep) -> Trainee:
    response = await backends.training.GetTrainee(core_pb2.GetTraineeRequest(name=f"trainees/{trainee_id}"),
                                                  timeout=backends.timeout)
    return Trainee.from_proto(response.trainee)


@router.post("/programmes", response_model=Programme, status_code=201)
async def create_programme(body: ProgrammeCreate, caller: CurrentCaller, backends: BackendsDep,
                           idempotency_key: IdempotencyKey = None) -> Programme:
    response = await backends.training.CreateProgramme(
        core_pb2.CreateProgrammeRequest(programme=body.to_proto(), request_id=idempotency_key or ""),
        timeout=backends.timeout)
    return Programme.from_proto(response.programme)


@router.get("/programmes", response_model=ProgrammeList)
async def list_programmes(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                          page_token: PageToken = "") -> ProgrammeList:
    response = await backends.training.ListProgrammes(
        core_pb2.ListProgrammesRequest(page_size=page_size(page_size_), page_token=page_token),
        timeout=backends.timeout)
    return ProgrammeList(programmes=[Programme.from_proto(p) for p in response.programmes],
                         next_page_token=response.next_page_token)


@router.get("/programmes/{programme_id}", response_model=Programme)
async def get_programme(programme_id: Id, caller: CurrentCaller, backends: BackendsDep) -> Programme:
    response = await backends.training.GetProgramme(
        core_pb2.GetProgrammeRequest(name=f"programmes/{programme_id}"), timeout=backends.timeout)
    return Programme.from_proto(response.programme)


@router.post("/programmes/{programme_id}/enrolments", response_model=Enrolment, status_code=201)
async def create_enrolment(programme_id: Id, body: EnrolmentCreate, caller: CurrentCaller,
                           backends: BackendsDep) -> Enrolment:
    """Enrolling an enrolled trainee again answers the existing enrolment."""
    response = await backends.training.CreateEnrolment(
        core_pb2.CreateEnrolmentRequest(parent=f"programmes/{programme_id}", trainee=f"trainees/{body.trainee_id}"),
        timeout=backends.timeout)
    return Enrolment.from_proto(response.enrolment)


@router.post("/programmes/{programme_id}/offline-sessions", response_model=OfflineSession, status_code=201)
async def create_offline_session(programme_id: Id, body: OfflineSessionCreate, caller: CurrentCaller,
                                 backends: BackendsDep, idempotency_key: IdempotencyKey = None) -> OfflineSession:
    response = await backends.training.CreateOfflineSession(
        core_pb2.CreateOfflineSessionRequest(parent=f"programmes/{programme_id}", offline_session=body.to_proto(),
                                             request_id=idempotency_key or ""), timeout=backends.timeout)
    return OfflineSession.from_proto(response.offline_session)


@router.post("/offline-sessions/{session_id}/attendance", response_model=AttendanceResult)
async def record_attendance(session_id: Id, body: AttendanceRecord, caller: CurrentCaller,
                            backends: BackendsDep) -> AttendanceResult:
    """Marks enrolled trainees present (idempotent); attendance counts as trained for the course."""
    response = await backends.training.RecordAttendance(
        core_pb2.RecordAttendanceRequest(name=f"offlineSessions/{session_id}",
                                         trainees=[f"trainees/{t}" for t in body.trainee_ids]),
        timeout=backends.timeout)
    return AttendanceResult(attendee_count=response.attendee_count)


# -- coverage (TR-5) ----------------------------------------------------------------------------------


@router.get("/coverage", response_model=Coverage)
async def get_coverage(caller: CurrentCaller, backends: BackendsDep, tenant_code: TenantCode = "",
                       year: Year = None) -> Coverage:
    """Required vs trained key personnel per tenant subtree, key industry, employer and key position."""
    response = await backends.training.GetCoverage(
        core_pb2.GetCoverageRequest(tenant_code=tenant_code, year=year or 0), timeout=backends.timeout)
    return Coverage.from_proto(response)


@router.get("/coverage/uncovered", response_model=UncoveredList)
async def list_uncovered_trainees(caller: CurrentCaller, backends: BackendsDep, tenant_code: TenantCode = "",
                                  year: Year = None, page_size_: PageSize = 0,
                                  page_token: PageToken = "") -> UncoveredList:
    """Enrolled key personnel not trained yet, for follow-up (names masked unless the caller may see them)."""
    response = await backends.training.ListUncoveredTrainees(
        core_pb2.ListUncoveredTraineesRequest(tenant_code=tenant_code, year=year or 0,
                                              page_size=page_size(page_size_), page_token=page_token),
        timeout=backends.timeout)
    return UncoveredList(
        trainees=[UncoveredTrainee(trainee_id=t.trainee.removeprefix("trainees/"), display_name=t.display_name,
                                   tenant_code=t.tenant_code, employer_id=t.employer_id,
                                   employer_name=t.employer_name, key_industry=t.key_industry,
                                   key_position=t.key_position) for t in response.trainees],
        next_page_token=response.next_page_token)


@router.get("/coverage/export", response_class=Response,
            responses={200: {"content": {"text/csv": {"schema": {"type": "string"}},
                                         XLSX: {"schema": {"type": "string", "format": "binary"}}}}})
async def export_coverage(caller: CurrentCaller, backends: BackendsDep, tenant_code: TenantCode = "", year: Year = None,
                          format: Annotated[Literal["csv", "xlsx"], Query()] = "csv") -> Response:
    """The coverage figures and the uncovered people as CSV (UTF-8 with BOM) or XLSX."""
    response = await backends.training.ExportCoverage(
        core_pb2.ExportCoverageRequest(tenant_code=tenant_code, year=year or 0, format=format),
        timeout=backends.timeout)
    return Response(content=response.content, media_type=response.content_type,
                    headers={"Content-Disposition": f'attachment; filename="{response.filename}"',
                             "Cache-Control": "private, no-store"})


# -- catalogue (TR-1) ---------------------------------------------------------------------------------


@router.put("/courses/{course_id}/tags", response_model=CourseTagsBody)
async def set_course_tags(course_id: Id, body: CourseTagsBody, caller: CurrentCaller,
                          backends: BackendsDep) -> CourseTagsBody:
    """Industries and target positions of a course the caller owns (replaced as a whole)."""
    response = await backends.training.SetCourseTags(
        core_pb2.SetCourseTagsRequest(name=f"courses/{course_id}", tags=core_pb2.CourseTags(
            industries=body.industries, target_positions=body.target_positions)), timeout=backends.timeout)
    return CourseTagsBody(industries=list(response.tags.industries),
                          target_positions=list(response.tags.target_positions))


@router.get("/courses/{course_id}/catalogue", response_model=CourseCatalogue)
async def get_course_catalogue(course_id: Id, caller: CurrentCaller, backends: BackendsDep) -> CourseCatalogue:
    """Tags, modules and materials (with download URLs valid 15 minutes) and the xAPI activity id."""
    response = await backends.training.GetCourseCatalogue(
        core_pb2.GetCourseCatalogueRequest(name=f"courses/{course_id}"), timeout=backends.timeout)
    return CourseCatalogue(course_id=course_id, activity_id=response.activity_id,
                           tags=CourseTagsBody(industries=list(response.tags.industries),
                                               target_positions=list(response.tags.target_positions)),
                           modules=[CourseModule.from_proto(m) for m in response.modules])


@router.post("/courses/{course_id}/modules", response_model=CourseModule, status_code=201)
async def create_course_module(course_id: Id, body: CourseModuleCreate, caller: CurrentCaller, backends: BackendsDep,
                               idempotency_key: IdempotencyKey = None) -> CourseModule:
    response = await backends.training.CreateCourseModule(
        core_pb2.CreateCourseModuleRequest(parent=f"courses/{course_id}",
                                           course_module=core_pb2.CourseModule(title=body.title),
                                           request_id=idempotency_key or ""), timeout=backends.timeout)
    return CourseModule.from_proto(response.course_module)


@router.post("/materials", response_model=MaterialCreated, status_code=201)
async def create_material(body: MaterialCreate, caller: CurrentCaller, backends: BackendsDep,
                          idempotency_key: IdempotencyKey = None) -> MaterialCreated:
    """Small files inline (base64, up to 4 MiB); larger ones by presigned PUT to `upload_url`."""
    try:
        content = base64.b64decode(body.content_base64, validate=True) if body.content_base64 else b""
    except (binascii.Error, ValueError):
        raise InvalidArgument.field("content_base64", "is not valid base64") from None
    if len(content) > INLINE_MAX_BYTES:
        raise InvalidArgument.field("content_base64", f"at most {INLINE_MAX_BYTES} bytes inline; give size_bytes "
                                                      "and upload to the presigned upload_url")
    response = await backends.training.CreateMaterial(
        core_pb2.CreateMaterialRequest(
            parent=f"courseModules/{body.course_module_id}" if body.course_module_id else "",
            material=core_pb2.Material(kind=body.kind, title=body.title, content_type=body.content_type,
                                       publicity_topic=body.publicity_topic, public=body.public,
                                       size_bytes=body.size_bytes),
            content=content, request_id=idempotency_key or ""), timeout=backends.timeout)
    return MaterialCreated(material=Material.from_proto(response.material), upload_url=response.upload_url)


@router.get("/materials/{material_id}", response_model=Material)
async def get_material(material_id: Id, caller: CurrentCaller, backends: BackendsDep) -> Material:
    response = await backends.training.GetMaterial(core_pb2.GetMaterialRequest(name=f"materials/{material_id}"),
                                                   timeout=backends.timeout)
    return Material.from_proto(response.material)


@router.get("/public/publicity-materials", response_model=MaterialList)
async def list_public_materials(backends: BackendsDep, publicity_topic: PublicityTopic | None = None,
                                page_size_: PageSize = 0, page_token: PageToken = "") -> MaterialList:
    """No login: public publicity materials, newest first, with download URLs valid 15 minutes."""
    response = await backends.training.ListPublicMaterials(
        core_pb2.ListPublicMaterialsRequest(publicity_topic=publicity_topic or "", page_size=page_size(page_size_),
                                            page_token=page_token), timeout=backends.timeout)
    return MaterialList(materials=[Material.from_proto(m) for m in response.materials],
                        next_page_token=response.next_page_token)


# -- exams and certificates (TR-4) -----------------------------------------------------------------------


@router.post("/question-banks", response_model=QuestionBank, status_code=201)
async def create_question_bank(body: QuestionBankCreate, caller: CurrentCaller, backends: BackendsDep,
                               idempotency_key: IdempotencyKey = None) -> QuestionBank:
    bank = core_pb2.QuestionBank(
        course=f"courses/{body.course_id}", title=body.title, pass_mark=body.pass_mark,
        questions=[core_pb2.Question(text=q.text, options=q.options, answer=q.answer) for q in body.questions])
    response = await backends.training.CreateQuestionBank(
        core_pb2.CreateQuestionBankRequest(question_bank=bank, request_id=idempotency_key or ""),
        timeout=backends.timeout)
    return QuestionBank.from_proto(response.question_bank)


@router.get("/question-banks/{bank_id}", response_model=QuestionBank)
async def get_question_bank(bank_id: Id, caller: CurrentCaller, backends: BackendsDep) -> QuestionBank:
    """Trainees get the questions without the answers (-1)."""
    response = await backends.training.GetQuestionBank(
        core_pb2.GetQuestionBankRequest(name=f"questionBanks/{bank_id}"), timeout=backends.timeout)
    return QuestionBank.from_proto(response.question_bank)


@router.post("/question-banks/{bank_id}/attempts", response_model=ExamAttempt, status_code=201)
async def submit_exam_attempt(bank_id: Id, body: AttemptCreate, caller: CurrentCaller, backends: BackendsDep,
                              idempotency_key: IdempotencyKey = None) -> ExamAttempt:
    """Scored on the server; a pass issues a certificate (PDF) and counts as trained on the course."""
    response = await backends.training.SubmitExamAttempt(
        core_pb2.SubmitExamAttemptRequest(parent=f"questionBanks/{bank_id}", answers=body.answers,
                                          request_id=idempotency_key or ""), timeout=backends.timeout)
    a = response.attempt
    certificate = None
    if a.HasField("certificate"):
        certificate = IssuedCertificate(verification_code=a.certificate.verification_code,
                                        download_url=a.certificate.download_url,
                                        issue_time=a.certificate.issue_time.ToDatetime(tzinfo=UTC))
    return ExamAttempt(id=a.name.rsplit("/", 1)[-1], question_bank_id=bank_id, score=a.score, passed=a.passed,
                       certificate=certificate)


@router.get("/public/certificates/{verification_code}", response_model=CertificateVerification)
async def verify_certificate(verification_code: Annotated[str, Path(max_length=64)],
                             backends: BackendsDep) -> CertificateVerification:
    """No login: whether the code belongs to an issued certificate, and the holder's masked name."""
    response = await backends.training.VerifyCertificate(
        core_pb2.VerifyCertificateRequest(verification_code=verification_code), timeout=backends.timeout)
    return CertificateVerification(valid=response.valid, masked_name=response.masked_name)


# -- technical schools and warning-education bases (TR-7) ------------------------------------------------


@router.post("/technical-school-courses", response_model=TechnicalSchoolCourse, status_code=201)
async def create_technical_school_course(body: TechnicalSchoolCourseCreate, caller: CurrentCaller,
                                         backends: BackendsDep,
                                         idempotency_key: IdempotencyKey = None) -> TechnicalSchoolCourse:
    response = await backends.training.CreateTechnicalSchoolCourse(
        core_pb2.CreateTechnicalSchoolCourseRequest(
            technical_school_course=core_pb2.TechnicalSchoolCourse(
                school_name=body.school_name, course_title=body.course_title,
                content_categories=body.content_categories, academic_year=body.academic_year),
            request_id=idempotency_key or ""), timeout=backends.timeout)
    return TechnicalSchoolCourse.from_proto(response.technical_school_course)


@router.get("/technical-school-courses", response_model=TechnicalSchoolCourseList)
async def list_technical_school_courses(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                                        page_token: PageToken = "") -> TechnicalSchoolCourseList:
    response = await backends.training.ListTechnicalSchoolCourses(
        core_pb2.ListTechnicalSchoolCoursesRequest(page_size=page_size(page_size_), page_token=page_token),
        timeout=backends.timeout)
    return TechnicalSchoolCourseList(
        technical_school_courses=[TechnicalSchoolCourse.from_proto(c) for c in response.technical_school_courses],
        next_page_token=response.next_page_token)


@router.post("/warning-education-bases", response_model=WarningEducationBase, status_code=201)
async def create_warning_education_base(body: WarningEducationBaseCreate, caller: CurrentCaller,
                                        backends: BackendsDep,
                                        idempotency_key: IdempotencyKey = None) -> WarningEducationBase:
    response = await backends.training.CreateWarningEducationBase(
        core_pb2.CreateWarningEducationBaseRequest(
            warning_education_base=core_pb2.WarningEducationBase(
                display_name=body.display_name, address=body.address, industries=body.industries,
                website=body.website),
            request_id=idempotency_key or ""), timeout=backends.timeout)
    return WarningEducationBase.from_proto(response.warning_education_base)


@router.get("/warning-education-bases", response_model=WarningEducationBaseList)
async def list_warning_education_bases(caller: CurrentCaller, backends: BackendsDep, page_size_: PageSize = 0,
                                       page_token: PageToken = "") -> WarningEducationBaseList:
    response = await backends.training.ListWarningEducationBases(
        core_pb2.ListWarningEducationBasesRequest(page_size=page_size(page_size_), page_token=page_token),
        timeout=backends.timeout)
    return WarningEducationBaseList(
        warning_education_bases=[WarningEducationBase.from_proto(b) for b in response.warning_education_bases],
        next_page_token=response.next_page_token)
