"""Training core (issue 5): recommended platforms, trainees and xAPI accounts, programmes,
enrolment, offline sessions and attendance, completions counted by coverage.

Revision ID: 0003a_training_core
Revises: 0002
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from services.common.migrations import disable_tenant_rls, enable_tenant_rls

revision = "0003a_training_core"
down_revision = "0002"
branch_labels = None
depends_on = None

TENANT_TABLES = ("training_platforms", "training_platform_clients", "training_platform_transitions", "trainees",
                 "trainee_accounts", "programmes", "enrolments", "offline_sessions", "attendances", "completions",
                 "question_banks", "exam_attempts", "certificates", "technical_school_courses",
                 "warning_education_bases")
# Catalogue tables: national rows (tenant 100000) are readable by all, like national courses.
NATIONAL_TABLES = ("course_tags", "course_modules", "materials")


def _tenant() -> sa.Column:
    return sa.Column("tenant_code", sa.String(6), nullable=False)


def upgrade() -> None:
    op.create_table(
        "training_platforms",
        sa.Column("id", sa.String(32), primary_key=True), _tenant(),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("base_url", sa.String(2048), nullable=False),
        sa.Column("qualifications", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.UniqueConstraint("tenant_code", "base_url", name="uq_training_platforms_tenant_url"),
    )
    op.create_index("ix_training_platforms_tenant_created", "training_platforms", ["tenant_code", "create_time", "id"])
    op.create_table(
        "training_platform_clients",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True), _tenant(),
        sa.Column("platform_id", sa.String(32), sa.ForeignKey("training_platforms.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("client_id", sa.String(128), nullable=False),
        sa.UniqueConstraint("tenant_code", "client_id", name="uq_training_platform_clients"),
    )
    op.create_table(
        "training_platform_transitions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True), _tenant(),
        sa.Column("platform_id", sa.String(32), sa.ForeignKey("training_platforms.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=False),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_training_platform_transitions_platform", "training_platform_transitions",
                    ["platform_id", "seq"])
    op.create_table(
        "trainees",
        sa.Column("id", sa.String(32), primary_key=True), _tenant(),
        sa.Column("name_enc", sa.Text(), nullable=False),
        sa.Column("citizen_id_enc", sa.Text(), nullable=True),
        sa.Column("citizen_id_hash", sa.String(128), nullable=True),
        sa.Column("employer_id", sa.String(64), nullable=False),
        sa.Column("employer_name", sa.String(200), nullable=False),
        sa.Column("industry_code", sa.String(8), nullable=False),
        sa.Column("key_position", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.UniqueConstraint("tenant_code", "citizen_id_hash", name="uq_trainees_tenant_citizen"),
    )
    op.create_index("ix_trainees_tenant_created", "trainees", ["tenant_code", "create_time", "id"])
    op.create_index("ix_trainees_user", "trainees", ["user_id"])
    op.create_table(
        "trainee_accounts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True), _tenant(),
        sa.Column("trainee_id", sa.String(32), sa.ForeignKey("trainees.id", ondelete="CASCADE"), nullable=False),
        sa.Column("home_page", sa.String(2048), nullable=False),
        sa.Column("account_name", sa.String(255), nullable=False),
        sa.UniqueConstraint("tenant_code", "home_page", "account_name", name="uq_trainee_accounts"),
    )
    op.create_index("ix_trainee_accounts_trainee", "trainee_accounts", ["trainee_id"])
    op.create_table(
        "programmes",
        sa.Column("id", sa.String(32), primary_key=True), _tenant(),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("course_ids", sa.JSON(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
    )
    op.create_index("ix_programmes_tenant_created", "programmes", ["tenant_code", "create_time", "id"])
    op.create_table(
        "enrolments",
        sa.Column("id", sa.String(32), primary_key=True), _tenant(),
        sa.Column("programme_id", sa.String(32), sa.ForeignKey("programmes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("trainee_id", sa.String(32), sa.ForeignKey("trainees.id", ondelete="CASCADE"), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("programme_id", "trainee_id", name="uq_enrolments"),
    )
    op.create_index("ix_enrolments_tenant", "enrolments", ["tenant_code", "programme_id"])
    op.create_table(
        "offline_sessions",
        sa.Column("id", sa.String(32), primary_key=True), _tenant(),
        sa.Column("programme_id", sa.String(32), sa.ForeignKey("programmes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("course_id", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("location", sa.String(200), nullable=False),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_offline_sessions_programme", "offline_sessions", ["tenant_code", "programme_id"])
    op.create_table(
        "attendances",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True), _tenant(),
        sa.Column("session_id", sa.String(32), sa.ForeignKey("offline_sessions.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("trainee_id", sa.String(32), sa.ForeignKey("trainees.id", ondelete="CASCADE"), nullable=False),
        sa.Column("record_time", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("session_id", "trainee_id", name="uq_attendances"),
    )
    op.create_table(
        "completions",
        sa.Column("statement_id", sa.String(64), primary_key=True), _tenant(),
        sa.Column("course_id", sa.String(32), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("verb", sa.String(255), nullable=False),
        sa.Column("home_page", sa.String(2048), nullable=False),
        sa.Column("account_name", sa.String(255), nullable=False),
        sa.Column("trainee_id", sa.String(32), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_completions_account", "completions", ["tenant_code", "home_page", "account_name"])
    op.create_index("ix_completions_trainee", "completions", ["tenant_code", "trainee_id"])
    op.create_table(
        "course_tags",
        sa.Column("course_id", sa.String(32), sa.ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
        _tenant(),
        sa.Column("industries", sa.JSON(), nullable=False),
        sa.Column("target_positions", sa.JSON(), nullable=False),
        sa.Column("update_time", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "course_modules",
        sa.Column("id", sa.String(32), primary_key=True), _tenant(),
        sa.Column("course_id", sa.String(32), sa.ForeignKey("courses.id", ondelete="CASCADE"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_course_modules_course", "course_modules", ["course_id", "position"])
    op.create_table(
        "materials",
        sa.Column("id", sa.String(32), primary_key=True), _tenant(),
        sa.Column("module_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("publicity_topic", sa.String(32), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("object_key", sa.String(256), nullable=False),
        sa.Column("content_type", sa.String(128), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
    )
    op.create_index("ix_materials_module", "materials", ["module_id"])
    op.create_index("ix_materials_public", "materials", ["public", "publicity_topic", "create_time"])
    op.create_table(
        "question_banks",
        sa.Column("id", sa.String(32), primary_key=True), _tenant(),
        sa.Column("course_id", sa.String(32), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("pass_mark", sa.Integer(), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
    )
    op.create_index("ix_question_banks_tenant", "question_banks", ["tenant_code", "create_time"])
    op.create_table(
        "exam_attempts",
        sa.Column("id", sa.String(32), primary_key=True), _tenant(),
        sa.Column("bank_id", sa.String(32), sa.ForeignKey("question_banks.id", ondelete="CASCADE"), nullable=False),
        sa.Column("trainee_id", sa.String(32), sa.ForeignKey("trainees.id", ondelete="CASCADE"), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_exam_attempts_trainee", "exam_attempts", ["trainee_id", "create_time"])
    op.create_table(
        "certificates",
        sa.Column("id", sa.String(32), primary_key=True), _tenant(),
        sa.Column("attempt_id", sa.String(32), sa.ForeignKey("exam_attempts.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("trainee_id", sa.String(32), nullable=False),
        sa.Column("course_id", sa.String(32), nullable=False),
        sa.Column("verification_code", sa.String(32), nullable=False),
        sa.Column("masked_name", sa.String(100), nullable=False),
        sa.Column("object_key", sa.String(256), nullable=False),
        sa.Column("issue_time", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("verification_code", name="uq_certificates_code"),
        sa.UniqueConstraint("attempt_id", name="uq_certificates_attempt"),
    )
    op.create_table(
        "technical_school_courses",
        sa.Column("id", sa.String(32), primary_key=True), _tenant(),
        sa.Column("school_name", sa.String(200), nullable=False),
        sa.Column("course_title", sa.String(200), nullable=False),
        sa.Column("content_categories", sa.JSON(), nullable=False),
        sa.Column("academic_year", sa.Integer(), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
    )
    op.create_index("ix_technical_school_courses_tenant", "technical_school_courses",
                    ["tenant_code", "create_time", "id"])
    op.create_table(
        "warning_education_bases",
        sa.Column("id", sa.String(32), primary_key=True), _tenant(),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("address", sa.String(300), nullable=False),
        sa.Column("industries", sa.JSON(), nullable=False),
        sa.Column("website", sa.String(2048), nullable=False),
        sa.Column("create_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
    )
    op.create_index("ix_warning_education_bases_tenant", "warning_education_bases",
                    ["tenant_code", "create_time", "id"])
    for table in TENANT_TABLES:
        enable_tenant_rls(table)
    for table in NATIONAL_TABLES:
        enable_tenant_rls(table, national_visible=True)


def downgrade() -> None:
    for table in TENANT_TABLES + NATIONAL_TABLES:
        disable_tenant_rls(table)
    for table in ("warning_education_bases", "technical_school_courses", "materials", "course_modules", "course_tags",
                  "certificates", "exam_attempts", "question_banks"):
        op.drop_table(table)
    for table in reversed(TENANT_TABLES[:10]):
        op.drop_table(table)
