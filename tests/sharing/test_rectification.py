"""Rectification workflow (SPEC SH-5): notices with CST deadlines, the employer's response with
evidence in object storage, verification and return for rework, escalation of overdue notices to
an enforcement referral, reminders and escalation announced exactly once through identity."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from services.common.clock import FrozenClock
from services.common.errors import Unavailable
from services.common.scheduler import Job, LocalLock, Scheduler
from services.sharing.rectification_jobs import ServiceTokens
from tests.gateway.helpers import assert_problem, bearer
from tests.sharing.rectification_support import (
    TENANT,
    Runner,
    ServiceTokenStub,
    create_organisation,
    create_user,
    cst,
    dl,
    eo,
    inbox,
    notice_body,
    org,
    po,
    raise_notice_at,
    today_cst,
)

URL = "/v1/rectification-notices"


async def issue(platform, issuer, department: str, employer: str, **overrides) -> dict:
    response = await platform.client.post(URL, json=notice_body(employer, **overrides),
                                          headers=dl(issuer, department))
    assert response.status_code == 201, response.text
    return response.json()


async def upload(platform, issuer, notice_id: str, employer: str, content: bytes, *,
                 content_type: str = "application/pdf") -> str:
    created = await platform.client.post(f"{URL}/{notice_id}/evidence-uploads",
                                         json={"file_name": "guardrail photo.pdf", "content_type": content_type},
                                         headers=eo(issuer, employer))
    assert created.status_code == 201, created.text
    url = urlsplit(created.json()["upload_url"])
    assert url.path.startswith(f"/objects/{TENANT}/sharing/rectification-evidence/")  # the tenant's prefix
    put = await platform.client.put(f"{url.path}?{url.query}", content=content, headers={"Content-Type": content_type})
    assert put.status_code in (200, 201, 204), put.text
    return created.json()["evidence"]["id"]


def path(notice: dict) -> list[tuple]:
    return [(t["from_state"], t["to_state"]) for t in notice["transitions"]]


async def test_full_workflow_with_rework(platform, issuer):
    department, employer = org(), org()
    notice = await issue(platform, issuer, department, employer)
    assert notice["state"] == "issued" and notice["law"] == "work_safety_law"
    assert notice["issuing_organisation"] == department and notice["tenant_code"] == TENANT
    url = f"{URL}/{notice['id']}"

    first = await upload(platform, issuer, notice["id"], employer, b"%PDF-1.4 first")
    responded = await platform.client.post(f"{url}/respond", json={"response": "Guardrails fitted.",
                                                                   "evidence": [first]},
                                           headers=eo(issuer, employer))
    assert responded.status_code == 200, responded.text
    assert responded.json()["state"] == "responded"

    returned = await platform.client.post(f"{url}/return", json={"reason": "Photo does not show the east edge."},
                                          headers=dl(issuer, department))
    assert returned.status_code == 200 and returned.json()["state"] == "returned"

    second = await upload(platform, issuer, notice["id"], employer, b"%PDF-1.4 second")
    again = await platform.client.post(f"{url}/respond", json={"response": "East edge fitted too.",
                                                               "evidence": [second]},
                                       headers=eo(issuer, employer))
    assert again.status_code == 200 and again.json()["response"] == "East edge fitted too."

    verified = await platform.client.post(f"{url}/verify", json={"reason": "Checked on site."},
                                          headers=po(issuer))
    assert verified.status_code == 200, verified.text
    final = verified.json()
    assert final["state"] == "closed"
    assert path(final) == [(None, "issued"), ("issued", "responded"), ("responded", "returned"),
                           ("returned", "responded"), ("responded", "closed")]
    assert final["transitions"][2]["reason"] == "Photo does not show the east edge."
    assert final["transitions"][4]["reason"] == "Checked on site."
    assert all(t["actor"] and t["time"] for t in final["transitions"])
    assert {e["id"] for e in final["evidence"] if e["attached"]} == {first, second}


async def test_exceedance_cites_the_occupational_disease_law(platform, issuer):
    notice = await issue(platform, issuer, org(), org(), source=f"measurements/{org()[-32:]}",
                         source_type="measurement_exceedance")
    assert notice["law"] == "occupational_disease_prevention_law"


async def test_illegal_transitions_are_refused_and_change_nothing(platform, issuer, settings):
    department, employer = org(), org()
    as_dl, as_eo = dl(issuer, department), eo(issuer, employer)

    async def refused(notice_id: str, action: str, headers: dict, state: str, reason="RECTIFICATION_STATE"):
        before = (await platform.client.get(f"{URL}/{notice_id}", headers=as_dl)).json()
        body = {"response": "done"} if action == "respond" else {"reason": "because"}
        problem = assert_problem(await platform.client.post(f"{URL}/{notice_id}/{action}", json=body,
                                                            headers=headers), 409, reason=reason)
        assert state in problem["detail"], problem
        after = (await platform.client.get(f"{URL}/{notice_id}", headers=as_dl)).json()
        assert after == before

    issued = await issue(platform, issuer, department, employer)
    for action in ("verify", "return"):
        await refused(issued["id"], action, as_dl, "issued")
    await refused(issued["id"], "escalate", as_dl, "issued", reason="RECTIFICATION_NOT_OVERDUE")

    responded = await issue(platform, issuer, department, employer)
    await platform.client.post(f"{URL}/{responded['id']}/respond", json={"response": "done"}, headers=as_eo)
    await refused(responded["id"], "respond", as_eo, "responded")
    await refused(responded["id"], "escalate", as_dl, "responded")

    closed = await issue(platform, issuer, department, employer)
    await platform.client.post(f"{URL}/{closed['id']}/respond", json={"response": "done"}, headers=as_eo)
    assert (await platform.client.post(f"{URL}/{closed['id']}/verify", json={}, headers=as_dl)).status_code == 200
    for action, headers in (("respond", as_eo), ("verify", as_dl), ("return", as_dl), ("escalate", as_dl)):
        await refused(closed["id"], action, headers, "closed")
    # Evidence uploads are part of responding: refused once the notice is closed.
    assert_problem(await platform.client.post(f"{URL}/{closed['id']}/evidence-uploads",
                                              json={"file_name": "x.pdf", "content_type": "application/pdf"},
                                              headers=as_eo), 409)

    deadline = today_cst() - timedelta(days=2)
    escalated_id = await raise_notice_at(platform, now=cst(deadline - timedelta(days=5), 9), department=department,
                                         employer=employer, deadline=deadline)
    escalated = await platform.client.post(f"{URL}/{escalated_id}/escalate", json={"reason": "ignored the notice"},
                                           headers=as_dl)
    assert escalated.status_code == 200, escalated.text
    assert escalated.json()["state"] == "escalated"
    assert "Work Safety Law" in escalated.json()["enforcement_referral"]
    for action, headers in (("respond", as_eo), ("verify", as_dl), ("return", as_dl), ("escalate", as_dl)):
        await refused(escalated_id, action, headers, "escalated")


async def test_return_needs_a_reason(platform, issuer):
    department, employer = org(), org()
    notice = await issue(platform, issuer, department, employer)
    await platform.client.post(f"{URL}/{notice['id']}/respond", json={"response": "done"},
                               headers=eo(issuer, employer))
    problem = assert_problem(await platform.client.post(f"{URL}/{notice['id']}/return", json={"reason": " "},
                                                        headers=dl(issuer, department)), 400)
    assert [v["field"] for v in problem["violations"]] == ["reason"]
    got = (await platform.client.get(f"{URL}/{notice['id']}", headers=dl(issuer, department))).json()
    assert got["state"] == "responded"


async def test_creates_are_idempotent(platform, issuer):
    department, employer = org(), org()
    body = notice_body(employer)
    headers = {**dl(issuer, department), "Idempotency-Key": f"rect-{org()[-12:]}"}
    first = await platform.client.post(URL, json=body, headers=headers)
    second = await platform.client.post(URL, json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert_problem(await platform.client.post(URL, json={**body, "required_action": "other"}, headers=headers), 422)
    # Without a key, the same source and employer still yields the one notice.
    third = await platform.client.post(URL, json=body, headers=dl(issuer, department))
    assert third.json()["id"] == first.json()["id"]
    listed = (await platform.client.get(URL, params={"page_size": 100}, headers=dl(issuer, department))).json()
    assert [n["id"] for n in listed["rectification_notices"]] == [first.json()["id"]]


async def test_validation_names_fields_and_creates_nothing(platform, issuer):
    department = org()
    bad = notice_body("nobody", source="not a name", source_type="inspection_finding",
                      deadline_date=(today_cst() - timedelta(days=1)).isoformat(), required_action=" ")
    problem = assert_problem(await platform.client.post(URL, json=bad, headers=dl(issuer, department)), 400)
    assert sorted(v["field"] for v in problem["violations"]) == [
        "rectification_notice.deadline_date", "rectification_notice.employer", "rectification_notice.law",
        "rectification_notice.required_action", "rectification_notice.source"], problem
    problem = assert_problem(await platform.client.post(URL, json=notice_body(org(), deadline_date="2026-02-30"),
                                                        headers=dl(issuer, department)), 400)
    assert [v["field"] for v in problem["violations"]] == ["rectification_notice.deadline_date"]
    listed = (await platform.client.get(URL, headers=dl(issuer, department))).json()
    assert listed["rectification_notices"] == []


async def test_who_sees_a_notice(platform, issuer):
    department, employer = org(), org()
    notice = await issue(platform, issuer, department, employer)
    url = f"{URL}/{notice['id']}"
    for headers in (dl(issuer, department), eo(issuer, employer), po(issuer)):
        assert (await platform.client.get(url, headers=headers)).status_code == 200
    for headers in (dl(issuer, org()), eo(issuer, org()), po(issuer, "110000"),
                    dl(issuer, department, tenant="110000"), eo(issuer, employer, tenant="110000")):
        assert_problem(await platform.client.get(url, headers=headers), 404)
        listed = (await platform.client.get(URL, params={"page_size": 100}, headers=headers)).json()
        assert notice["id"] not in [n["id"] for n in listed["rectification_notices"]]
    assert_problem(await platform.client.get(url, headers=bearer(issuer, tenant="100000",
                                                                 roles=("ministry_operator",))), 403)
    # The employer responds; the issuing side may not, and the employer may not verify.
    assert_problem(await platform.client.post(f"{url}/respond", json={"response": "x"},
                                              headers=dl(issuer, department)), 403)
    assert_problem(await platform.client.post(f"{url}/verify", json={}, headers=eo(issuer, employer)), 403)
    # Another department of the tenant cannot act on it: 404, unchanged.
    assert_problem(await platform.client.post(f"{url}/escalate", json={}, headers=dl(issuer, org())), 404)
    state_filter = (await platform.client.get(URL, params={"state": "closed"}, headers=dl(issuer, department))).json()
    assert state_filter["rectification_notices"] == []


async def test_evidence_upload_download_checksum_and_other_tenant(platform, issuer):
    department, employer = org(), org()
    notice = await issue(platform, issuer, department, employer)
    content = b"%PDF-1.4 evidence of the guardrails"
    evidence_id = await upload(platform, issuer, notice["id"], employer, content)
    url = f"{URL}/{notice['id']}"

    missing = await platform.client.post(f"{url}/evidence-uploads",
                                         json={"file_name": "never.pdf", "content_type": "application/pdf"},
                                         headers=eo(issuer, employer))
    problem = assert_problem(await platform.client.post(
        f"{url}/respond", json={"response": "done", "evidence": [missing.json()["evidence"]["id"]]},
        headers=eo(issuer, employer)), 400)
    assert [v["field"] for v in problem["violations"]] == ["evidence[0]"]
    assert (await platform.client.get(url, headers=po(issuer))).json()["state"] == "issued"

    responded = await platform.client.post(f"{url}/respond", json={"response": "done", "evidence": [evidence_id]},
                                           headers=eo(issuer, employer))
    assert responded.status_code == 200, responded.text
    attached = next(e for e in responded.json()["evidence"] if e["id"] == evidence_id)
    assert attached["sha256"] == hashlib.sha256(content).hexdigest() and attached["size_bytes"] == len(content)

    download = f"{url}/evidence/{evidence_id}/download"
    for headers in (dl(issuer, department), eo(issuer, employer), po(issuer)):
        got = await platform.client.get(download, headers=headers)
        assert got.status_code == 200, got.text
        link = urlsplit(got.json()["download_url"])
        fetched = await platform.client.get(f"{link.path}?{link.query}")
        assert fetched.status_code == 200 and fetched.content == content
    for headers in (po(issuer, "110000"), eo(issuer, employer, tenant="110000"), eo(issuer, org())):
        assert_problem(await platform.client.get(download, headers=headers), 404)
    # Bad file names and content types name their field.
    for body, field in (({"file_name": "../x", "content_type": "application/pdf"}, "file_name"),
                        ({"file_name": "x.html", "content_type": "text/html"}, "content_type")):
        problem = assert_problem(await platform.client.post(f"{URL}/{notice['id']}/evidence-uploads", json=body,
                                                            headers=eo(issuer, employer)), 400)
        assert [v["field"] for v in problem["violations"]] == [field]


async def test_cst_deadline_edges(platform, issuer):
    """Due at the end of the CST deadline day: not overdue at 23:59:59 CST, overdue at 00:00 CST."""
    department, employer = org(), org()
    notice = await issue(platform, issuer, department, employer)
    deadline = notice["deadline_date"]
    assert notice["due_time"].startswith(
        (datetime.fromisoformat(deadline) .replace(tzinfo=UTC) + timedelta(hours=15, minutes=59, seconds=59))
        .strftime("%Y-%m-%dT%H:%M:%S"))

    day = today_cst() - timedelta(days=3)
    notice_id = await raise_notice_at(platform, now=cst(day - timedelta(days=10), 9), department=department,
                                      employer=employer, deadline=day)
    async with Runner(platform, issuer) as runner:
        await runner.job(cst(day, 23, 59, 59))
        got = (await platform.client.get(f"{URL}/{notice_id}", headers=po(issuer))).json()
        assert got["state"] == "issued"
        await runner.job(cst(day + timedelta(days=1)))
    got = (await platform.client.get(f"{URL}/{notice_id}", headers=po(issuer))).json()
    assert got["state"] == "escalated"
    assert got["transitions"][-1]["actor"] == "sharing-scheduler"


async def test_overdue_escalation_exactly_once_and_the_employer_is_notified(platform, issuer, tmp_path):
    """Acceptance (issue 4): with an injected clock, a notice past its deadline is escalated exactly
    once however often the job runs, also with two runners at once; the employer's officer and the
    issuing department's liaison each get one notification in their identity inbox."""
    employer = await create_organisation(platform, issuer, TENANT, "employer")
    department = await create_organisation(platform, issuer, TENANT, "department")
    officer = await create_user(platform, issuer, TENANT, "employer_officer", employer)
    liaison = await create_user(platform, issuer, TENANT, "department_liaison", department)
    deadline = today_cst() - timedelta(days=1)
    notice_id = await raise_notice_at(platform, now=cst(deadline - timedelta(days=20), 10), department=department,
                                      employer=employer, deadline=deadline)
    clock = FrozenClock(cst(deadline + timedelta(days=1), 0, 0, 1))

    async with Runner(platform, issuer) as one, Runner(platform, issuer) as two:
        # Two schedulers whose leader locks do not exclude each other (two replicas during a lease
        # handover): the database claim alone must keep it to one escalation and one announcement.
        schedulers = [Scheduler([Job("rectification", timedelta(minutes=10), runner.job)],
                                lock=LocalLock(tmp_path / f"lock-{i}"), clock=clock)
                      for i, runner in enumerate((one, two))]
        for _ in range(3):
            await asyncio.gather(*(s.run_pending() for s in schedulers))
            clock.advance(timedelta(minutes=10))
        # Two runners delivering at once may see ABORTED from identity (the same request id in
        # progress): that run fails and the next one replays, so failures are allowed, duplicates not.
        await asyncio.gather(one.job(clock.now()), two.job(clock.now()), one.job(clock.now()),
                             return_exceptions=True)

    notice = (await platform.client.get(f"{URL}/{notice_id}", headers=po(issuer))).json()
    assert notice["state"] == "escalated"
    assert [t["to_state"] for t in notice["transitions"]].count("escalated") == 1
    assert "Work Safety Law" in notice["enforcement_referral"]

    for user, headers in ((officer, eo(issuer, employer, sub=officer)), (liaison, dl(issuer, department, sub=liaison))):
        received = [n for n in await inbox(platform, headers) if n["kind"] == "RECTIFICATION_OVERDUE"]
        assert len(received) == 1, received
        assert received[0]["link"] == f"/v1/rectification-notices/{notice_id}"


