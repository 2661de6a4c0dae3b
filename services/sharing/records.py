"""Shared accident records (SPEC SH-1, SH-3): validation, publishing, correction, voiding and
the read scope of each role (SPEC 7.3). Domain functions only: no gRPC here.

Decisions:
- Publishing is idempotent by ``publisher_record_id`` (unique per publisher tenant): the same id
  with the same content replays the stored record; the same id with different content is
  ALREADY_EXISTS (reason PUBLISHER_RECORD_ID_EXISTS) and changes nothing. Content is compared
  with what was first published (``create_hash``), so a retry after a correction still replays.
- Only the publisher corrects or voids: a provincial operator any record of its tenant subtree,
  a department liaison the records its organisation published. Voiding is final and repeatable.
- Reads: ministry all; provincial operator its subtree; employer officer its employer's records;
  department liaison its own organisation's records fully, and others only through an active,
  in-date agreement naming its organisation as consumer, with the granted fields only.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

from sqlalchemy import and_, false, insert, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.common.clock import cst_date
from services.common.context import MINISTRY_OPERATOR, PROVINCIAL_OPERATOR, Caller
from services.common.errors import (
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    FieldViolation,
    InvalidArgument,
    NotFound,
)
from services.common.tenancy import visible_to
from services.common.validators import validate_industry_code
from services.sharing import changes, exchange_log
from services.sharing.models import Accident

DEPARTMENT_LIAISON = "department_liaison"
EMPLOYER_OFFICER = "employer_officer"

SEVERITIES = ("minor", "serious", "fatal")
# GB 6441-1986 "Classification for casualty accidents of enterprise staff and workers": the 20
# accident categories, as lower_snake labels.
ACCIDENT_TYPES = (
    "object_strike", "vehicle_injury", "machinery_injury", "lifting_injury", "electric_shock",
    "drowning", "burn_scald", "fire", "fall_from_height", "collapse", "roof_fall", "water_inrush",
    "blasting", "gas_explosion", "explosive_explosion", "boiler_explosion", "vessel_explosion",
    "other_explosion", "poisoning_asphyxiation", "other_injury",
)
# The record's data fields: what a sharing agreement may grant.
ACCIDENT_FIELDS = (
    "publisher_record_id", "occurred_at", "employer", "industry_code", "severity", "accident_type",
    "persons_injured", "fatalities", "days_lost", "description",
)
RECORD_FIELDS = {"accidents": ACCIDENT_FIELDS}

ORGANISATION_NAME = re.compile(r"^organisations/[A-Za-z0-9_-]{1,64}$")
PUBLISHER_RECORD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")
INDUSTRY_PREFIX = re.compile(r"^[A-T][0-9]{0,4}$")
_ACCIDENT_NAME = re.compile(r"^accidents/([0-9a-f]{32})$")
MAX_COUNT = 100_000
MAX_DESCRIPTION = 10_000


@dataclass(frozen=True)
class AccidentData:
    """An accident as a publisher sends it (raw: validated by ``validate_accident``)."""

    publisher_record_id: str
    occurred_at: str
    employer: str
    industry_code: str
    severity: str
    accident_type: str
    persons_injured: int
    fatalities: int
    days_lost: int
    description: str


def organisation_name(organisation: str) -> str:
    """Tokens carry the bare organisation id; records name it ``organisations/{id}``."""
    if not organisation:
        return ""
    return organisation if organisation.startswith("organisations/") else f"organisations/{organisation}"


def today_cst() -> date:
    return cst_date(datetime.now(UTC))


def parse_date(value: str, field: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidArgument.field(field, "must be a date YYYY-MM-DD") from None


def validate_accident(data: AccidentData, *, prefix: str = "accident", require_record_id: bool = True) -> dict:
    """The accident's column values, normalised; every violation at once (NF-3)."""
    violations: list[FieldViolation] = []
    values: dict = {}

    def check(field: str, action):
        try:
            values[field] = action()
        except InvalidArgument as error:
            violations.extend(FieldViolation(f"{prefix}.{v.field}", v.description) for v in error.violations)

    if require_record_id:
        if not PUBLISHER_RECORD_ID.match(data.publisher_record_id or ""):
            violations.append(FieldViolation(
                f"{prefix}.publisher_record_id",
                "is required: 1-64 characters, letters, digits and . _ : / - (starting with a letter or digit)"))
        values["publisher_record_id"] = data.publisher_record_id

    def occurred() -> date:
        day = parse_date(data.occurred_at, "occurred_at")
        if day > today_cst():
            raise InvalidArgument.field("occurred_at", "must not be in the future (China Standard Time)")
        return day

    check("occurred_at", occurred)
    if not ORGANISATION_NAME.match(data.employer or ""):
        violations.append(FieldViolation(f"{prefix}.employer", "must be organisations/{id}"))
    values["employer"] = data.employer
    check("industry_code", lambda: validate_industry_code(data.industry_code, "industry_code"))
    if data.severity not in SEVERITIES:
        violations.append(FieldViolation(f"{prefix}.severity", f"must be one of {', '.join(SEVERITIES)}"))
    values["severity"] = data.severity
    if data.accident_type not in ACCIDENT_TYPES:
        violations.append(FieldViolation(f"{prefix}.accident_type",
                                          "must be a GB 6441-1986 category: " + ", ".join(ACCIDENT_TYPES)))
    values["accident_type"] = data.accident_type
    for field in ("persons_injured", "fatalities", "days_lost"):
        count = getattr(data, field)
        if not 0 <= count <= MAX_COUNT:
            violations.append(FieldViolation(f"{prefix}.{field}", f"must be between 0 and {MAX_COUNT}"))
        values[field] = count
    if data.severity == "fatal" and data.fatalities < 1:
        violations.append(FieldViolation(f"{prefix}.fatalities", "must be at least 1 for a fatal accident"))
    if data.severity != "fatal" and data.fatalities > 0:
        violations.append(FieldViolation(f"{prefix}.severity", "must be fatal when fatalities is above 0"))
    if len(data.description) > MAX_DESCRIPTION:
        violations.append(FieldViolation(f"{prefix}.description", f"must be at most {MAX_DESCRIPTION} characters"))
    values["description"] = data.description
    if violations:
        raise InvalidArgument(violations)
    return values


