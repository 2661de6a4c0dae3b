"""Dependency configuration in infra/ (issue: distributed mode): the PostgreSQL set-up really
creates least-privilege roles (run against the local PostgreSQL), and the MinIO policy, the OTel
collector config and the image's Dockerfile say what they must. No Docker engine or MinIO/OTel
server runs here, so those three are checked as files."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
import yaml
from sqlalchemy import make_url

from services.common.migrations import upgrade
from tests.support.platform import postgres_admin_url

INFRA = Path(__file__).resolve().parents[2] / "infra"
SERVICES = ("identity", "sharing", "training", "assessment")


def _dsn(url) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def prefix(db_factory):
    """A cluster-wide prefix for the init script's roles and databases, dropped afterwards."""
    admin = postgres_admin_url()
    if admin is None:
        pytest.skip("the PostgreSQL set-up script runs in the PostgreSQL pass of .ci/run")
    psql = shutil.which("psql")
    assert psql, "psql is part of the machine's PostgreSQL client"
    name = f"pt_{uuid.uuid4().hex[:8]}"
    yield name, admin, psql
    with psycopg.connect(_dsn(admin), autocommit=True) as conn:
        for service in SERVICES:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}_{service}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{name}_{service}"')


def test_postgres_init_creates_one_least_privilege_role_and_database_per_service(prefix):
    name, admin, psql = prefix
    url = make_url(admin)
    subprocess.run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", f"prefix={name}", "-h", url.host or "127.0.0.1",
                    "-p", str(url.port or 5432), "-U", url.username or "postgres", "-d", url.database or "postgres",
                    "-f", str(INFRA / "postgres" / "init.sql")], check=True, capture_output=True, timeout=60)
    with psycopg.connect(_dsn(admin)) as conn:
        roles = conn.execute("SELECT rolname, rolsuper, rolbypassrls, rolcreatedb, rolcreaterole FROM pg_roles "
                             "WHERE rolname LIKE %s ORDER BY rolname", (f"{name}_%",)).fetchall()
        owners = dict(conn.execute("SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE datname LIKE %s",
                                   (f"{name}_%",)).fetchall())
    assert sorted(r[0] for r in roles) == sorted(f"{name}_{s}" for s in SERVICES)
    assert all(r[1:] == (False, False, False, False) for r in roles), "no superuser, BYPASSRLS or CREATE rights"
    assert owners == {f"{name}_{s}": f"{name}_{s}" for s in SERVICES}
    training = url.set(username=f"{name}_training", database=f"{name}_training")
    upgrade("training", training.render_as_string(hide_password=False))  # migrations run as the service's role
    with psycopg.connect(_dsn(training)) as conn:
        forced = conn.execute("SELECT relforcerowsecurity FROM pg_class WHERE relname = 'courses'").fetchone()[0]
        assert forced, "row-level security binds the owning role too"
    with pytest.raises(psycopg.OperationalError, match="permission denied"):
        psycopg.connect(_dsn(url.set(username=f"{name}_training", database=f"{name}_identity"))).close()


def test_minio_policy_grants_only_the_platform_bucket():
    policy = json.loads((INFRA / "minio" / "platform-policy.json").read_text())
    resources = [r for statement in policy["Statement"] for r in statement["Resource"]]
    actions = [a for statement in policy["Statement"] for a in statement["Action"]]
    assert all(statement["Effect"] == "Allow" for statement in policy["Statement"])
    assert set(resources) == {"arn:aws:s3:::prevention", "arn:aws:s3:::prevention/*"}
    assert "*" not in actions and not any(a.endswith(":*") for a in actions)
    assert not any("Policy" in a or "Admin" in a for a in actions), "the platform cannot change bucket policy"


def test_otel_collector_pipelines_and_personal_data_filter():
    config = yaml.safe_load((INFRA / "otel" / "collector.yaml").read_text())
    for pipeline in config["service"]["pipelines"].values():
        for kind in ("receivers", "processors", "exporters"):
            assert set(pipeline[kind]) <= set(config[kind]), f"{kind} used but not defined"
    traces = config["service"]["pipelines"]["traces"]
    assert "attributes/drop-personal-data" in traces["processors"]
    (action,) = config["processors"]["attributes/drop-personal-data"]["actions"]
    assert action["action"] == "delete"
    pattern = re.compile(action["pattern"])
    for key in ("citizen_id", "user.phone", "diagnosis", "client_secret"):
        assert pattern.fullmatch(key), key
    for key in ("rpc.method", "prevention.tenant", "http.route"):
        assert not pattern.fullmatch(key), key


def test_image_is_multi_stage_pinned_and_non_root():
    dockerfile = (INFRA / "docker" / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)", dockerfile, re.M)
    assert len(stages) >= 2, "multi-stage"
    assert all(":" in image and not image.endswith(":latest") for image in stages), "base images pinned"
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users and users[-1].split(":")[0] not in ("0", "root"), "runs as a non-root user"
    assert re.search(r'^ENTRYPOINT \["prevention"\]', dockerfile, re.M)
    assert not re.search(r"^ADD\s+https?://", dockerfile, re.M), "nothing fetched at build time by ADD"