async def test_reminders_three_days_and_one_day_before_exactly_once(platform, issuer):
    employer = await create_organisation(platform, issuer, TENANT, "employer")
    officer = await create_user(platform, issuer, TENANT, "employer_officer", employer)
    department = await create_organisation(platform, issuer, TENANT, "department")
    deadline = today_cst() + timedelta(days=30)
    notice_id = await raise_notice_at(platform, now=cst(today_cst(), 9), department=department,
                                      employer=employer, deadline=deadline)
    headers = eo(issuer, employer, sub=officer)

    def kinds(items):
        return sorted(n["kind"] for n in items if n["link"].endswith(notice_id))

    async with Runner(platform, issuer) as runner:
        await runner.job(cst(deadline - timedelta(days=4), 23, 59, 59))  # 4 days left: nothing yet
        assert kinds(await inbox(platform, headers)) == []
        for hour in (0, 6, 12):  # 3 days left (CST), several runs
            await runner.job(cst(deadline - timedelta(days=3), hour))
        assert kinds(await inbox(platform, headers)) == ["RECTIFICATION_DUE_IN_3_DAYS"]
        for hour in (0, 23):
            await runner.job(cst(deadline - timedelta(days=1), hour))
        await runner.job(cst(deadline, 12))
        assert kinds(await inbox(platform, headers)) == ["RECTIFICATION_DUE_IN_1_DAY", "RECTIFICATION_DUE_IN_3_DAYS"]
    got = (await platform.client.get(f"{URL}/{notice_id}", headers=po(issuer))).json()
    assert got["state"] == "issued"


