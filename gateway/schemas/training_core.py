"""REST shapes of the training core (issue 5): recommended platforms, trainees, programmes,
enrolment, offline sessions, coverage. Rules are the training service's (its violations name
`training_platform.<field>`, `trainee.<field>`, `programme.<field>`...); they are stated here so the
contract documents them, not checked a second time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from prevention.training.v1 import core_pb2
from pydantic import BaseModel, Field

from gateway.schemas.common import NOT_BLANK, Strict
from services.common.enums import EnumLabels

PlatformState = Literal["recommended", "suspended", "revoked"]
KeyPosition = Literal["deputy_head_in_charge", "head_of_safety_management", "front_line_team_leader"]
_STATES = EnumLabels(core_pb2.TrainingPlatformState)
# The syntax part of the service's URL rule (https, a host, no user-info); the service also refuses
# loopback, private and link-local addresses and local names (RELIABILITY S11).
HTTPS_URL = r"^https://[^\s/?#@\\]+(/\S*)?$"


def _time(ts) -> datetime | None:
    return ts.ToDatetime(tzinfo=UTC) if ts.seconds or ts.nanos else None


def _id(name: str) -> str:
    return name.rsplit("/", 1)[-1]


class TrainingPlatformCreate(Strict):
    display_name: str = Field(min_length=1, max_length=200, json_schema_extra={"pattern": NOT_BLANK})
    kind: Literal["platform", "institution"]
    base_url: str = Field(min_length=9, max_length=2048, pattern=HTTPS_URL,
                          description="Public https URL (no loopback, private or link-local address); the xAPI "
                                      "account home page of its learners")
    qualifications: list[Annotated[str, Field(min_length=1, max_length=200, pattern=NOT_BLANK)]] = Field(
        default_factory=list, max_length=50)
    client_ids: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9._:-]{1,128}$")]] = Field(
        default_factory=list, max_length=20, json_schema_extra={"uniqueItems": True},
                                  description="API client ids the platform pushes learning records with")

    def to_proto(self) -> core_pb2.TrainingPlatform:
        return core_pb2.TrainingPlatform(display_name=self.display_name, kind=self.kind, base_url=self.base_url,
                                         qualifications=self.qualifications, client_ids=self.client_ids)


class TrainingPlatformStateChange(Strict):
    state: PlatformState
    reason: str = Field(min_length=1, max_length=2000, json_schema_extra={"pattern": NOT_BLANK})


class PlatformTransition(BaseModel):
    from_state: str
    to_state: str
    reason: str
    actor: str
    time: datetime | None


class TrainingPlatform(BaseModel):
    id: str
    tenant_code: str
    display_name: str
    kind: str
    base_url: str
    qualifications: list[str]
    client_ids: list[str]
    state: PlatformState
    transitions: list[PlatformTransition]
    create_time: datetime | None
    update_time: datetime | None

    @classmethod
    def from_proto(cls, m: core_pb2.TrainingPlatform) -> TrainingPlatform:
        return cls(id=_id(m.name), tenant_code=m.tenant_code, display_name=m.display_name, kind=m.kind,
                   base_url=m.base_url, qualifications=list(m.qualifications), client_ids=list(m.client_ids),
                   state=_STATES.from_proto[m.state],
                   transitions=[PlatformTransition(from_state=_STATES.from_proto.get(t.from_state, ""),
                                                   to_state=_STATES.from_proto[t.to_state], reason=t.reason,
                                                   actor=t.actor, time=_time(t.time)) for t in m.transitions],
                   create_time=_time(m.create_time), update_time=_time(m.update_time))


class TrainingPlatformList(BaseModel):
    training_platforms: list[TrainingPlatform]
    next_page_token: str


class XapiAccount(Strict):
    home_page: str = Field(max_length=2048, pattern=r"^https://[^\s/?#@\\]+(/\S*)?$",
                           description="The platform's public URL (SPEC 7.7)")
    name: str = Field(min_length=1, max_length=255, description="The platform's learner id")


class TraineeCreate(Strict):
    display_name: str = Field(min_length=1, max_length=100, description="Personal data; masked by default",
                              json_schema_extra={"pattern": NOT_BLANK})
    citizen_id: str = Field(default="", max_length=18, pattern=r"^([0-9]{17}[0-9Xx])?$",
                            description="Optional; stored encrypted, shown masked")
    employer_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                             description="The employer's organisation id")
    employer_name: str = Field(default="", max_length=200)
    industry_code: str = Field(max_length=6, pattern=r"^[A-Ta-t][0-9]{2}([0-9]{1,2})?$",
                               description="GB/T 4754-2017 code of the employer's industry")
    key_position: KeyPosition
    user_id: str = Field(default="", max_length=64, description="The identity user the trainee signs in as")
    accounts: list[XapiAccount] = Field(default_factory=list, max_length=20)

    def to_proto(self) -> core_pb2.Trainee:
        return core_pb2.Trainee(
            display_name=self.display_name, citizen_id=self.citizen_id, employer_id=self.employer_id,
            employer_name=self.employer_name, industry_code=self.industry_code, key_position=self.key_position,
            user_id=self.user_id,
            accounts=[core_pb2.XapiAccount(home_page=a.home_page, name=a.name) for a in self.accounts])


class Trainee(BaseModel):
    id: str
    tenant_code: str
    display_name: str
    citizen_id: str
    employer_id: str
    employer_name: str
    industry_code: str
    key_industry: str
    key_position: str
    user_id: str
    accounts: list[XapiAccount]
    create_time: datetime | None

    @classmethod
    def from_proto(cls, m: core_pb2.Trainee) -> Trainee:
        return cls(id=_id(m.name), tenant_code=m.tenant_code, display_name=m.display_name, citizen_id=m.citizen_id,
                   employer_id=m.employer_id, employer_name=m.employer_name, industry_code=m.industry_code,
                   key_industry=m.key_industry, key_position=m.key_position, user_id=m.user_id,
                   accounts=[XapiAccount(home_page=a.home_page, name=a.name) for a in m.accounts],
                   create_time=_time(m.create_time))


class TraineeList(BaseModel):
    trainees: list[Trainee]
    next_page_token: str


class ProgrammeCreate(Strict):
    title: str = Field(min_length=1, max_length=200, json_schema_extra={"pattern": NOT_BLANK})
    year: int = Field(ge=2000, le=2100)
    course_ids: list[Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]] = Field(default_factory=list, max_length=100)

    def to_proto(self) -> core_pb2.Programme:
        return core_pb2.Programme(title=self.title, year=self.year, courses=[f"courses/{c}" for c in self.course_ids])


class Programme(BaseModel):
    id: str
    tenant_code: str
    title: str
    year: int
    course_ids: list[str]
    create_time: datetime | None

    @classmethod
    def from_proto(cls, m: core_pb2.Programme) -> Programme:
        return cls(id=_id(m.name), tenant_code=m.tenant_code, title=m.title, year=m.year,
                   course_ids=[_id(c) for c in m.courses], create_time=_time(m.create_time))


class ProgrammeList(BaseModel):
    programmes: list[Programme]
    next_page_token: str


class EnrolmentCreate(Strict):
    trainee_id: str = Field(pattern=r"^[0-9a-f]{32}$")


class Enrolment(BaseModel):
    id: str
    programme_id: str
    trainee_id: str
    create_time: datetime | None

    @classmethod
    def from_proto(cls, m: core_pb2.Enrolment) -> Enrolment:
        return cls(id=_id(m.name), programme_id=_id(m.programme), trainee_id=_id(m.trainee),
                   create_time=_time(m.create_time))


class OfflineSessionCreate(Strict):
    course_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="One of the programme's courses")
    title: str = Field(min_length=1, max_length=200, json_schema_extra={"pattern": NOT_BLANK})
    location: str = Field(default="", max_length=200)
    start_time: datetime

    def to_proto(self) -> core_pb2.OfflineSession:
        message = core_pb2.OfflineSession(course=f"courses/{self.course_id}", title=self.title,
                                          location=self.location)
        start = self.start_time if self.start_time.tzinfo else self.start_time.replace(tzinfo=UTC)
        message.start_time.FromDatetime(start)
        return message


class OfflineSession(BaseModel):
    id: str
    programme_id: str
    course_id: str
    title: str
    location: str
    start_time: datetime | None
    attendee_count: int

    @classmethod
    def from_proto(cls, m: core_pb2.OfflineSession) -> OfflineSession:
        return cls(id=_id(m.name), programme_id=_id(m.programme), course_id=_id(m.course), title=m.title,
                   location=m.location, start_time=_time(m.start_time), attendee_count=m.attendee_count)


class AttendanceRecord(Strict):
    trainee_ids: list[Annotated[str, Field(pattern=r"^[0-9a-f]{32}$")]] = Field(min_length=1, max_length=1000)


class AttendanceResult(BaseModel):
    attendee_count: int


class CoverageRow(BaseModel):
    key: str
    display_name: str
    required: int
    trained: int
    ratio: float


class Coverage(BaseModel):
    tenant_code: str
    year: int
    required: int
    trained: int
    ratio: float
    plan_id: str
    target: float
    due_date: str
    gap: int
    by_key_industry: list[CoverageRow]
    by_employer: list[CoverageRow]
    by_key_position: list[CoverageRow]

    @classmethod
    def from_proto(cls, m) -> Coverage:
        def rows(items):
            return [CoverageRow(key=r.key, display_name=r.display_name, required=r.required, trained=r.trained,
                                ratio=r.ratio) for r in items]
        return cls(tenant_code=m.tenant_code, year=m.year, required=m.required, trained=m.trained, ratio=m.ratio,
                   plan_id=m.plan_id, target=m.target, due_date=m.due_date, gap=m.gap,
                   by_key_industry=rows(m.by_key_industry), by_employer=rows(m.by_employer),
                   by_key_position=rows(m.by_key_position))


class UncoveredTrainee(BaseModel):
    trainee_id: str
    display_name: str
    tenant_code: str
    employer_id: str
    employer_name: str
    key_industry: str
    key_position: str


class UncoveredList(BaseModel):
    trainees: list[UncoveredTrainee]
    next_page_token: str


# -- catalogue (TR-1) ------------------------------------------------------------------------------

MaterialKind = Literal["video", "document", "infographic", "typical_case"]
PublicityTopic = Literal["occupational_disease", "work_safety", "traffic_accidents", "cardio_cerebrovascular_disease"]


class CourseTagsBody(Strict):
    industries: list[Annotated[str, Field(pattern=r"^[A-Ta-t][0-9]{2}([0-9]{1,2})?$")]] = Field(
        default_factory=list, max_length=50, description="GB/T 4754-2017 codes")
    target_positions: list[KeyPosition] = Field(default_factory=list, max_length=3)


class CourseModuleCreate(Strict):
    title: str = Field(min_length=1, max_length=200, json_schema_extra={"pattern": NOT_BLANK})


class MaterialCreate(Strict):
    course_module_id: str = Field(default="", pattern=r"^([0-9a-f]{32})?$",
                                  description="Empty for a publicity material outside a course")
    kind: MaterialKind
    title: str = Field(min_length=1, max_length=200, json_schema_extra={"pattern": NOT_BLANK})
    content_type: Literal["video/mp4", "application/pdf", "image/png", "image/jpeg"]
    publicity_topic: PublicityTopic | Literal[""] = ""
    public: bool = Field(default=False, description="Public publicity materials are readable without login")
    content_base64: str = Field(default="", max_length=5_600_000,
                                description="Up to 4 MiB inline (base64); larger: give size_bytes and PUT the "
                                            "bytes to the returned upload_url")
    size_bytes: int = Field(default=0, ge=0, le=512 * 1024 * 1024)


class Material(BaseModel):
    id: str
    tenant_code: str
    course_module_id: str
    kind: str
    title: str
    content_type: str
    publicity_topic: str
    public: bool
    size_bytes: int
    state: str
    sha256: str
    download_url: str
    create_time: datetime | None

    @classmethod
    def from_proto(cls, m) -> Material:
        return cls(id=_id(m.name), tenant_code=m.tenant_code,
                   course_module_id=_id(m.course_module) if m.course_module else "", kind=m.kind, title=m.title,
                   content_type=m.content_type, publicity_topic=m.publicity_topic, public=m.public,
                   size_bytes=m.size_bytes, state=m.state, sha256=m.sha256, download_url=m.download_url,
                   create_time=_time(m.create_time))


class MaterialCreated(BaseModel):
    material: Material
    upload_url: str


class MaterialList(BaseModel):
    materials: list[Material]
    next_page_token: str


class CourseModule(BaseModel):
    id: str
    course_id: str
    title: str
    position: int
    materials: list[Material]

    @classmethod
    def from_proto(cls, m) -> CourseModule:
        return cls(id=_id(m.name), course_id=_id(m.course), title=m.title, position=m.position,
                   materials=[Material.from_proto(x) for x in m.materials])


class CourseCatalogue(BaseModel):
    course_id: str
    activity_id: str
    tags: CourseTagsBody
    modules: list[CourseModule]


# -- exams and certificates (TR-4) ---------------------------------------------------------------


class Question(Strict):
    text: str = Field(min_length=1, max_length=2000, json_schema_extra={"pattern": NOT_BLANK})
    options: list[Annotated[str, Field(min_length=1, max_length=500, pattern=NOT_BLANK)]] = Field(min_length=2,
                                                                                              max_length=10)
    answer: int = Field(ge=-1, le=9, description="Index of the right option; -1 when hidden from the caller")


class QuestionBankCreate(Strict):
    course_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    title: str = Field(min_length=1, max_length=200, json_schema_extra={"pattern": NOT_BLANK})
    pass_mark: int = Field(ge=1, le=100, description="Percent of questions to answer correctly")
    questions: list[Question] = Field(min_length=1, max_length=200)


class QuestionBank(BaseModel):
    id: str
    tenant_code: str
    course_id: str
    title: str
    pass_mark: int
    questions: list[Question]

    @classmethod
    def from_proto(cls, m) -> QuestionBank:
        return cls(id=_id(m.name), tenant_code=m.tenant_code, course_id=_id(m.course), title=m.title,
                   pass_mark=m.pass_mark,
                   questions=[Question(text=q.text, options=list(q.options), answer=q.answer) for q in m.questions])


class AttemptCreate(Strict):
    answers: list[Annotated[int, Field(ge=0, le=9)]] = Field(min_length=1, max_length=200,
                                                             description="One option index per question, in order")


class IssuedCertificate(BaseModel):
    verification_code: str
    download_url: str
    issue_time: datetime | None


class ExamAttempt(BaseModel):
    id: str
    question_bank_id: str
    score: int
    passed: bool
    certificate: IssuedCertificate | None


class CertificateVerification(BaseModel):
    valid: bool
    masked_name: str


# -- technical schools and warning-education bases (TR-7) ------------------------------------------

ContentCategory = Literal["policy_regulation", "accident_prevention", "warning_education"]


class TechnicalSchoolCourseCreate(Strict):
    school_name: str = Field(min_length=1, max_length=200, json_schema_extra={"pattern": NOT_BLANK})
    course_title: str = Field(min_length=1, max_length=200, json_schema_extra={"pattern": NOT_BLANK})
    content_categories: list[ContentCategory] = Field(min_length=1, max_length=3,
                                                      description="Mandatory content the course covers")
    academic_year: int = Field(ge=2000, le=2100)


class TechnicalSchoolCourse(BaseModel):
    id: str
    tenant_code: str
    school_name: str
    course_title: str
    content_categories: list[str]
    academic_year: int
    create_time: datetime | None

    @classmethod
    def from_proto(cls, m) -> TechnicalSchoolCourse:
        return cls(id=_id(m.name), tenant_code=m.tenant_code, school_name=m.school_name, course_title=m.course_title,
                   content_categories=list(m.content_categories), academic_year=m.academic_year,
                   create_time=_time(m.create_time))


class TechnicalSchoolCourseList(BaseModel):
    technical_school_courses: list[TechnicalSchoolCourse]
    next_page_token: str


class WarningEducationBaseCreate(Strict):
    display_name: str = Field(min_length=1, max_length=200, json_schema_extra={"pattern": NOT_BLANK})
    address: str = Field(default="", max_length=300)
    industries: list[Annotated[str, Field(pattern=r"^[A-Ta-t][0-9]{2}([0-9]{1,2})?$")]] = Field(
        default_factory=list, max_length=50, description="GB/T 4754-2017 codes")
    website: str = Field(default="", max_length=2048, pattern=r"^(https://[^\s/?#@\\]+(/\S*)?)?$",
                         description="Optional public https URL")


class WarningEducationBase(BaseModel):
    id: str
    tenant_code: str
    display_name: str
    address: str
    industries: list[str]
    website: str
    create_time: datetime | None

    @classmethod
    def from_proto(cls, m) -> WarningEducationBase:
        return cls(id=_id(m.name), tenant_code=m.tenant_code, display_name=m.display_name, address=m.address,
                   industries=list(m.industries), website=m.website, create_time=_time(m.create_time))


class WarningEducationBaseList(BaseModel):
    warning_education_bases: list[WarningEducationBase]
    next_page_token: str
