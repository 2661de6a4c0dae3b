"""Row-level security on PostgreSQL (identity issue acceptance; RELIABILITY S2): the application
connecting as a non-owner, non-superuser role sees 0 rows of another tenant even with the
tenant filter removed from a query, and cannot write rows for another tenant."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy import make_url

from tests.support.platform import postgres_admin_url


def _connect(url: str, **kw):
    return psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(hide_password=False), **kw)


@pytest.fixture
async def app_role(db_factory):
    if postgres_admin_url() is None:
        pytest.skip("row-level security is PostgreSQL's; this test runs in the PostgreSQL pass of .ci/run")
    identity = await db_factory.prepared("identity")
    training = await db_factory.prepared("training")
    role = f"pt_app_{uuid.uuid4().hex[:8]}"
    with _connect(identity, autocommit=True) as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS')
    for url in (identity, training):
        with _connect(url, autocommit=True) as admin:
            admin.execute(f'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"')
    yield role, identity, training
    for url in (identity, training):
        with _connect(url, autocommit=True) as admin:
            admin.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA public FROM "{role}"')
    with _connect(identity, autocommit=True) as admin:
        admin.execute(f'DROP ROLE IF EXISTS "{role}"')


def _seed_users(url: str) -> None:
    with _connect(url, autocommit=True) as admin:  # superuser: RLS does not apply to the set-up
        for tenant in ("110000", "120000", "120000"):
            admin.execute(
                "INSERT INTO users (id, username, display_name, tenant_code, roles, password_hash, enabled, "
                "totp_enabled, failed_logins, create_time, update_time) VALUES (%s, %s, 'x', %s, '[]', 'x', true, "
                "false, 0, now(), now())", (uuid.uuid4().hex, f"rls-{uuid.uuid4().hex[:10]}", tenant))


def _as_app(url: str, role: str, *, tenant: str | None, everything: bool = False):
    conn = _connect(make_url(url).set(username=role).render_as_string(hide_password=False))
    if tenant is not None or everything:
        conn.execute("SELECT set_config('app.all_tenants', %s, false), set_config('app.tenant', %s, false)",
                     ("on" if everything else "off", tenant or ""))
    return conn


async def test_app_role_sees_only_its_tenant_without_a_filter(app_role):
    role, identity, _ = app_role
    _seed_users(identity)
    with _as_app(identity, role, tenant="11") as conn:
        tenants = {row[0] for row in conn.execute("SELECT tenant_code FROM users")}  # no WHERE: RLS alone
    assert tenants == {"110000"}
    with _as_app(identity, role, tenant="12") as conn:
        assert {row[0] for row in conn.execute("SELECT tenant_code FROM users")} == {"120000"}
    with _as_app(identity, role, tenant=None) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 0, "no scope set: nothing visible"
    with _as_app(identity, role, tenant=None, everything=True) as conn:
        assert {row[0] for row in conn.execute("SELECT tenant_code FROM users")} >= {"110000", "120000"}


async def test_app_role_cannot_write_or_change_another_tenants_rows(app_role):
    role, identity, _ = app_role
    _seed_users(identity)
    with _as_app(identity, role, tenant="11") as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "INSERT INTO users (id, username, display_name, tenant_code, roles, password_hash, enabled, "
                "totp_enabled, failed_logins, create_time, update_time) VALUES (%s, %s, 'x', '120000', '[]', 'x', "
                "true, false, 0, now(), now())", (uuid.uuid4().hex, f"rls-{uuid.uuid4().hex[:10]}"))
        conn.rollback()  # also resets the scope: an empty scope must show nothing
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 0
        conn.execute("SELECT set_config('app.all_tenants', 'off', false), set_config('app.tenant', '11', false)")
        changed = conn.execute("UPDATE users SET display_name = 'hijacked' WHERE tenant_code = '120000'").rowcount
        deleted = conn.execute("DELETE FROM users WHERE tenant_code = '120000'").rowcount
        conn.commit()
    assert (changed, deleted) == (0, 0)
    with _connect(identity) as admin:
        assert admin.execute("SELECT count(*) FROM users WHERE display_name = 'hijacked'").fetchone()[0] == 0


async def test_audit_log_is_append_only_even_for_the_owner(app_role):
    _, identity, _ = app_role
    with _connect(identity, autocommit=True) as admin:
        admin.execute("INSERT INTO audit_events (event_time, kind, tenant_code, actor, target, outcome, detail) "
                      "VALUES (now(), 'TEST', '110000', 'a', 'b', 'ok', '{}')")
        with pytest.raises(psycopg.errors.RaiseException):
            admin.execute("UPDATE audit_events SET outcome = 'changed'")
        with pytest.raises(psycopg.errors.RaiseException):
            admin.execute("DELETE FROM audit_events")


async def test_national_courses_visible_to_every_tenant(app_role):
    role, _, training = app_role
    with _connect(training, autocommit=True) as admin:
        for tenant in ("100000", "110000", "120000"):
            admin.execute("INSERT INTO courses (id, tenant_code, title, description, content_category, contact_phone, "
                          "create_time, created_by) VALUES (%s, %s, 't', '', 'policy_regulation', '', now(), 'x')",
                          (uuid.uuid4().hex, tenant))
    with _as_app(training, role, tenant="11") as conn:
        assert {row[0] for row in conn.execute("SELECT tenant_code FROM courses")} == {"100000", "110000"}
