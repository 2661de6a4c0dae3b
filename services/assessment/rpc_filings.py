"""gRPC adapter for implementation plans and annual reports (SPEC AS-4). A mixin of
AssessmentServicer (``self.db``, ``self.clock``)."""

from __future__ import annotations

from prevention.assessment.v1 import filings_pb2

from services.assessment import filings
from services.assessment.models import IdempotencyKeys
from services.assessment.models_filings import Filing
from services.common.context import current_caller
from services.common.idempotency import idempotent_rpc
from services.common.pagination import clamp_page_size, decode_page_token, encode_page_token


def filing_to_proto(row: Filing) -> filings_pb2.Filing:
    message = filings_pb2.Filing(
        name=f"filings/{row.id}", tenant_code=row.tenant_code, action_plan=f"actionPlans/{row.plan_id}", kind=row.kind,
        year=row.year, due_date=row.due_date.isoformat(), state=row.state, document_object=row.document_object,
        summary=row.summary, return_reason=row.return_reason, on_time=filings.on_time(row))
    message.first_submit_time.FromDatetime(row.first_submit_time)
    message.update_time.FromDatetime(row.update_time)
    return message


class FilingRpcs:
    async def SubmitFiling(self, request, context):
        caller = current_caller()
        m = request.filing

        async def work(session):
            row = await filings.submit_filing(session=session, caller=caller, kind=m.kind, year=m.year,
                                              document_object=m.document_object, summary=m.summary,
                                              now=self.clock.now())
            return filings_pb2.SubmitFilingResponse(filing=filing_to_proto(row))

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller, method="SubmitFiling",
                                    request=request, response_type=filings_pb2.SubmitFilingResponse, work=work)

    async def ReviewFiling(self, request, context):
        caller = current_caller()
        filing_id = filings.parse_filing_name(request.name)
        async with self.db.session() as session:
            row = await filings.review_filing(session=session, caller=caller, filing_id=filing_id,
                                              decision=request.decision, reason=request.reason, now=self.clock.now())
            await session.commit()
        return filings_pb2.ReviewFilingResponse(filing=filing_to_proto(row))

    async def ListFilings(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        after = decode_page_token(request.page_token)
        async with self.db.session() as session:
            rows = await filings.list_filings(session=session, caller=caller, after=after[0] if after else None,
                                              limit=size + 1)
        return filings_pb2.ListFilingsResponse(
            filings=[filing_to_proto(r) for r in rows[:size]],
            next_page_token=encode_page_token([rows[size - 1].id]) if len(rows) > size else "")

    async def ListOverdueFilings(self, request, context):
        caller = current_caller()
        async with self.db.session() as session:
            items = await filings.overdue(session=session, caller=caller, now=self.clock.now())
        return filings_pb2.ListOverdueFilingsResponse(overdue_filings=[
            filings_pb2.OverdueFiling(tenant_code=e.tenant_code, kind=e.kind, year=e.year, due_date=e.due.isoformat(),
                                      status=status) for e, status in items])