async def test_without_a_service_token_the_job_fails_and_marks_nothing(platform, issuer):
    employer = await create_organisation(platform, issuer, TENANT, "employer")
    officer = await create_user(platform, issuer, TENANT, "employer_officer", employer)
    department = org()
    deadline = today_cst() - timedelta(days=1)
    notice_id = await raise_notice_at(platform, now=cst(deadline - timedelta(days=9)), department=department,
                                      employer=employer, deadline=deadline)
    now = cst(today_cst(), 8)
    async with Runner(platform, issuer, tokens=ServiceTokenStub(issuer, fail=True)) as runner:
        with pytest.raises(Unavailable):
            await runner.job(now)
    assert (await platform.client.get(f"{URL}/{notice_id}", headers=po(issuer))).json()["state"] == "issued"

    # Notify failing after the claim: escalated, but the announcement stays unsent and the job fails.
    async def broken(token, announcement):
        raise Unavailable("identity unavailable")

    async with Runner(platform, issuer, notifier=broken) as runner:
        with pytest.raises(Unavailable):
            await runner.job(now)
    assert (await platform.client.get(f"{URL}/{notice_id}", headers=po(issuer))).json()["state"] == "escalated"
    headers = eo(issuer, employer, sub=officer)
    assert [n for n in await inbox(platform, headers) if n["link"].endswith(notice_id)] == []
    # The next run (identity back) announces it, once. The issuing department here is unknown to
    # identity: that side is recorded undeliverable rather than retried forever.
    async with Runner(platform, issuer) as runner:
        for _ in range(2):
            await runner.job(now)
    received = [n for n in await inbox(platform, headers) if n["link"].endswith(notice_id)]
    assert [n["kind"] for n in received] == ["RECTIFICATION_OVERDUE"]


