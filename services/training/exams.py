"""Exams and certificates (SPEC TR-4): question banks with a pass mark, attempts scored on the
server, and on a pass a certificate PDF with a verification code in object storage; a pass also
counts as trained (a completion with verb passed on the bank's course, services.training.completions).

Who: provincial operators keep their tenant's banks (the answers are shown to them only); a
trainee attempts as themself — the trainee record whose ``user_id`` is the token's subject, in the
bank's tenant. The public verification answers valid/invalid and the masked name only.
"""

from __future__ import annotations

import io
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.clock import CST
from services.common.context import PROVINCIAL_OPERATOR, Caller
from services.common.errors import AlreadyExists, FieldViolation, InvalidArgument, NotFound
from services.common.pii import PiiKeyring
from services.common.storage import ObjectStore, object_key
from services.common.tenancy import visible_to
from services.training import completions
from services.training.core_models import Certificate, ExamAttempt, QuestionBank, Trainee
from services.training.models import Course
from services.training.reference import is_blank
from services.training.service import get_course
from services.training.trainees import NAME, mask_name

_BANK = re.compile(r"^questionBanks/([0-9a-f]{32})$")
# Crockford-style alphabet: no 0/O, 1/I/L confusion when a code is typed from paper.
_CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_CODE = re.compile(r"^[2-9A-HJKMNP-Z]{12}$")
# Fonts with CJK glyphs, first found wins; without one, non-Latin text is drawn as "?" (install
# fonts-noto-cjk or set PREVENTION_CERTIFICATE_FONT in production).
FONT_CANDIDATES = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                   "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
                   "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def parse_bank_name(name: str, field: str = "name") -> str:
    match = _BANK.match(name or "")
    if not match:
        raise InvalidArgument.field(field, "must be questionBanks/{id}")
    return match.group(1)


@dataclass(frozen=True)
class Question:
    text: str
    options: list[str]
    answer: int


async def create_bank(*, session: AsyncSession, caller: Caller, course_id: str, title: str, pass_mark: int,
                      questions: list[Question], now: datetime) -> QuestionBank:
    violations: list[FieldViolation] = []
    if is_blank(title) or len(title) > 200:
        violations.append(FieldViolation("question_bank.title", "is required, at most 200 characters"))
    if not 1 <= pass_mark <= 100:
        violations.append(FieldViolation("question_bank.pass_mark", "must be a percentage from 1 to 100"))
    if not 1 <= len(questions) <= 200:
        violations.append(FieldViolation("question_bank.questions", "give 1 to 200 questions"))
    for i, q in enumerate(questions[:200]):
        if is_blank(q.text) or len(q.text) > 2000:
            violations.append(FieldViolation(f"question_bank.questions[{i}].text", "is required, at most 2000 "
                                                                                   "characters"))
        if not 2 <= len(q.options) <= 10 or any(is_blank(o) or len(o) > 500 for o in q.options):
            violations.append(FieldViolation(f"question_bank.questions[{i}].options",
                                             "give 2 to 10 options of 1 to 500 characters"))
        elif not 0 <= q.answer < len(q.options):
            violations.append(FieldViolation(f"question_bank.questions[{i}].answer",
                                             "must be the index of one of the options"))
    if violations:
        raise InvalidArgument(violations)
    course = await get_course(session=session, caller=caller, course_id=course_id)
    row = QuestionBank(id=uuid.uuid4().hex, tenant_code=caller.tenant, course_id=course.id, title=title.strip(),
                       pass_mark=pass_mark,
                       questions=[{"text": q.text, "options": q.options, "answer": q.answer} for q in questions],
                       create_time=now, created_by=caller.subject)
    session.add(row)
    await session.flush()
    return row


async def get_bank(*, session: AsyncSession, caller: Caller, bank_id: str) -> QuestionBank:
    if PROVINCIAL_OPERATOR in caller.roles or caller.is_ministry:
        scope = visible_to(QuestionBank.tenant_code, caller)
    else:  # trainees: their own tenant's banks
        scope = QuestionBank.tenant_code == caller.tenant
    row = (await session.scalars(select(QuestionBank).where(QuestionBank.id == bank_id, scope))).first()
    if row is None:
        raise NotFound(f"question bank {bank_id} not found")
    return row


def shows_answers(caller: Caller, bank: QuestionBank) -> bool:
    return caller.is_ministry or (PROVINCIAL_OPERATOR in caller.roles and caller.sees_tenant(bank.tenant_code))


