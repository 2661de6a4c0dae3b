"""Learning completions that count as trained for coverage (SPEC 7.7, TR-5): the seam between
the learning-record store (gRPC ingestion and the xAPI LRS, which write statements) and the
coverage figures (which read completions per trainee).

Contract (both sides keep it):
- ``record_statement`` is called in the writer's transaction for every stored statement whose verb
  is ``http://adlnet.gov/expapi/verbs/completed`` or ``.../passed``; the learner is the statement
  actor's xAPI account (home page = the platform's URL, name = the platform's learner id), mapped
  to a trainee at enrolment. Repeated calls with the same statement id change nothing.
- ``void_statement`` is called in the writer's transaction when a statement is voided; the
  completion it created no longer counts.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

TRAINED_VERBS = ("http://adlnet.gov/expapi/verbs/completed", "http://adlnet.gov/expapi/verbs/passed")


async def record_statement(session: AsyncSession, *, tenant_code: str, statement_id: str, verb: str,
                           activity_id: str, account_home_page: str, account_name: str,
                           timestamp: datetime) -> None:
    """Counts the statement toward coverage when its verb and activity qualify (see module doc)."""


async def void_statement(session: AsyncSession, *, tenant_code: str, statement_id: str) -> None:
    """The completion created by ``statement_id`` (if any) stops counting."""