class FakeIssue:
    def __init__(self, *, fail: bool = False):
        self.calls, self.fail = [], fail

    async def __call__(self, **fields):
        self.calls.append(fields)
        if self.fail:
            raise RuntimeError("invalid_client")

        class Response:
            access_token = f"token-{len(self.calls)}"
            expires_in = 300
        return Response()


async def test_service_tokens_are_cached_until_near_expiry_and_fail_loudly():
    now = [1000.0]
    issue = FakeIssue()
    tokens = ServiceTokens(client_id="sharing-scheduler", client_secret="s3cret", issue=issue, monotonic=lambda: now[0])
    assert await tokens.token() == "token-1"
    now[0] += 200
    assert await tokens.token() == "token-1"  # cached
    now[0] += 41  # within 60 s of expiry: renewed
    assert await tokens.token() == "token-2"
    assert issue.calls[0] == {"grant_type": "client_credentials", "client_id": "sharing-scheduler",
                              "client_secret": "s3cret"}
    with pytest.raises(Unavailable):
        await ServiceTokens(client_id="", client_secret="", issue=issue).token()
    with pytest.raises(Unavailable):
        await ServiceTokens(client_id="c", client_secret="s", issue=FakeIssue(fail=True)).token()


async def test_demo_seed_has_a_notice_in_every_state_and_is_idempotent(db_factory):
    from services.common.context import Caller
    from services.common.db import Database
    from services.sharing import rectification
    from services.sharing.rectification_seed import _ACTIONS
    from services.sharing.seed import seed

    database = Database(await db_factory.prepared("sharing", seed=False))
    try:
        async with database.session() as session:
            first = await seed(session, demo=True)
        async with database.session() as session:
            second = await seed(session, demo=True)
        assert first["rectification_notices"] == 10 and second["rectification_notices"] == 0
        async with database.session() as session:
            caller = Caller(subject="po", tenant="110000", roles=frozenset({"provincial_operator"}))
            rows = await rectification.list_notices(session=session, caller=caller, state="", after=None, limit=500)
            # The demo hazard reports and exceedances raise notices of their own (issued); the
            # workflow demo is one notice per state, told apart by its required actions.
            rows = [r for r in rows if r.required_action in _ACTIONS.values()]
            assert sorted(r.state for r in rows) == sorted(rectification.STATES)
            escalated = next(r for r in rows if r.state == "escalated")
            transitions, _ = await rectification.history(session, escalated.id)
            assert [t.to_state for t in transitions] == ["issued", "escalated"]
            assert "Work Safety Law" in escalated.enforcement_referral
    finally:
        await database.dispose()


