"""Prevention projects, transitions, fund income, budget settings, experts, reviewer draws;
premium-rate rule sets, inputs, runs and results; filings and reminders; good practice and
reward/penalty records; the retention purge's audit.

Revision ID: 0002_assessment_core
Revises: 0001
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

from services.common.migrations import disable_tenant_rls, enable_tenant_rls

revision = "0002_assessment_core"
down_revision = "0001"
branch_labels = None
depends_on = None

# project_calls carry no RLS: a call is announced to the whole province (filtered in queries).
RLS_TABLES = ("projects", "project_transitions", "fund_incomes", "budget_settings", "reviewer_draws",
              "rate_rule_sets", "rate_inputs", "rate_runs", "rate_results", "filings", "filing_reminders",
              "scorecards", "expert_reviews")
# National rows (tenant 100000) of these are readable by every tenant.
NATIONAL_VISIBLE = ("experts", "good_practice_cases", "reward_penalty_records")


def tz():
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "project_calls",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False, index=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("guideline_object", sa.String(256), nullable=False),
        sa.Column("template_form_object", sa.String(256), nullable=False),
        sa.Column("closes_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("create_time", tz(), nullable=False),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False, index=True),
        sa.Column("call_id", sa.String(32), sa.ForeignKey("project_calls.id"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("applicant_organisation", sa.String(128), nullable=False),
        sa.Column("beneficiary_employer", sa.String(128), nullable=False),
        sa.Column("pooling_region", sa.String(6), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("requested_budget_fen", sa.BigInteger(), nullable=False),
        sa.Column("planned_start", sa.Date(), nullable=False),
        sa.Column("planned_end", sa.Date(), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("milestones", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("budget_year", sa.Integer(), nullable=False),
        sa.Column("approved_budget_fen", sa.BigInteger(), nullable=True),
        sa.Column("approved_start", sa.Date(), nullable=True),
        sa.Column("approved_end", sa.Date(), nullable=True),
        sa.Column("tender_required", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("create_time", tz(), nullable=False),
    )
    op.create_index("ix_projects_region_year", "projects", ["pooling_region", "budget_year"])
    op.create_table(
        "project_transitions",
        sa.Column("project_id", sa.String(32), sa.ForeignKey("projects.id"), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=False),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("time", tz(), nullable=False),
    )
    op.create_table(
        "fund_incomes",
        sa.Column("tenant_code", sa.String(6), primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("premium_income_fen", sa.BigInteger(), nullable=False),
        sa.Column("imported_by", sa.String(128), nullable=False),
        sa.Column("update_time", tz(), nullable=False),
    )
    op.create_table(
        "budget_settings",
        sa.Column("tenant_code", sa.String(6), primary_key=True),
        sa.Column("cap_rate", sa.String(12), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.Column("update_time", tz(), nullable=False),
    )
    op.create_table(
        "experts",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False, index=True),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("specialties", sa.JSON(), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        sa.Column("employer", sa.String(128), nullable=False),
        sa.Column("user_subject", sa.String(128), nullable=False, index=True),
        sa.Column("create_time", tz(), nullable=False),
    )
    op.create_table(
        "reviewer_draws",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False, index=True),
        sa.Column("project_id", sa.String(32), sa.ForeignKey("projects.id"), nullable=False, index=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("specialty", sa.String(32), nullable=False),
        sa.Column("seed", sa.String(24), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("excluded", sa.JSON(), nullable=False),
        sa.Column("reviewers", sa.JSON(), nullable=False),
        sa.Column("drawn_by", sa.String(128), nullable=False),
        sa.Column("create_time", tz(), nullable=False),
    )
    op.create_table(
        "rate_rule_sets",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("create_time", tz(), nullable=False),
        sa.UniqueConstraint("tenant_code", "version", name="uq_rate_rule_sets_version"),
    )
    op.create_table(
        "rate_inputs",
        sa.Column("tenant_code", sa.String(6), primary_key=True),
        sa.Column("employer", sa.String(18), primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("risk_class", sa.Integer(), nullable=False),
        sa.Column("premiums_paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("benefits_paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("injuries", sa.Integer(), nullable=False),
        sa.Column("fatal_accidents", sa.Integer(), nullable=False),
        sa.Column("hazard_level", sa.String(8), nullable=False),
        sa.Column("months_insured", sa.Integer(), nullable=False),
    )
    op.create_table(
        "rate_runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False, index=True),
        sa.Column("cycle_end_year", sa.Integer(), nullable=False),
        sa.Column("rule_set_version", sa.Integer(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("cursor", sa.String(18), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("create_time", tz(), nullable=False),
        sa.Column("finish_time", tz(), nullable=True),
    )
    op.create_table(
        "rate_results",
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("employer", sa.String(18), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False),
        sa.Column("risk_class", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(8), nullable=False),
        sa.Column("multiplier", sa.String(8), nullable=False),
        sa.Column("base_rate", sa.String(12), nullable=False),
        sa.Column("rate", sa.String(12), nullable=False),
        sa.Column("payout_ratio", sa.String(24), nullable=False),
        sa.Column("factors", sa.JSON(), nullable=False),
    )
    op.create_table(
        "filings",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False),
        sa.Column("plan_id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("document_object", sa.String(256), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("return_reason", sa.Text(), nullable=False),
        sa.Column("first_submit_time", tz(), nullable=False),
        sa.Column("update_time", tz(), nullable=False),
        sa.Column("submitted_by", sa.String(128), nullable=False),
        sa.Column("reviewed_by", sa.String(128), nullable=False),
        sa.UniqueConstraint("tenant_code", "plan_id", "kind", "year", name="uq_filings_key"),
    )
    op.create_table(
        "filing_reminders",
        sa.Column("tenant_code", sa.String(6), primary_key=True),
        sa.Column("plan_id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(24), primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("reminder", sa.String(16), primary_key=True),
        sa.Column("sent_time", tz(), nullable=False),
    )
    op.create_table(
        "good_practice_cases",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False, index=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("industry_code", sa.String(8), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("create_time", tz(), nullable=False),
    )
    op.create_table(
        "reward_penalty_records",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False, index=True),
        sa.Column("organisation", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("create_time", tz(), nullable=False),
    )
    op.create_table(
        "purge_audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("record_type", sa.String(48), nullable=False),
        sa.Column("cutoff", tz(), nullable=False),
        sa.Column("purged", sa.Integer(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("run_time", tz(), nullable=False),
    )
    op.create_table(
        "scorecard_configs",
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.Column("update_time", tz(), nullable=False),
    )
    op.create_table(
        "scorecards",
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("tenant_code", sa.String(6), primary_key=True),
        sa.Column("total", sa.String(16), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("indicators", sa.JSON(), nullable=False),
        sa.Column("compute_time", tz(), nullable=False),
    )
    op.create_table(
        "expert_reviews",
        sa.Column("project_id", sa.String(32), sa.ForeignKey("projects.id"), primary_key=True),
        sa.Column("expert_id", sa.String(32), primary_key=True),
        sa.Column("tenant_code", sa.String(6), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("recommendation", sa.String(8), nullable=False),
        sa.Column("opinion", sa.Text(), nullable=False),
        sa.Column("create_time", tz(), nullable=False),
    )
    for table in RLS_TABLES:
        enable_tenant_rls(table)
    for table in NATIONAL_VISIBLE:
        enable_tenant_rls(table, national_visible=True)


def downgrade() -> None:
    for table in (*RLS_TABLES, *NATIONAL_VISIBLE):
        disable_tenant_rls(table)
    for table in ("expert_reviews", "scorecards", "scorecard_configs", "purge_audit", "reward_penalty_records",
                  "good_practice_cases", "filing_reminders", "filings",
                  "rate_results", "rate_runs", "rate_inputs", "rate_rule_sets", "reviewer_draws", "experts",
                  "budget_settings", "fund_incomes", "project_transitions", "projects", "project_calls"):
        op.drop_table(table)