def new_verification_code() -> str:
    return "".join(secrets.choice(_CODE_ALPHABET) for _ in range(12))


def _pdf(*, name: str, course_title: str, code: str, issued: datetime, score: int) -> bytes:
    from fpdf import FPDF  # imported here: only certificates need it

    pdf = FPDF(orientation="L", format="A4")
    pdf.set_title("Work-injury prevention training certificate")
    pdf.add_page()
    font = next((p for p in FONT_CANDIDATES if Path(p).exists()), None)
    if font:
        pdf.add_font("cert", "", font)
        pdf.set_font("cert", size=18)

        def text(value: str) -> str:
            return value
    else:
        pdf.set_font("helvetica", size=18)

        def text(value: str) -> str:
            return value.encode("latin-1", "replace").decode("latin-1")
    pdf.cell(0, 20, text("Work-Injury Prevention Training Certificate"), new_x="LMARGIN", new_y="NEXT", align="C")
    pdf.set_font_size(14)
    for line in (f"Trainee: {name}", f"Course: {course_title}", f"Score: {score}%",
                 f"Issued: {issued.astimezone(CST).date().isoformat()}", f"Verification code: {code}"):
        pdf.cell(0, 12, text(line), new_x="LMARGIN", new_y="NEXT", align="C")
    out = io.BytesIO()
    pdf.output(out)
    return out.getvalue()


async def submit_attempt(*, session: AsyncSession, store: ObjectStore, keyring: PiiKeyring, caller: Caller,
                         bank_id: str, answers: list[int], now: datetime
                         ) -> tuple[ExamAttempt, Certificate | None]:
    bank = await get_bank(session=session, caller=caller, bank_id=bank_id)
    person = (await session.scalars(select(Trainee).where(Trainee.user_id == caller.subject,
                                                          Trainee.tenant_code == bank.tenant_code))).first()
    if person is None or not caller.subject:
        raise NotFound("no trainee record for the caller in the bank's tenant")
    if len(answers) != len(bank.questions):
        raise InvalidArgument.field("answers", f"give one answer per question ({len(bank.questions)})")
    correct = sum(1 for q, a in zip(bank.questions, answers, strict=True) if q["answer"] == a)
    score = correct * 100 // len(bank.questions)
    attempt = ExamAttempt(id=uuid.uuid4().hex, tenant_code=bank.tenant_code, bank_id=bank.id, trainee_id=person.id,
                          answers=list(answers), score=score, passed=score >= bank.pass_mark, create_time=now)
    session.add(attempt)
    await session.flush()
    if not attempt.passed:
        return attempt, None
    course = await session.get(Course, bank.course_id)
    clear_name = keyring.decrypt(person.name_enc, context=NAME)
    cert_id = uuid.uuid4().hex
    key = object_key(bank.tenant_code, "training", "certificates", cert_id)
    for _ in range(5):
        code = new_verification_code()
        if (await session.scalars(select(Certificate.id).where(Certificate.verification_code == code))).first() is None:
            break
    else:  # 31^12 codes: a run of five collisions means something else is wrong
        raise AlreadyExists("could not allocate a verification code", reason="CODE_COLLISION")
    await store.put(key, _pdf(name=clear_name, course_title=course.title if course else "", code=code, issued=now,
                              score=score), "application/pdf")
    certificate = Certificate(id=cert_id, tenant_code=bank.tenant_code, attempt_id=attempt.id, trainee_id=person.id,
                              course_id=bank.course_id, verification_code=code, masked_name=mask_name(clear_name),
                              object_key=key, issue_time=now)
    session.add(certificate)
    try:
        await session.flush()
    except IntegrityError:
        raise AlreadyExists("certificate already issued", reason="CERTIFICATE_EXISTS") from None
    await completions.record_trainee_completion(
        session, tenant_code=bank.tenant_code, statement_id=completions.own_statement_id("exam", attempt.id),
        source="exam", course_id=bank.course_id, trainee_id=person.id, time=now)
    return attempt, certificate


async def verify(*, session: AsyncSession, code: str) -> Certificate | None:
    """The certificate with this code, or None (also for a malformed code: no oracle on format)."""
    code = (code or "").strip().upper()
    if not _CODE.match(code):
        return None
    return (await session.scalars(select(Certificate).where(Certificate.verification_code == code))).first()
