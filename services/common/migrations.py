"""Alembic glue shared by every service: one history per service under services/<name>/migrations."""

from __future__ import annotations

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData, create_engine, pool

from services.common.db import sqlite_connect_hook, sync_url

SERVICES_DIR = Path(__file__).resolve().parents[1]


def alembic_config(service: str, database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    cfg.set_main_option("path_separator", "os")
    cfg.set_main_option("version_locations", str(SERVICES_DIR / service / "migrations" / "versions"))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(service: str, database_url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(service, database_url), revision)


def downgrade(service: str, database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(service, database_url), revision)


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's migrations/env.py (online mode only: migrations need a database)."""
    url = context.config.attributes["database_url"]
    engine = create_engine(sync_url(url), poolclass=pool.NullPool, hide_parameters=True)
    sqlite_connect_hook(engine)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


# An unset or empty app.tenant means nothing is visible (a GUC reset by a rollback reads as '').
TENANT_VISIBLE_FUNCTION = """
CREATE OR REPLACE FUNCTION prevention_tenant_visible(code text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('app.all_tenants', true), 'off') = 'on'
      OR (coalesce(current_setting('app.tenant', true), '') <> ''
          AND code LIKE current_setting('app.tenant', true) || '%')
$$
"""


def enable_tenant_rls(table: str, *, column: str = "tenant_code", national_visible: bool = False) -> None:
    """PostgreSQL row-level security on a tenant table (forced, so the table owner is bound too;
    only superusers and BYPASSRLS roles escape it). ``national_visible``: rows of the national
    tenant (100000) are readable by everyone, e.g. national courses. No-op on SQLite."""
    if context.get_bind().dialect.name != "postgresql":
        return
    read = f"prevention_tenant_visible({column})"
    if national_visible:
        read = f"{read} OR {column} = '100000'"
    context.execute(TENANT_VISIBLE_FUNCTION)
    context.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    context.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    context.execute(f"CREATE POLICY tenant_read ON {table} FOR SELECT USING ({read})")
    context.execute(f"CREATE POLICY tenant_insert ON {table} FOR INSERT "
                    f"WITH CHECK (prevention_tenant_visible({column}))")
    context.execute(f"CREATE POLICY tenant_update ON {table} FOR UPDATE USING (prevention_tenant_visible({column})) "
                    f"WITH CHECK (prevention_tenant_visible({column}))")
    context.execute(f"CREATE POLICY tenant_delete ON {table} FOR DELETE USING (prevention_tenant_visible({column}))")


def disable_tenant_rls(table: str) -> None:
    if context.get_bind().dialect.name != "postgresql":
        return
    for policy in ("tenant_read", "tenant_insert", "tenant_update", "tenant_delete"):
        context.execute(f"DROP POLICY IF EXISTS {policy} ON {table}")
    context.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    context.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
