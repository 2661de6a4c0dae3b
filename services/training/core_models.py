"""Tables of the training core (issue 5): recommended platforms (TR-6), trainees, programmes,
enrolment and offline attendance (TR-2), completions that count as trained (SPEC 7.7, TR-5).

They share ``services.training.models.Base`` (one metadata, one Alembic history) but live in their
own module so that the learning-record store's tables can be added to models.py next to them
without touching the same lines.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.training.models import Base

PLATFORM_STATES = ("recommended", "suspended", "revoked")


class TrainingPlatform(Base):
    """A third-party training platform or institution on a tenant's recommended list (TR-6)."""

    __tablename__ = "training_platforms"
    __table_args__ = (UniqueConstraint("tenant_code", "base_url", name="uq_training_platforms_tenant_url"),
                      Index("ix_training_platforms_tenant_created", "tenant_code", "create_time", "id"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    display_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # platform | institution
    base_url: Mapped[str] = mapped_column(String(2048))
    qualifications: Mapped[list] = mapped_column(JSON, default=list)
    state: Mapped[str] = mapped_column(String(16))
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))


class TrainingPlatformClient(Base):
    """An API client id a platform pushes learning records with; one client, one platform per tenant."""

    __tablename__ = "training_platform_clients"
    __table_args__ = (UniqueConstraint("tenant_code", "client_id", name="uq_training_platform_clients"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    platform_id: Mapped[str] = mapped_column(String(32), ForeignKey("training_platforms.id", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(128))


class TrainingPlatformTransition(Base):
    """Every state change of a platform: who, when, why (TR-6)."""

    __tablename__ = "training_platform_transitions"
    __table_args__ = (Index("ix_training_platform_transitions_platform", "platform_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    platform_id: Mapped[str] = mapped_column(String(32), ForeignKey("training_platforms.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(128))
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Trainee(Base):
    """A person in one of the three key positions (TR-2). The name and the citizen ID are personal
    data: stored encrypted (services.common.pii), the citizen ID also as a keyed lookup hash (one
    trainee per person and tenant); neither is ever stored or logged in clear."""

    __tablename__ = "trainees"
    __table_args__ = (UniqueConstraint("tenant_code", "citizen_id_hash", name="uq_trainees_tenant_citizen"),
                      Index("ix_trainees_tenant_created", "tenant_code", "create_time", "id"),
                      Index("ix_trainees_user", "user_id"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    name_enc: Mapped[str] = mapped_column(Text)
    citizen_id_enc: Mapped[str | None] = mapped_column(Text, nullable=True)
    citizen_id_hash: Mapped[str | None] = mapped_column(String(128), nullable=True)
    employer_id: Mapped[str] = mapped_column(String(64))
    employer_name: Mapped[str] = mapped_column(String(200), default="")
    industry_code: Mapped[str] = mapped_column(String(8))
    key_position: Mapped[str] = mapped_column(String(32))
    # The identity user (role trainee) this person signs in as: the NF-8 self-export and "TR self".
    user_id: Mapped[str] = mapped_column(String(64), default="")
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))


class TraineeAccount(Base):
    """SPEC 7.7: an xAPI account {homePage: platform URL, name: platform learner id} of a trainee."""

    __tablename__ = "trainee_accounts"
    __table_args__ = (UniqueConstraint("tenant_code", "home_page", "account_name", name="uq_trainee_accounts"),
                      Index("ix_trainee_accounts_trainee", "trainee_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    trainee_id: Mapped[str] = mapped_column(String(32), ForeignKey("trainees.id", ondelete="CASCADE"))
    home_page: Mapped[str] = mapped_column(String(2048))
    account_name: Mapped[str] = mapped_column(String(255))


class Programme(Base):
    """A tenant's training programme for the key positions of a year (TR-2)."""

    __tablename__ = "programmes"
    __table_args__ = (Index("ix_programmes_tenant_created", "tenant_code", "create_time", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    title: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    course_ids: Mapped[list] = mapped_column(JSON, default=list)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))


class Enrolment(Base):
    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("programme_id", "trainee_id", name="uq_enrolments"),
                      Index("ix_enrolments_tenant", "tenant_code", "programme_id"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    programme_id: Mapped[str] = mapped_column(String(32), ForeignKey("programmes.id", ondelete="CASCADE"))
    trainee_id: Mapped[str] = mapped_column(String(32), ForeignKey("trainees.id", ondelete="CASCADE"))
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OfflineSession(Base):
    """A classroom session of a programme's course (TR-2); attendance is recorded per trainee."""

    __tablename__ = "offline_sessions"
    __table_args__ = (Index("ix_offline_sessions_programme", "tenant_code", "programme_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    programme_id: Mapped[str] = mapped_column(String(32), ForeignKey("programmes.id", ondelete="CASCADE"))
    course_id: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    location: Mapped[str] = mapped_column(String(200), default="")
    start_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Attendance(Base):
    __tablename__ = "attendances"
    __table_args__ = (UniqueConstraint("session_id", "trainee_id", name="uq_attendances"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    session_id: Mapped[str] = mapped_column(String(32), ForeignKey("offline_sessions.id", ondelete="CASCADE"))
    trainee_id: Mapped[str] = mapped_column(String(32), ForeignKey("trainees.id", ondelete="CASCADE"))
    record_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Completion(Base):
    """A completed/passed statement on a course's activity (SPEC 7.7), an exam pass or an attended
    offline session: what coverage counts. Unique by statement id; voided ones stop counting.
    The learner is kept as the xAPI account and resolved to a trainee when coverage is computed,
    so a statement that arrives before the account is mapped at enrolment still counts."""

    __tablename__ = "completions"
    __table_args__ = (Index("ix_completions_account", "tenant_code", "home_page", "account_name"),
                      Index("ix_completions_trainee", "tenant_code", "trainee_id"))

    statement_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    course_id: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))  # statement | exam | attendance
    verb: Mapped[str] = mapped_column(String(255))
    home_page: Mapped[str] = mapped_column(String(2048), default="")
    account_name: Mapped[str] = mapped_column(String(255), default="")
    trainee_id: Mapped[str] = mapped_column(String(32), default="")  # set for exam passes and attendance
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    voided: Mapped[bool] = mapped_column(Boolean, default=False)


# -- catalogue (TR-1) ------------------------------------------------------------------------------


class CourseTags(Base):
    """Industries and target positions a course is for (TR-1); one row per tagged course."""

    __tablename__ = "course_tags"

    course_id: Mapped[str] = mapped_column(String(32), ForeignKey("courses.id", ondelete="CASCADE"),
                                           primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    industries: Mapped[list] = mapped_column(JSON, default=list)
    target_positions: Mapped[list] = mapped_column(JSON, default=list)
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CourseModule(Base):
    __tablename__ = "course_modules"
    __table_args__ = (Index("ix_course_modules_course", "course_id", "position"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    course_id: Mapped[str] = mapped_column(String(32), ForeignKey("courses.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Material(Base):
    """A video, document, infographic or typical case in object storage (TR-1). Either part of a
    course module or a publicity material on one of the publicity topics; ``public`` publicity
    materials are readable without login. ``state`` is ``pending`` until a presigned upload landed."""

    __tablename__ = "materials"
    __table_args__ = (Index("ix_materials_module", "module_id"),
                      Index("ix_materials_public", "public", "publicity_topic", "create_time"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    module_id: Mapped[str] = mapped_column(String(32), default="")
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    publicity_topic: Mapped[str] = mapped_column(String(32), default="")
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    object_key: Mapped[str] = mapped_column(String(256))
    content_type: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(Integer, default=0)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[str] = mapped_column(String(16))
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))


# -- exams and certificates (TR-4) ---------------------------------------------------------------------


class QuestionBank(Base):
    """Questions of a course's exam with their answers (never shown to trainees) and the pass mark."""

    __tablename__ = "question_banks"
    __table_args__ = (Index("ix_question_banks_tenant", "tenant_code", "create_time"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    course_id: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    pass_mark: Mapped[int] = mapped_column(Integer)  # percent of questions answered correctly
    questions: Mapped[list] = mapped_column(JSON)    # [{"text", "options": [...], "answer": index}]
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))


class ExamAttempt(Base):
    __tablename__ = "exam_attempts"
    __table_args__ = (Index("ix_exam_attempts_trainee", "trainee_id", "create_time"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    bank_id: Mapped[str] = mapped_column(String(32), ForeignKey("question_banks.id", ondelete="CASCADE"))
    trainee_id: Mapped[str] = mapped_column(String(32), ForeignKey("trainees.id", ondelete="CASCADE"))
    answers: Mapped[list] = mapped_column(JSON)
    score: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool] = mapped_column(Boolean)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Certificate(Base):
    """Issued on a passed attempt: a PDF in object storage and a verification code anyone may check
    (the answer carries the masked name only)."""

    __tablename__ = "certificates"
    __table_args__ = (UniqueConstraint("verification_code", name="uq_certificates_code"),
                      UniqueConstraint("attempt_id", name="uq_certificates_attempt"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    attempt_id: Mapped[str] = mapped_column(String(32), ForeignKey("exam_attempts.id", ondelete="CASCADE"))
    trainee_id: Mapped[str] = mapped_column(String(32))
    course_id: Mapped[str] = mapped_column(String(32))
    verification_code: Mapped[str] = mapped_column(String(32))
    masked_name: Mapped[str] = mapped_column(String(100))
    object_key: Mapped[str] = mapped_column(String(256))
    issue_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# -- technical schools and warning-education bases (TR-7) ------------------------------------------


class TechnicalSchoolCourse(Base):
    """A prevention course a technical school declares, with the mandatory content it covers."""

    __tablename__ = "technical_school_courses"
    __table_args__ = (Index("ix_technical_school_courses_tenant", "tenant_code", "create_time", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    school_name: Mapped[str] = mapped_column(String(200))
    course_title: Mapped[str] = mapped_column(String(200))
    content_categories: Mapped[list] = mapped_column(JSON)
    academic_year: Mapped[int] = mapped_column(Integer)
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))


class WarningEducationBase(Base):
    """A warning-education base registered by a tenant (TR-7)."""

    __tablename__ = "warning_education_bases"
    __table_args__ = (Index("ix_warning_education_bases_tenant", "tenant_code", "create_time", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    tenant_code: Mapped[str] = mapped_column(String(6))
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    industries: Mapped[list] = mapped_column(JSON)
    website: Mapped[str] = mapped_column(String(2048), default="")
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(128))