def content_hash(values: dict) -> str:
    return hashlib.sha256(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()


# -- record types: one descriptor per SH-1 type drives publishing, correcting, voiding and reading --


@dataclass(frozen=True)
class RecordType:
    """What the generic record functions need to know about one SH-1 record type.

    ``validate(data, prefix, require_record_id)`` takes the raw data (a dict of the input fields
    plus ``publisher_record_id``) and returns the column values (computed ones included) or raises
    InvalidArgument naming every bad field as ``{prefix}.{field}``."""

    name: str  # "accidents": resource collection, exchange-log and change-hook record_type
    singular: str  # "accident": the request field and the violation prefix
    label: str  # "accident": in NOT_FOUND messages
    model: type
    fields: tuple[str, ...]  # data fields: what an agreement may grant, what a snapshot holds
    inputs: tuple[str, ...]  # what a publisher sends (``fields`` minus computed ones)
    validate: Callable[[dict, str, bool], dict]
    date_field: str  # ordering (newest first) and the from/to filters
    filter_prefix: str  # "occurred": the filters are occurred_from / occurred_to
    enum_filter: str  # one enumerated field a list may filter on
    enum_values: tuple[str, ...]


def _validate_accident(data: dict, prefix: str, require_record_id: bool) -> dict:
    return validate_accident(AccidentData(**{"publisher_record_id": "", **data}), prefix=prefix,
                             require_record_id=require_record_id)


ACCIDENTS = RecordType(
    name="accidents", singular="accident", label="accident", model=Accident, fields=ACCIDENT_FIELDS,
    inputs=tuple(f for f in ACCIDENT_FIELDS if f != "publisher_record_id"), validate=_validate_accident,
    date_field="occurred_at", filter_prefix="occurred", enum_filter="severity", enum_values=SEVERITIES,
)


async def _log(session: AsyncSession, caller: Caller, action: str, ids: list[str],
               record_type: str = "accidents") -> None:
    """The exchange-log entry of this publish or read (SPEC SH-4), in the same transaction;
    raises Unavailable when the log cannot be written, so nothing is served or written."""
    await exchange_log.append(session, exchange_log.Entry(
        tenant_code=caller.tenant, actor=caller.subject, action=action, record_type=record_type,
        record_ids=tuple(ids)))


def parse_record_name(kind: RecordType, name: str) -> str:
    match = re.match(rf"^{re.escape(collection(kind))}/([0-9a-f]{{32}})$", name or "")
    if not match:
        raise InvalidArgument.field("name", f"must be {collection(kind)}/{{id}}")
    return match.group(1)


def collection(kind: RecordType) -> str:
    """The resource collection in names: accidents, diseaseCases, recognitions, hazardReports..."""
    head, *rest = kind.name.split("_")
    return head + "".join(part.title() for part in rest)


def parse_accident_name(name: str) -> str:
    match = _ACCIDENT_NAME.match(name or "")
    if not match:
        raise InvalidArgument.field("name", "must be accidents/{id}")
    return match.group(1)


async def create_record(*, session: AsyncSession, caller: Caller, kind: RecordType, data: dict) -> tuple[object, bool]:
    """Returns the record and whether it was created (False: a replay of the same content)."""
    values = kind.validate(data, kind.singular, True)
    digest = content_hash(values)
    model = kind.model
    existing = (await session.scalars(select(model).where(
        model.tenant_code == caller.tenant, model.publisher_record_id == values["publisher_record_id"],
    ))).first()
    if existing is not None:
        if existing.create_hash == digest:
            await _log(session, caller, "publish", [existing.id], kind.name)
            return existing, False
        raise _published_differently(kind, existing)
    row = _new_record(kind, caller, values, digest, datetime.now(UTC))
    session.add(row)
    await session.flush()
    await changes.record_changed(session, record_type=kind.name, kind="published", record_id=row.id,
                                 before=None, after=changes.snapshot(row, kind.fields))
    await _log(session, caller, "publish", [row.id], kind.name)
    await _raise_rectification(session, caller, kind, row)
    return row, True


# Days an employer has to rectify what a published record shows (SPEC SH-5), from the day of
# publishing in China Standard Time; the issuer may set another deadline on a notice it issues itself.
RECTIFICATION_DAYS = 30


async def _raise_rectification(session: AsyncSession, caller: Caller, kind: RecordType, row) -> None:
    """A hazard report, or a measurement over its limit, raises a rectification notice to the
    employer in the same transaction (SPEC SH-5); the notice cites the law for its source type."""
    from services.sharing import rectification  # rectification imports this module

    if kind.name == "hazard_reports":
        source_type, action = rectification.HAZARD_REPORT, f"Eliminate the reported {row.level} hazard ({row.category})"
    elif kind.name == "measurements" and row.exceedance:
        source_type = rectification.MEASUREMENT_EXCEEDANCE
        action = f"Bring {row.factor} below its occupational exposure limit ({row.limit_value} {row.unit})"
    else:
        return
    now = datetime.now(UTC)
    await rectification.raise_notice(
        session, caller, source=f"{collection(kind)}/{row.id}", source_type=source_type, employer=row.employer,
        required_action=action, deadline_date=cst_date(now) + timedelta(days=RECTIFICATION_DAYS), now=now)


def _published_differently(kind: RecordType, existing) -> AlreadyExists:
    return AlreadyExists("publisher_record_id was already published with different content; "
                         "correct the record instead", reason="PUBLISHER_RECORD_ID_EXISTS",
                         metadata={"name": f"{collection(kind)}/{existing.id}"})


def _new_values(caller: Caller, values: dict, digest: str, now: datetime) -> dict:
    """A new record's column values: the validated data and the publisher's bookkeeping."""
    return dict(id=uuid.uuid4().hex, tenant_code=caller.tenant,
                publisher_organisation=organisation_name(caller.organisation), create_hash=digest, version=1,
                status="active", void_reason="", create_time=now, update_time=now,
                created_by=caller.subject, updated_by=caller.subject, **values)


def _new_record(kind: RecordType, caller: Caller, values: dict, digest: str, now: datetime):
    return kind.model(**_new_values(caller, values, digest, now))


@dataclass(frozen=True)
class BatchOutcome:
    """One record of a bulk-publish batch: the stored row (created or replayed; a created one as
    the values inserted) or the error."""

    row: Accident | SimpleNamespace | None = None
    created: bool = False
    error: DomainError | None = None


async def create_accidents_batch(*, session: AsyncSession, caller: Caller,
                                 items: list[AccidentData]) -> list[BatchOutcome]:
    """A bulk-publish batch of accidents in the caller's transaction (``create_records_batch``)."""
    return await _create_batch(session, caller, ACCIDENTS,
                               [lambda data=data: validate_accident(data) for data in items])


async def create_records_batch(*, session: AsyncSession, caller: Caller, kind: RecordType,
                               items: list[dict]) -> list[BatchOutcome]:
    """Records of one type published together in the caller's transaction (the demo seed, imports)."""
    return await _create_batch(session, caller, kind,
                               [lambda data=data: kind.validate(data, kind.singular, True) for data in items])


async def _create_batch(session: AsyncSession, caller: Caller, kind: RecordType,
                        validators: list[Callable[[], dict]]) -> list[BatchOutcome]:
    """The same rules as ``create_record`` per record (a later duplicate of a record id in the same
    batch replays or conflicts with the first), with one lookup of the existing ids, one insert,
    one change-feed write and one exchange-log entry for the whole batch. A concurrent publisher of
    the same record ids makes the insert fail with IntegrityError; the caller then publishes the
    batch record by record."""
    outcomes: list[BatchOutcome | None] = [None] * len(validators)
    valid: dict[int, tuple[dict, str]] = {}
    for index, validate in enumerate(validators):
        try:
            values = validate()
        except InvalidArgument as error:
            outcomes[index] = BatchOutcome(error=error)
            continue
        valid[index] = (values, content_hash(values))
    model = kind.model
    record_ids = {values["publisher_record_id"] for values, _ in valid.values()}
    known: dict[str, object] = {}
    if record_ids:
        known = {row.publisher_record_id: row for row in (await session.scalars(select(model).where(
            model.tenant_code == caller.tenant, model.publisher_record_id.in_(record_ids)))).all()}
    now = datetime.now(UTC)
    new_rows: list[SimpleNamespace] = []
    for index, (values, digest) in valid.items():
        row = known.get(values["publisher_record_id"])
        if row is None:
            row = known[values["publisher_record_id"]] = SimpleNamespace(
                **_new_values(caller, values, digest, now))
            new_rows.append(row)
            outcomes[index] = BatchOutcome(row=row, created=True)
        elif row.create_hash == digest:
            outcomes[index] = BatchOutcome(row=row)
        else:
            outcomes[index] = BatchOutcome(error=_published_differently(kind, row))
    if new_rows:  # one executemany, not the unit of work's per-object flush
        await session.execute(insert(model), [vars(row) for row in new_rows])
    await changes.records_changed(session, record_type=kind.name, kind="published",
                                  items=[(row.id, None, changes.snapshot(row, kind.fields)) for row in new_rows])
    stored = [outcome.row.id for outcome in outcomes if outcome is not None and outcome.row is not None]
    if stored:
        await _log(session, caller, "publish", stored, kind.name)
    for row in new_rows:
        await _raise_rectification(session, caller, kind, row)
    return [outcome or BatchOutcome() for outcome in outcomes]


async def _writable(session: AsyncSession, caller: Caller, kind: RecordType, record_id: str):
    """The record if the caller is its publisher (else NOT_FOUND, as for an unknown id)."""
    model = kind.model
    query = select(model).where(model.id == record_id, visible_to(model.tenant_code, caller))
    if PROVINCIAL_OPERATOR not in caller.roles:
        org = organisation_name(caller.organisation)
        query = query.where(model.publisher_organisation == org) if org else query.where(false())
    row = (await session.scalars(query.with_for_update())).first()
    if row is None:
        raise NotFound(f"{kind.label} {record_id} not found")
    return row


async def correct_record(*, session: AsyncSession, caller: Caller, kind: RecordType, record_id: str, data: dict):
    values = kind.validate(data, kind.singular, False)
    values.pop("publisher_record_id", None)
    row = await _writable(session, caller, kind, record_id)
    if row.status != "active":
        raise FailedPrecondition(f"a voided {kind.label} cannot be corrected", reason="RECORD_VOIDED")
    before = changes.snapshot(row, kind.fields)
    for field, value in values.items():
        setattr(row, field, value)
    row.version += 1
    row.update_time = datetime.now(UTC)
    row.updated_by = caller.subject
    await session.flush()
    await changes.record_changed(session, record_type=kind.name, kind="corrected", record_id=row.id,
                                 before=before, after=changes.snapshot(row, kind.fields))
    await _log(session, caller, "correct", [row.id], kind.name)
    return row


async def void_record(*, session: AsyncSession, caller: Caller, kind: RecordType, record_id: str, reason: str):
    if len(reason) > MAX_DESCRIPTION:
        raise InvalidArgument.field("reason", f"must be at most {MAX_DESCRIPTION} characters")
    row = await _writable(session, caller, kind, record_id)
    if row.status == "voided":
        await _log(session, caller, "void", [row.id], kind.name)
        return row  # voiding is final and repeatable
    before = changes.snapshot(row, kind.fields)
    row.status = "voided"
    row.void_reason = reason
    row.version += 1
    row.update_time = datetime.now(UTC)
    row.updated_by = caller.subject
    await session.flush()
    await changes.record_changed(session, record_type=kind.name, kind="voided", record_id=row.id,
                                 before=before, after=changes.snapshot(row, kind.fields))
    await _log(session, caller, "void", [row.id], kind.name)
    return row


async def create_accident(*, session: AsyncSession, caller: Caller, data: AccidentData) -> tuple[Accident, bool]:
    """Returns the record and whether it was created (False: a replay of the same content)."""
    return await create_record(session=session, caller=caller, kind=ACCIDENTS, data=asdict(data))


async def correct_accident(*, session: AsyncSession, caller: Caller, accident_id: str,
                           data: AccidentData) -> Accident:
    return await correct_record(session=session, caller=caller, kind=ACCIDENTS, record_id=accident_id,
                                data=asdict(data))


async def void_accident(*, session: AsyncSession, caller: Caller, accident_id: str, reason: str) -> Accident:
    return await void_record(session=session, caller=caller, kind=ACCIDENTS, record_id=accident_id, reason=reason)


# -- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadScope:
    """Which records a caller reads and, per record, which fields (None: all)."""

    condition: object
    # (tenant prefix an agreement covers, fields it grants), for department liaisons.
    grants: tuple[tuple[str, frozenset[str]], ...] = ()
    own_organisation: str = ""
    full: bool = True
    fields: tuple[str, ...] = ACCIDENT_FIELDS

    def fields_for(self, row) -> tuple[str, ...]:
        if self.full or (self.own_organisation and row.publisher_organisation == self.own_organisation):
            return self.fields
        granted: set[str] = set()
        for prefix, fields in self.grants:
            if row.tenant_code.startswith(prefix):
                granted |= fields
        return tuple(f for f in self.fields if f in granted)


async def read_scope(*, session: AsyncSession, caller: Caller, kind: RecordType = ACCIDENTS) -> ReadScope:
    from services.sharing.agreements import active_grants  # agreements imports this module

    model = kind.model
    tenant = visible_to(model.tenant_code, caller)
    if MINISTRY_OPERATOR in caller.roles or PROVINCIAL_OPERATOR in caller.roles:
        return ReadScope(condition=tenant, fields=kind.fields)
    org = organisation_name(caller.organisation)
    if DEPARTMENT_LIAISON in caller.roles and org:
        grants = await active_grants(session=session, caller=caller, record_type=kind.name)
        covered = [model.tenant_code.startswith(prefix, autoescape=True) if prefix else model.tenant_code != ""
                   for prefix, _ in grants]
        return ReadScope(condition=and_(tenant, or_(model.publisher_organisation == org, *covered)),
                         grants=tuple(grants), own_organisation=org, full=False, fields=kind.fields)
    if EMPLOYER_OFFICER in caller.roles and org:
        return ReadScope(condition=and_(tenant, model.employer == org), fields=kind.fields)
    return ReadScope(condition=false(), fields=kind.fields)


async def get_record(*, session: AsyncSession, caller: Caller, kind: RecordType,
                     record_id: str) -> tuple[object, tuple[str, ...]]:
    scope = await read_scope(session=session, caller=caller, kind=kind)
    row = (await session.scalars(select(kind.model).where(kind.model.id == record_id, scope.condition))).first()
    if row is None:
        raise NotFound(f"{kind.label} {record_id} not found")
    await _log(session, caller, "read", [row.id], kind.name)
    return row, scope.fields_for(row)


async def get_accident(*, session: AsyncSession, caller: Caller, accident_id: str) -> tuple[Accident, tuple[str, ...]]:
    return await get_record(session=session, caller=caller, kind=ACCIDENTS, record_id=accident_id)


@dataclass(frozen=True)
class RecordFilter:
    """List filters of any record type: the date field's bounds, an industry prefix and the
    type's one enumerated field (``RecordType.enum_filter``)."""

    date_from: str = ""
    date_to: str = ""
    industry_prefix: str = ""
    enum_value: str = ""

    def key(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class AccidentFilter:
    occurred_from: str = ""
    occurred_to: str = ""
    industry_prefix: str = ""
    severity: str = ""

    def key(self) -> dict:
        return asdict(self)

    def generic(self) -> RecordFilter:
        return RecordFilter(date_from=self.occurred_from, date_to=self.occurred_to,
                            industry_prefix=self.industry_prefix, enum_value=self.severity)


def filtered_query(kind: RecordType, scope: ReadScope, filters: RecordFilter):
    """The scoped, filtered query. Filters on fields a liaison was not granted would reveal them,
    so a liaison may only filter on granted fields (INVALID_ARGUMENT otherwise)."""
    model = kind.model
    day = getattr(model, kind.date_field)
    query = select(model).where(scope.condition)
    used: list[str] = []
    if filters.date_from:
        query = query.where(day >= parse_date(filters.date_from, f"{kind.filter_prefix}_from"))
        used.append(kind.date_field)
    if filters.date_to:
        query = query.where(day <= parse_date(filters.date_to, f"{kind.filter_prefix}_to"))
        used.append(kind.date_field)
    if filters.industry_prefix:
        prefix = filters.industry_prefix.upper()
        if not INDUSTRY_PREFIX.match(prefix):
            raise InvalidArgument.field("industry_prefix", "must be a GB/T 4754-2017 code prefix, e.g. C or C26")
        query = query.where(model.industry_code.startswith(prefix, autoescape=True))
        used.append("industry_code")
    if filters.enum_value:
        if filters.enum_value not in kind.enum_values:
            raise InvalidArgument.field(kind.enum_filter, f"must be one of {', '.join(kind.enum_values)}")
        query = query.where(getattr(model, kind.enum_filter) == filters.enum_value)
        used.append(kind.enum_filter)
    if not scope.full and scope.grants:  # without grants a liaison lists only its own records
        granted = set().union(*(fields for _, fields in scope.grants)) if scope.grants else set()
        for field in used:
            if field not in granted:
                raise InvalidArgument.field(field, "is not granted to you by a sharing agreement: cannot filter on it")
    return query


async def list_records(*, session: AsyncSession, caller: Caller, kind: RecordType, filters: RecordFilter,
                       after: tuple[str, str] | None, limit: int) -> list[tuple[object, tuple[str, ...]]]:
    """Newest first by the type's date field; ``limit`` rows at most (the caller serves one fewer:
    the last row only tells whether a next page exists)."""
    scope = await read_scope(session=session, caller=caller, kind=kind)
    query = filtered_query(kind, scope, filters)
    model = kind.model
    day = getattr(model, kind.date_field)
    if after is not None:
        after_date = parse_date(after[0], "page_token")
        query = query.where(tuple_(day, model.id) < tuple_(after_date, after[1]))
    query = query.order_by(day.desc(), model.id.desc()).limit(limit)
    rows = (await session.scalars(query)).all()
    await _log(session, caller, "list", [row.id for row in rows[: max(limit - 1, 1)]], kind.name)
    return [(row, scope.fields_for(row)) for row in rows]


async def list_accidents(*, session: AsyncSession, caller: Caller, filters: AccidentFilter,
                         after: tuple[str, str] | None, limit: int) -> list[tuple[Accident, tuple[str, ...]]]:
    """Newest occurrence first. Filters on fields a liaison was not granted would reveal them, so
    a liaison may only filter on granted fields (INVALID_ARGUMENT otherwise)."""
    return await list_records(session=session, caller=caller, kind=ACCIDENTS, filters=filters.generic(),
                              after=after, limit=limit)
