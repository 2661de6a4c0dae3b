"""Learning completions that count as trained for coverage (SPEC 7.7, TR-5): the seam between
the learning-record store (gRPC ingestion and the xAPI LRS, which write statements) and the
coverage figures (which read completions per trainee).

Contract (both sides keep it):
- ``record_statement`` is called in the writer's transaction for every stored statement whose verb
  is ``http://adlnet.gov/expapi/verbs/completed`` or ``.../passed``; the learner is the statement
  actor's xAPI account (home page = the platform's URL, name = the platform learner id), mapped
  to a trainee at enrolment. Repeated calls with the same statement id change nothing.
- ``void_statement`` is called in the writer's transaction when a statement is voided; the
  completion it created no longer counts.

Only statements on a course's activity id (``.../xapi/activities/courses/{course id}``, see
``course_activity_id``) of a course that exists become completions; others are ignored. The
account is kept as given and resolved to a trainee when coverage is computed, so a statement
that arrives before the account is mapped still counts once it is. Exam passes and attended
offline sessions are recorded here too (``record_trainee_completion``) with the trainee known.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.training.core_models import Completion
from services.training.models import Course

TRAINED_VERBS = ("http://adlnet.gov/expapi/verbs/completed", "http://adlnet.gov/expapi/verbs/passed")
COURSE_ACTIVITY_PATH = "/xapi/activities/courses/"
_COURSE_ACTIVITY = re.compile(r"^https?://[^/?#]+(?:/[^?#]*)?/xapi/activities/courses/([0-9a-f]{32})$")
# Namespace of the statement ids the platform itself mints for exam passes and attendance.
_OWN_IDS = uuid.UUID("6c1f3b0e-6b1a-4d55-9a55-1f0f3b4c2e77")


def course_activity_id(base_url: str, course_id: str) -> str:
    """A course's xAPI activity id under the platform's public base URL."""
    return f"{base_url.rstrip('/')}{COURSE_ACTIVITY_PATH}{course_id}"


def course_of_activity(activity_id: str) -> str:
    match = _COURSE_ACTIVITY.match(activity_id or "")
    return match.group(1) if match else ""


def own_statement_id(kind: str, *parts: str) -> str:
    """A stable statement id for a completion the platform records itself (idempotent replays)."""
    return str(uuid.uuid5(_OWN_IDS, "/".join((kind, *parts))))


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


async def _insert_once(session: AsyncSession, values: dict) -> None:
    insert = pg_insert if session.bind.dialect.name == "postgresql" else sqlite_insert
    await session.execute(insert(Completion).values(**values).on_conflict_do_nothing(
        index_elements=[Completion.statement_id]))


async def record_statement(session: AsyncSession, *, tenant_code: str, statement_id: str, verb: str,
                           activity_id: str, account_home_page: str, account_name: str,
                           timestamp: datetime) -> None:
    """Counts the statement toward coverage when its verb and activity qualify (see module doc)."""
    if verb not in TRAINED_VERBS or not statement_id or not account_home_page or not account_name:
        return
    course_id = course_of_activity(activity_id)
    if not course_id or await session.get(Course, course_id) is None:
        return
    await _insert_once(session, {
        "statement_id": str(statement_id).lower(), "tenant_code": tenant_code, "course_id": course_id,
        "source": "statement", "verb": verb, "home_page": account_home_page.rstrip("/"),
        "account_name": account_name, "trainee_id": "", "time": _aware(timestamp), "voided": False,
    })


async def void_statement(session: AsyncSession, *, tenant_code: str, statement_id: str) -> None:
    """The completion created by ``statement_id`` (if any) stops counting."""
    row = (await session.scalars(select(Completion).where(
        Completion.statement_id == str(statement_id).lower(), Completion.tenant_code == tenant_code))).first()
    if row is not None:
        row.voided = True
        await session.flush()


async def record_trainee_completion(session: AsyncSession, *, tenant_code: str, statement_id: str, source: str,
                                    course_id: str, trainee_id: str, time: datetime) -> None:
    """An exam pass (verb passed) or an attended offline session (verb completed) of a known trainee."""
    verb = TRAINED_VERBS[1] if source == "exam" else TRAINED_VERBS[0]
    await _insert_once(session, {
        "statement_id": statement_id, "tenant_code": tenant_code, "course_id": course_id, "source": source,
        "verb": verb, "home_page": "", "account_name": "", "trainee_id": trainee_id, "time": _aware(time),
        "voided": False,
    })
