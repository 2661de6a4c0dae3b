"""RELIABILITY D1: a commit PostgreSQL acknowledges is on disk (WAL flushed, torn pages covered).

PostgreSQL only. The test asks for ``db_factory`` so that it is marked ``db`` and runs in the
PostgreSQL pass of .ci/run; on the SQLite pass it is skipped (SQLite's equivalent, WAL with
synchronous=FULL, is set by services.common.db).
"""

from __future__ import annotations

import psycopg
import pytest

from tests.integration.helpers import psycopg_url
from tests.support.platform import postgres_admin_url


def test_durability_settings_are_on(db_factory):
    if postgres_admin_url() is None:
        pytest.skip("D1 checks PostgreSQL's settings; this run uses SQLite (set PREVENTION_TEST_DATABASE_URL)")
    # A database made like the services' own: a per-database or per-role override would show here.
    url = db_factory.url("identity")
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        settings = {name: conn.execute(f"SHOW {name}").fetchone()[0]
                    for name in ("fsync", "synchronous_commit", "full_page_writes")}
    assert settings == {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}, settings