async def test_the_seeded_service_client_gets_a_token_from_the_embedded_issuer(platform, tmp_path):
    """`prevention seed` registers the services' clients (sharing and assessment); the sharing service
    logs in with the secret it finds in the data directory (client_credentials) and gets a
    tenant-100000 liaison token."""
    import grpc
    import jwt
    from prevention.identity.v1 import identity_pb2_grpc

    from services.common.db import Database
    from services.common.service_clients import service_client_id, service_client_secret
    from services.identity.seed import seed as identity_seed
    from services.sharing.rectification_jobs import identity_token_issuer

    settings = platform.settings.model_copy(update={"data_dir": tmp_path})
    database = Database(platform.urls["identity"])
    try:
        for _ in range(2):  # idempotent
            async with database.session() as session:
                assert (await identity_seed(session, settings=settings))["service_clients"] == 2
    finally:
        await database.dispose()
    for service in ("sharing", "assessment"):
        assert oct((tmp_path / f"service-client-{service}.secret").stat().st_mode & 0o777) == "0o600"

    async with grpc.aio.insecure_channel(platform.addresses["identity"]) as channel:
        issue = identity_token_issuer(identity_pb2_grpc.IdentityServiceStub(channel))
        tokens = ServiceTokens(client_id=service_client_id("sharing"),
                               client_secret=service_client_secret(tmp_path, "sharing"), issue=issue)
        token = await tokens.token()
        assert await tokens.token() == token  # cached
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["tenant"] == "100000" and claims["realm_access"]["roles"] == ["department_liaison"]
        assert claims["azp"] == "sharing-service"
        with pytest.raises(Unavailable):
            await ServiceTokens(client_id="sharing-service", client_secret="wrong", issue=issue).token()


