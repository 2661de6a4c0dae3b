"""Organisation and employer domain functions (services.identity.organisations) against a real
migrated identity database: the pooling-region rule in a province with regions, the tenant of a
ministry operator's employer, update masks and who may change what, masking, auditing of
cross-tenant reads, and the import reader/validator (header aliases, encodings, XLSX, row numbers,
duplicates, limits)."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from services.common.context import Caller
from services.common.db import Database
from services.common.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied, ResourceExhausted
from services.common.pii import PiiKeyring
from services.common.validators import USCC_ALPHABET, uscc_check_char
from services.identity import organisations as orgs
from services.identity.models import AuditEventRow, Tenant
from services.identity.org_models import Organisation

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
KEYRING = PiiKeyring({"k1": bytes(range(32))})
HEADER = "uscc,display_name,industry_code,risk_class,headcount,insured_headcount,pooling_region_code"

_rng = random.Random(4754)


def uscc() -> str:
    prefix = "".join(_rng.choice(USCC_ALPHABET) for _ in range(17))
    return prefix + uscc_check_char(prefix)


def po(tenant: str = "130000", **kw) -> Caller:
    return Caller(subject="po-1", tenant=tenant, roles=frozenset({"provincial_operator"}), **kw)


MO = Caller(subject="mo-1", tenant="100000", roles=frozenset({"ministry_operator"}))


def employer_input(pooling: str = "130100", **profile) -> orgs.OrganisationInput:
    values = dict(uscc=uscc(), industry_code="C2611", risk_class=3, headcount=20, insured_headcount=10,
                  pooling_region_code=pooling)
    values.update(profile)
    return orgs.OrganisationInput(type="employer", display_name="河北测试企业", employer=orgs.EmployerProfile(**values),
                                  contact_name="王小明", contact_phone="13912345678")


@pytest.fixture(scope="module")
async def database(db_factory):
    db = Database(await db_factory.prepared("identity"))
    async with db.session() as session:
        # Hebei has two pooling regions; Beijing (110000) has none.
        for code, name in (("130100", "石家庄市"), ("130200", "唐山市")):
            session.add(Tenant(code=code, parent_code="130000", level="pooling_region", display_name=name,
                               display_name_en=name))
        await session.commit()
    yield db
    await db.dispose()


async def create(db: Database, caller: Caller, org: orgs.OrganisationInput, tenant_code: str = "") -> Organisation:
    async with db.session() as session:
        row = await orgs.create_organisation(session=session, caller=caller, keyring=KEYRING, now=NOW,
                                             organisation=org, tenant_code=tenant_code)
        await session.commit()
        return row


def fields(exc: InvalidArgument) -> list[str]:
    return [v.field for v in exc.violations]


# -- pooling regions and tenants --------------------------------------------------------------------


async def test_a_province_with_pooling_regions_needs_one_of_them(database):
    row = await create(database, po(), employer_input("130100"))
    assert (row.tenant_code, row.pooling_region_code) == ("130000", "130100")
    for code in ("130000", "110000", "130300", "13010"):
        with pytest.raises(InvalidArgument) as exc:
            await create(database, po(), employer_input(code))
        assert fields(exc.value) == ["organisation.employer.pooling_region_code"]


async def test_a_province_without_regions_is_its_own_pooling_region(database):
    assert (await create(database, po("110000"), employer_input("110000"))).tenant_code == "110000"


async def test_an_operator_of_a_pooling_region_names_only_that_region(database):
    caller = po("130100")
    assert (await create(database, caller, employer_input("130100"))).tenant_code == "130100"
    with pytest.raises(InvalidArgument):
        await create(database, caller, employer_input("130200"))


async def test_ministry_operator_employer_goes_to_the_province_of_its_pooling_region(database):
    assert (await create(database, MO, employer_input("130200"))).tenant_code == "130000"
    assert (await create(database, MO, employer_input("130200"), tenant_code="130000")).tenant_code == "130000"
    with pytest.raises(InvalidArgument) as exc:  # a named tenant whose regions do not include it
        await create(database, MO, employer_input("130200"), tenant_code="110000")
    assert fields(exc.value) == ["organisation.employer.pooling_region_code"]
    platform = orgs.OrganisationInput(type="training_platform", display_name="全国平台")
    assert (await create(database, MO, platform)).tenant_code == "100000"
    with pytest.raises(InvalidArgument) as exc:
        await create(database, MO, platform, tenant_code="990000")
    assert fields(exc.value) == ["tenant_code"]


async def test_every_bad_field_is_reported_at_once_without_personal_data(database):
    bad = orgs.OrganisationInput(
        type="employer", display_name="",
        employer=orgs.EmployerProfile(uscc="123", industry_code="Z99", risk_class=9, headcount=-1,
                                      insured_headcount=5, pooling_region_code=""),
        contact_name="x" * 65, contact_phone="13912345",
    )
    with pytest.raises(InvalidArgument) as exc:
        await create(database, po(), bad)
    assert fields(exc.value) == [
        "organisation.display_name", "organisation.employer.uscc", "organisation.employer.industry_code",
        "organisation.employer.risk_class", "organisation.employer.headcount",
        "organisation.employer.pooling_region_code", "organisation.contact_name", "organisation.contact_phone",
    ]
    assert "13912345" not in exc.value.message


async def test_duplicate_uscc_is_already_exists(database):
    org = employer_input()
    await create(database, po(), org)
    with pytest.raises(AlreadyExists):
        await create(database, po("110000"), employer_input("110000", uscc=org.employer.uscc.lower()))


# -- visibility, masking, audit --------------------------------------------------------------------


def test_own_organisation_accepts_both_forms():
    org_id = "0123456789abcdef0123456789abcdef"
    for claim in (org_id, f"organisations/{org_id}", f" organisations/{org_id} "):
        assert orgs.own_organisation_id(Caller("s", "110000", organisation=claim)) == org_id
    for claim in ("", "organisations/", "users/" + org_id, "not-an-id"):
        assert orgs.own_organisation_id(Caller("s", "110000", organisation=claim)) == ""


def test_mask_name():
    assert [orgs.mask_name(n) for n in ("王小明", "张三", "李", "")] == ["王**", "张*", "*", ""]


async def test_bound_roles_see_their_organisation_masked_and_others_not_at_all(database):
    row = await create(database, po(), employer_input())
    other = await create(database, po(), employer_input())
    async with database.session() as session:
        for role in ("department_liaison", "employer_officer", "service_institution"):
            caller = Caller("x", "130000", roles=frozenset({role}), organisation=f"organisations/{row.id}")
            found = await orgs.get_organisation(session=session, caller=caller, organisation_id=row.id, now=NOW)
            view = orgs.present(found, caller=caller, keyring=KEYRING)
            assert (view.contact_name, view.contact_phone) == ("王**", "139****5678")
            with pytest.raises(NotFound):
                await orgs.get_organisation(session=session, caller=caller, organisation_id=other.id, now=NOW)
            listed = await orgs.list_organisations(session=session, caller=caller, now=NOW, limit=50)
            assert [r.id for r in listed] == [row.id]
        trainee = Caller("t", "130000", roles=frozenset({"trainee"}), organisation=f"organisations/{row.id}")
        with pytest.raises(NotFound):
            await orgs.get_organisation(session=session, caller=trainee, organisation_id=row.id, now=NOW)
        view = orgs.present(row, caller=po(), keyring=KEYRING)
        assert (view.contact_name, view.contact_phone) == ("王小明", "13912345678")
        with pytest.raises(NotFound):
            await orgs.get_organisation(session=session, caller=po("120000"), organisation_id=row.id, now=NOW)


async def test_contact_data_is_stored_encrypted(database):
    row = await create(database, po(), employer_input())
    assert "13912345678" not in row.contact_phone_enc and "王小明" not in row.contact_name_enc
    assert KEYRING.decrypt(row.contact_phone_enc, context="identity.organisations.contact_phone") == "13912345678"


async def test_ministry_cross_tenant_reads_are_audited(database):
    row = await create(database, po(), employer_input())
    reader = Caller("mo-audit", "100000", roles=frozenset({"ministry_operator"}))

    async def audited() -> int:
        async with database.session() as session:
            return await session.scalar(select(func.count()).select_from(AuditEventRow).where(
                AuditEventRow.actor == "mo-audit", AuditEventRow.kind == "CROSS_TENANT_READ",
                AuditEventRow.tenant_code == "130000"))

    async with database.session() as session:
        await orgs.get_organisation(session=session, caller=reader, organisation_id=row.id, now=NOW)
        await orgs.get_organisation(session=session, caller=po(), organisation_id=row.id, now=NOW)  # not audited
        await session.commit()
    assert await audited() == 1
    async with database.session() as session:
        await orgs.list_organisations(session=session, caller=reader, now=NOW, type="employer", limit=500)
        await session.commit()
    assert await audited() == 2


# -- updates ---------------------------------------------------------------------------------------


def test_update_mask_names_updatable_fields_only():
    assert orgs.expand_update_mask(["employer", "contact_phone", "employer.uscc"]) == [
        *(f"employer.{f}" for f in orgs.EMPLOYER_FIELDS), "contact_phone"]
    for path, message in (("type", "cannot be changed"), ("tenant_code", "cannot be changed"),
                          ("owner", "unknown field")):
        with pytest.raises(InvalidArgument) as exc:
            orgs.expand_update_mask([path])
        assert fields(exc.value) == ["update_mask"] and message in exc.value.violations[0].description


async def update(db, caller, org_id, changes, mask):
    async with db.session() as session:
        row = await orgs.update_organisation(session=session, caller=caller, keyring=KEYRING, now=NOW,
                                             organisation_id=org_id, changes=changes, update_mask=mask)
        await session.commit()
        return row


async def test_employer_officer_changes_only_contact_data(database):
    row = await create(database, po(), employer_input())
    eo = Caller("eo", "130000", roles=frozenset({"employer_officer"}), organisation=row.id)
    changes = orgs.OrganisationInput(contact_phone="0311-87654321", contact_name="",
                                     employer=orgs.EmployerProfile(headcount=1))
    updated = await update(database, eo, row.id, changes, ["contact_phone", "contact_name"])
    assert updated.contact_name_enc is None
    assert KEYRING.decrypt(updated.contact_phone_enc, context="identity.organisations.contact_phone") == "0311-87654321"
    with pytest.raises(PermissionDenied) as exc:
        await update(database, eo, row.id, changes, ["contact_phone", "employer.headcount"])
    assert "employer.headcount" in exc.value.message and exc.value.metadata == {"field": "employer.headcount"}
    department = await create(database, po(), orgs.OrganisationInput(
        type="government_department", department_type="health", display_name="卫健委"))
    dl = Caller("dl", "130000", roles=frozenset({"department_liaison"}), organisation=department.id)
    with pytest.raises(PermissionDenied):
        await update(database, dl, department.id, orgs.OrganisationInput(contact_phone="13912345678"),
                     ["contact_phone"])


async def test_operator_update_keeps_every_rule(database):
    row = await create(database, po(), employer_input(headcount=20, insured_headcount=10))
    with pytest.raises(InvalidArgument) as exc:
        await update(database, po(), row.id, orgs.OrganisationInput(employer=orgs.EmployerProfile(headcount=5)),
                     ["employer.headcount"])
    assert fields(exc.value) == ["organisation.employer.insured_headcount"]
    with pytest.raises(InvalidArgument) as exc:
        await update(database, po(), row.id, orgs.OrganisationInput(department_type="hrss"), ["department_type"])
    assert fields(exc.value) == ["organisation.department_type"]
    taken = await create(database, po(), employer_input())
    with pytest.raises(AlreadyExists):
        await update(database, po(), row.id, orgs.OrganisationInput(employer=orgs.EmployerProfile(
            uscc=taken.uscc)), ["employer.uscc"])
    updated = await update(database, po(), row.id, orgs.OrganisationInput(
        employer=orgs.EmployerProfile(pooling_region_code="130200", risk_class=8)),
        ["employer.pooling_region_code", "employer.risk_class"])
    assert (updated.pooling_region_code, updated.risk_class, updated.headcount) == ("130200", 8, 20)
    platform = await create(database, po(), orgs.OrganisationInput(type="training_platform", display_name="平台"))
    with pytest.raises(InvalidArgument) as exc:
        await update(database, po(), platform.id, orgs.OrganisationInput(employer=orgs.EmployerProfile(
            headcount=1)), ["employer.headcount"])
    assert fields(exc.value) == ["organisation.employer"]


# -- import ----------------------------------------------------------------------------------------


async def run_import(db, caller, content: bytes, filename: str = "employers.csv", validate_only=False):
    async with db.session() as session:
        result = await orgs.import_employers(session=session, caller=caller, keyring=KEYRING, now=NOW,
                                             content=content, filename=filename, validate_only=validate_only)
        await session.commit()
        return result


def errors_of(result: orgs.ImportResult) -> list[tuple[int, str]]:
    return [(e.row, e.field) for e in result.errors]


async def count(db) -> int:
    async with db.session() as session:
        return await session.scalar(select(func.count()).select_from(Organisation))


async def test_import_reports_every_bad_field_of_every_bad_row_and_writes_nothing(database):
    taken = (await create(database, po(), employer_input())).uscc
    first = uscc()
    lines = [
        HEADER,
        f"{uscc()},好企业,C2611,3,10,5,130100",           # 1 good
        "",                                                # 2 blank: skipped, still numbered
        f"{first},重复一,C2611,3,10,5,130100",            # 3 good (first of a repeat)
        f"{first},重复二,C2611,3,10,5,130100",            # 4 repeats row 3
        f"{taken},已存在,C2611,3,10,5,130100",            # 5 already in the database
        f"{uscc()},,A26,x,-1,3,130000",                   # 6 five bad fields
        f"{uscc()},多值,C2611,3,10,5,130100,extra",       # 7 a value without a header
    ]
    before = await count(database)
    result = await run_import(database, po(), "\r\n".join(lines).encode())
    assert result.rows == 6 and result.created == 0
    assert errors_of(result) == [
        (4, "uscc"), (5, "uscc"), (6, "display_name"), (6, "industry_code"), (6, "risk_class"),
        (6, "headcount"), (6, "pooling_region_code"), (7, "row"),
    ]
    assert "row 3" in result.errors[0].description
    assert await count(database) == before


async def test_import_accepts_chinese_headers_any_order_and_optional_columns(database):
    content = ("联系电话,单位名称,统一社会信用代码,行业代码,风险类别,职工人数,参保人数,统筹地区\n"
               f"+86 139 1234 5678,甲公司,{uscc()},e4710,８,1,200,130200\n"  # full-width 8, +86, lower case
               ).encode("gb18030")
    result = await run_import(database, po(), content)
    assert errors_of(result) == [(1, "insured_headcount")]
    content = content.replace(b",1,200,", b",300,200,")
    result = await run_import(database, po(), content)
    assert (result.rows, result.created, result.errors) == (1, 1, [])
    async with database.session() as session:
        row = (await session.scalars(select(Organisation).where(Organisation.display_name == "甲公司"))).one()
    assert (row.industry_code, row.risk_class, row.tenant_code) == ("E4710", 8, "130000")
    assert KEYRING.decrypt(row.contact_phone_enc, context="identity.organisations.contact_phone") == "13912345678"


async def test_import_header_problems_are_row_0(database):
    result = await run_import(database, po(), "uscc,单位名称,单位名称,remarks\n".encode())
    assert sorted(errors_of(result)) == sorted([
        (0, "display_name"), (0, "remarks"), (0, "industry_code"), (0, "risk_class"), (0, "headcount"),
        (0, "insured_headcount"), (0, "pooling_region_code")])


@pytest.mark.parametrize(("content", "filename"), [
    (b"", "a.csv"),
    (b"\n\n", "a.csv"),
    (b"\xff\xfe\x00u\x00s", "a.csv"),  # UTF-16: neither UTF-8 nor GB18030
    (b"PK\x03\x04 broken", "a.xlsx"),
    (b"uscc", "a.txt"),
    (b"not a zip", "a.xlsx"),
], ids=["empty", "blank", "utf16", "broken-zip", "txt", "not-zip"])
async def test_unreadable_files_are_one_row_0_error(database, content, filename):
    result = await run_import(database, po(), content, filename)
    assert errors_of(result) == [(0, "file")] and result.created == 0


async def test_import_size_limit(database):
    with pytest.raises(ResourceExhausted) as exc:
        await run_import(database, po(), b"x" * (orgs.IMPORT_MAX_BYTES + 1))
    assert exc.value.reason == "PAYLOAD_TOO_LARGE"


async def test_import_xlsx_without_extension_and_validate_only(database):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["USCC", "Display Name", "industry_code", "risk_class", "headcount", "insured_headcount",
                  "pooling_region_code", "contact_name"])
    sheet.append([])  # blank row 1
    sheet.append([uscc(), "乙公司", "B0610", 2, 50, 50.0, "130100", "赵六"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    before = await count(database)
    result = await run_import(database, po(), buffer.getvalue(), filename="", validate_only=True)
    assert (result.rows, result.created, result.errors) == (1, 0, [])
    assert await count(database) == before
    result = await run_import(database, po(), buffer.getvalue(), filename="")
    assert (result.rows, result.created, result.errors) == (1, 1, [])
    assert await count(database) == before + 1


async def test_ministry_import_puts_each_row_in_the_province_of_its_pooling_region(database):
    a, b = uscc(), uscc()
    content = f"{HEADER}\n{a},丙,C2611,3,10,5,130100\n{b},丁,C2611,3,10,5,110000\n".encode()
    assert (await run_import(database, MO, content)).created == 2
    async with database.session() as session:
        tenants = dict((await session.execute(
            select(Organisation.uscc, Organisation.tenant_code).where(Organisation.uscc.in_([a, b])))).all())
    assert tenants == {a: "130000", b: "110000"}


async def test_errors_are_capped(database):
    lines = [HEADER] + [f"bad{i},x,C26,1,1,1,130100" for i in range(orgs.IMPORT_MAX_ERRORS + 5)]
    result = await run_import(database, po(), "\n".join(lines).encode())
    assert len(result.errors) == orgs.IMPORT_MAX_ERRORS + 1
    assert result.errors[-1].row == 0 and "5 more errors" in result.errors[-1].description


def test_implied_update_mask_and_unknown_enums():
    from prevention.identity.v1 import identity_pb2

    from services.identity.org_convert import implied_update_mask, organisation_from_proto

    message = identity_pb2.Organisation(
        name="organisations/0123456789abcdef0123456789abcdef", type=identity_pb2.ORGANISATION_TYPE_EMPLOYER,
        tenant_code="110000", contact_phone="13912345678", employer=identity_pb2.EmployerProfile(headcount=5),
    )
    message.create_time.GetCurrentTime()
    # a resource read back can be sent as is: name, type and output-only fields are not part of it
    assert implied_update_mask(message) == ["employer.headcount", "contact_phone"]
    unknown = organisation_from_proto(identity_pb2.Organisation(type=42, department_type=9, display_name="x"))
    checked = orgs._check(unknown, tenant="110000", tenants=orgs.TenantIndex([]))
    assert [v.field for v in checked.violations] == ["type", "department_type"]


async def test_a_uscc_the_check_cannot_see_is_still_reported_and_nothing_written(database, monkeypatch):
    # Row-level security (another tenant's rows) or a concurrent import can hide a USCC from the
    # check before the insert; the unique constraint still sees it.
    taken = (await create(database, po("110000"), employer_input("110000"))).uscc

    async def sees_nothing(session, usccs):
        return set()

    monkeypatch.setattr(orgs, "_existing_usccs", sees_nothing)
    content = f"{HEADER}\n{uscc()},戊,C2611,3,10,5,130100\n{taken},己,C2611,3,10,5,130100\n".encode()
    before = await count(database)
    result = await run_import(database, po(), content)
    assert (result.created, errors_of(result)) == (0, [(2, "uscc")])
    assert await count(database) == before
