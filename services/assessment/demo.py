"""Demo data for `prevention seed --demo` (embedded mode only, SPEC 7.6): a call for projects in
Beijing and Tianjin with applications, experts, fund premium income, good practice and a few
employers' premium-rate inputs. Idempotent: fixed ids, skipped when present."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.assessment.models_filings import GoodPracticeCase
from services.assessment.models_projects import Expert, FundIncome, Project, ProjectCall, ProjectTransition
from services.assessment.models_rates import RateInput
from services.common.validators import USCC_ALPHABET, uscc_check_char

DOCUMENTS = ("application_form", "feasibility_report", "implementation_plan", "cost_estimate", "qualification")
SPECIALTIES = ("work_injury_prevention", "work_safety", "occupational_health")


def _id(*parts: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, "prevention-demo:" + ":".join(parts)).hex


def _uscc(seed: str) -> str:
    digits = "".join(USCC_ALPHABET[b % 31] for b in uuid.uuid5(uuid.NAMESPACE_URL, seed).bytes)[:15]
    return "91" + digits + uscc_check_char("91" + digits)


def demo_document_keys(tenant: str) -> list[str]:
    return [f"{tenant}/assessment/guideline/demo", f"{tenant}/assessment/template_form/demo",
            *(f"{tenant}/assessment/project_document/demo-{k}" for k in DOCUMENTS)]


async def upload_demo_documents(store) -> int:
    """The files the demo calls and projects name (calls and applications name uploaded objects)."""
    keys = [key for tenant in ("110000", "120000") for key in demo_document_keys(tenant)]
    for key in keys:
        await store.put(key, f"%PDF-1.4\n% demo document {key.rsplit('/', 1)[1]}\n".encode(), "application/pdf")
    return len(keys)


async def seed_demo(session: AsyncSession) -> dict[str, int]:
    now = datetime.now(UTC)
    counts = {"project_calls": 0, "projects": 0, "experts": 0, "rate_inputs": 0}
    for tenant in ("110000", "120000"):
        call_id = _id(tenant, "call")
        if await session.get(ProjectCall, call_id) is None:
            session.add(ProjectCall(id=call_id, tenant_code=tenant, title="2026年度工伤预防项目申报", year=2026,
                                    guideline_object=demo_document_keys(tenant)[0],
                                    template_form_object=demo_document_keys(tenant)[1],
                                    closes_on=date(2026, 12, 31), created_by="demo", create_time=now))
            counts["project_calls"] += 1
        for year, income in ((2025, 2_000_000_000_00), (2026, 2_100_000_000_00)):
            if await session.get(FundIncome, (tenant, year)) is None:
                session.add(FundIncome(tenant_code=tenant, year=year, premium_income_fen=income, imported_by="demo",
                                       update_time=now))
        await session.flush()
        for n, (title, category) in enumerate((("建筑施工一线班组长安全培训", "training"),
                                               ("尘肺病防治宣传进企业", "publicity"))):
            project_id = _id(tenant, "project", str(n))
            if await session.get(Project, project_id) is not None:
                continue
            session.add(Project(
                id=project_id, tenant_code=tenant, call_id=call_id, title=title,
                applicant_organisation=f"organisations/{_id(tenant, 'institution')}", beneficiary_employer="",
                pooling_region=tenant, category=category, requested_budget_fen=300_000_00,
                planned_start=date(2026, 3, 1), planned_end=date(2027, 2, 28),
                documents=[{"kind": k, "object_key": key} for k, key in zip(DOCUMENTS, demo_document_keys(tenant)[2:],
                                                                             strict=True)],
                milestones=[{"title": "培训完成", "due_date": "2026-09-30"}], state="submitted", budget_year=2026,
                tender_required=False, version=1, created_by="demo", create_time=now))
            await session.flush()
            session.add(ProjectTransition(project_id=project_id, seq=1, tenant_code=tenant, from_state="",
                                          to_state="submitted", action="submit", actor="demo", reason="",
                                          time=now))
            counts["projects"] += 1
        for n in range(6):
            expert_id = _id(tenant, "expert", str(n))
            if await session.get(Expert, expert_id) is None:
                session.add(Expert(id=expert_id, tenant_code=tenant, display_name=f"专家{n + 1}",
                                   specialties=[SPECIALTIES[n % 3]], region_code=tenant,
                                   employer=f"organisations/{_id(tenant, 'employer', str(n % 4))}",
                                   user_subject="", create_time=now))
                counts["experts"] += 1
        for n in range(20):
            uscc = _uscc(f"{tenant}:{n}")
            for year in (2023, 2024, 2025):
                if await session.get(RateInput, (tenant, uscc, year)) is None:
                    session.add(RateInput(tenant_code=tenant, employer=uscc, year=year, risk_class=1 + n % 8,
                                          premiums_paid_fen=100_000_00, benefits_paid_fen=(n * 37 % 11) * 30_000_00,
                                          injuries=int(n % 3 == 0), fatal_accidents=int(n == 7), hazard_level="low",
                                          months_insured=12))
                    counts["rate_inputs"] += 1
        case_id = _id(tenant, "case")
        if await session.get(GoodPracticeCase, case_id) is None:
            session.add(GoodPracticeCase(id=case_id, tenant_code=tenant, title="危化品企业班组安全积分制",
                                         summary="以班组为单位的隐患排查积分制，两年内事故率下降三成。",
                                         industry_code="C26", year=2025, created_by="demo", create_time=now))
    await session.flush()
    return counts