async def test_list_pages_newest_first_and_filters_by_state(platform, issuer):
    department, employer = org(), org()
    ids = [(await issue(platform, issuer, department, employer))["id"] for _ in range(3)]
    headers = dl(issuer, department)
    first = (await platform.client.get(URL, params={"page_size": 2}, headers=headers)).json()
    assert [n["id"] for n in first["rectification_notices"]] == ids[::-1][:2] and first["next_page_token"]
    second = (await platform.client.get(URL, params={"page_size": 2, "page_token": first["next_page_token"]},
                                        headers=headers)).json()
    assert [n["id"] for n in second["rectification_notices"]] == [ids[0]] and not second["next_page_token"]
    await platform.client.post(f"{URL}/{ids[1]}/respond", json={"response": "done"}, headers=eo(issuer, employer))
    responded = (await platform.client.get(URL, params={"state": "responded"}, headers=headers)).json()
    assert [n["id"] for n in responded["rectification_notices"]] == [ids[1]]
    # A page token is bound to its filter.
    assert_problem(await platform.client.get(URL, params={"page_size": 2, "page_token": first["next_page_token"],
                                                          "state": "issued"}, headers=headers), 400)


async def test_new_tables_have_forced_row_level_security_on_postgresql(platform):
    from sqlalchemy import text

    from services.common.db import Database

    database = Database(platform.urls["sharing"])
    try:
        if database.url.get_backend_name() != "postgresql":
            pytest.skip("row-level security is PostgreSQL's")
        async with database.session() as session:
            rows = (await session.execute(text(
                "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname IN "
                "('rectification_notices', 'rectification_transitions', 'rectification_evidence', "
                "'rectification_dispatches', 'joint_inspections')"))).all()
    finally:
        await database.dispose()
    assert len(rows) == 5 and all(r.relrowsecurity and r.relforcerowsecurity for r in rows), rows
