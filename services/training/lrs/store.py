"""The statement store: writes (replay vs conflict by statement id, voiding, the completions
seam) and the xAPI queries. Plain functions with keyword-only arguments; the caller owns the
transaction."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.common.context import PROVINCIAL_OPERATOR, Caller
from services.common.errors import InvalidArgument
from services.common.tenancy import visible_to
from services.training import completions
from services.training.lrs import statements as st
from services.training.lrs.models import LearningStatement

STORED, REPLAYED, CONFLICT, INVALID = "stored", "replayed", "conflict", "invalid"
MAX_LIMIT = 500


def writer_of(caller: Caller) -> str:
    """Platforms write as their API client; anyone else as their subject."""
    return caller.client_id if "training_platform" in caller.roles and caller.client_id else caller.subject


def authority_of(caller: Caller) -> dict:
    return {"objectType": "Agent",
            "account": {"homePage": "urn:prevention:api-client", "name": writer_of(caller)}}


@dataclass
class Outcome:
    status: str
    statement_id: str
    reason: str = ""
    message: str = ""
    fields: tuple[str, ...] = ()


async def write(session: AsyncSession, *, caller: Caller, prepared: list[st.Prepared]) -> list[Outcome]:
    """Stores what is new; a statement id already stored with the same content is a replay, with
    different content a conflict (nothing of that record is written)."""
    tenant, writer = caller.tenant, writer_of(caller)
    ids = list({p.statement_id for p in prepared})
    existing: dict[str, tuple[str, str]] = {}
    for start in range(0, len(ids), 500):
        rows = await session.execute(
            select(LearningStatement.statement_id, LearningStatement.content_hash, LearningStatement.voids)
            .where(LearningStatement.tenant_code == tenant, LearningStatement.statement_id.in_(ids[start:start + 500]))
        )
        existing.update({r[0]: (r[1], r[2]) for r in rows})
    outcomes: list[Outcome] = []
    new_rows: list[dict] = []
    for p in prepared:
        seen = existing.get(p.statement_id)
        if seen is not None:
            status = REPLAYED if seen[0] == p.content_hash else CONFLICT
            outcomes.append(Outcome(status, p.statement_id, *(
                ("STATEMENT_CONFLICT", "a different statement with this id is already stored")
                if status == CONFLICT else ())))
            continue
        existing[p.statement_id] = (p.content_hash, p.voids)
        outcomes.append(Outcome(STORED, p.statement_id))
        new_rows.append(dict(
            tenant_code=tenant, statement_id=p.statement_id, stored=_stored(p), timestamp=p.timestamp,
            actor_key=p.actor_key, verb_id=p.verb_id[:1024], activity_id=p.activity_id[:1024],
            registration=p.registration, voided=False, voids=p.voids, ref_id=p.ref_id, writer=writer,
            agent_keys=p.agent_keys,
            related_agent_keys=p.related_agent_keys, related_activity_ids=p.related_activity_ids,
            content_hash=p.content_hash, statement_json=st.canonical_json(p.statement),
        ))
    voiding = [r for r in new_rows if r["voids"]]
    if voiding:
        targets = {r["voids"] for r in voiding}
        voiders = (await session.scalars(select(LearningStatement.statement_id).where(
            LearningStatement.tenant_code == tenant, LearningStatement.statement_id.in_(targets),
            LearningStatement.voids != ""))).all()
        in_batch = {r["statement_id"] for r in voiding}
        if set(voiders) or targets & in_batch:
            raise InvalidArgument.field("statement.object.id", "a voiding statement cannot void another voiding "
                                        "statement")
    if new_rows:
        await session.execute(insert(LearningStatement), new_rows)
    for row in voiding:
        await session.execute(update(LearningStatement).where(
            LearningStatement.tenant_code == tenant, LearningStatement.statement_id == row["voids"],
        ).values(voided=True))
        await completions.void_statement(session, tenant_code=tenant, statement_id=row["voids"])
    by_id = {p.statement_id: p for p in prepared}
    for row in new_rows:
        if row["verb_id"] in completions.TRAINED_VERBS and row["actor_key"].startswith("account:"):
            account = by_id[row["statement_id"]].statement["actor"]["account"]
            await completions.record_statement(
                session, tenant_code=tenant, statement_id=row["statement_id"], verb=row["verb_id"],
                activity_id=row["activity_id"], account_home_page=account["homePage"],
                account_name=account["name"], timestamp=row["timestamp"])
    return outcomes


def _stored(p: st.Prepared) -> datetime:
    return st.parse_timestamp(p.statement["stored"])


# --- reads -----------------------------------------------------------------------------------
def _visible(caller: Caller):
    if caller.is_ministry:
        return visible_to(LearningStatement.tenant_code, caller)
    if PROVINCIAL_OPERATOR in caller.roles:
        return visible_to(LearningStatement.tenant_code, caller)
    return and_(LearningStatement.tenant_code == caller.tenant, LearningStatement.writer == writer_of(caller))


async def get_one(session: AsyncSession, *, caller: Caller, statement_id: str,
                  voided: bool) -> LearningStatement | None:
    row = (await session.scalars(select(LearningStatement).where(
        _visible(caller), LearningStatement.statement_id == statement_id.lower()))).first()
    if row is None or row.voided != voided:
        return None
    return row


@dataclass
class Query:
    agent: str = ""
    verb: str = ""
    activity: str = ""
    registration: str = ""
    related_activities: bool = False
    related_agents: bool = False
    since: str = ""
    until: str = ""
    limit: int = 0
    format: str = "exact"
    attachments: bool = False
    ascending: bool = False

    def encode(self, after: tuple[str, int]) -> str:
        payload = {**self.__dict__, "after": list(after)}
        return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> tuple[Query, tuple[str, int]]:
        try:
            payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            after = payload.pop("after")
            query = cls(**payload)
            return query, (str(after[0]), int(after[1]))
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            raise InvalidArgument.field("more", "is not a cursor this LRS issued") from None


def parse_agent(value: str) -> str:
    try:
        agent = json.loads(value)
        st.validate({"actor": agent, "verb": {"id": "urn:x:v"}, "object": {"id": "urn:x:o"}}, path="q")
    except (ValueError, InvalidArgument):
        raise InvalidArgument.field("agent", "must be an Agent or identified Group as JSON") from None
    key = st.agent_key(agent)
    if not key:
        raise InvalidArgument.field("agent", "must carry an inverse functional identifier")
    return key


async def query(session: AsyncSession, *, caller: Caller, q: Query,
                after: tuple[str, int] | None) -> tuple[list[LearningStatement], tuple[str, int] | None]:
    conditions = [_visible(caller), LearningStatement.voided.is_(False)]
    filters = _filters(LearningStatement, q)
    if filters:
        # xAPI: a statement that targets (StatementRef) a matching statement matches too.
        target = aliased(LearningStatement)
        targets = select(target.statement_id).where(target.tenant_code == LearningStatement.tenant_code,
                                                    *_filters(target, q))
        conditions.append(or_(and_(*filters), LearningStatement.ref_id.in_(targets)))
    for name, op in (("since", "gt"), ("until", "le")):
        value = getattr(q, name)
        if value:
            moment = st.parse_timestamp(value)
            if moment is None:
                raise InvalidArgument.field(name, "must be an ISO 8601 timestamp")
            conditions.append(getattr(LearningStatement.stored, f"__{op}__")(moment))
    if after is not None:
        moment = st.parse_timestamp(after[0])
        if moment is None:
            raise InvalidArgument.field("more", "is not a cursor this LRS issued")
        if q.ascending:
            conditions.append(or_(LearningStatement.stored > moment,
                                  and_(LearningStatement.stored == moment, LearningStatement.seq > after[1])))
        else:
            conditions.append(or_(LearningStatement.stored < moment,
                                  and_(LearningStatement.stored == moment, LearningStatement.seq < after[1])))
    limit = MAX_LIMIT if q.limit <= 0 else min(q.limit, MAX_LIMIT)
    order = (LearningStatement.stored.asc(), LearningStatement.seq.asc()) if q.ascending else (
        LearningStatement.stored.desc(), LearningStatement.seq.desc())
    rows = list((await session.scalars(select(LearningStatement).where(*conditions).order_by(*order)
                                       .limit(limit + 1))).all())
    if len(rows) > limit:
        last = rows[limit - 1]
        return rows[:limit], (st.iso(last.stored), last.seq)
    return rows, None


def _filters(entity, q: Query) -> list:
    filters: list = []
    if q.agent:
        key = f"%|{_escape(parse_agent(q.agent))}|%"
        column = entity.related_agent_keys if q.related_agents else entity.agent_keys
        filters.append(column.like(key, escape="\\"))
    if q.verb:
        filters.append(entity.verb_id == q.verb)
    if q.activity:
        if q.related_activities:
            filters.append(entity.related_activity_ids.like(f"%|{_escape(q.activity)}|%", escape="\\"))
        else:
            filters.append(entity.activity_id == q.activity)
    if q.registration:
        filters.append(entity.registration == q.registration.lower())
    return filters


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
