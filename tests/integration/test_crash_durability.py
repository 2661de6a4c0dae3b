"""RELIABILITY D2: crash mid-traffic — every write acknowledged before ``kill -9`` of the PostgreSQL
postmaster is there after the restart (commit reported only after the WAL flush, NF-4).

The test runs its own throwaway PostgreSQL cluster (``initdb`` into a temporary directory owned by
the ``postgres`` user, because initdb and postgres refuse to run as root; listening on
127.0.0.1:<free port>, its unix socket in the temporary directory), so it does not use
``db_factory``, is not marked ``db`` and runs once, not again in the PostgreSQL pass.

Traffic: 200 CreateCourse calls through a real training runtime (services.common.runner
.build_runtime + services.training.servicer.build) with 8 concurrent callers; right after the
100th acknowledgement the postmaster gets SIGKILL while other calls are in flight. After crash
recovery every acknowledged course is present exactly once, and nothing that was never sent is.
Skipped when no PostgreSQL server binaries are installed (FAILS instead when CI=true).
"""

from __future__ import annotations

import asyncio
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import grpc
import psycopg
import pytest
from prevention.training.v1 import training_pb2, training_pb2_grpc

from services.common.migrations import upgrade
from services.common.runner import build_runtime
from services.common.settings import PlatformSettings
from services.training.servicer import build
from tests.integration.helpers import auth, free_port, raw_channel

WRITES = 200
KILL_AFTER = 100
CALLERS = 8
CALL_TIMEOUT = 10.0


def postgres_bin() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(candidate).parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class Cluster:
    """A PostgreSQL cluster in a temporary directory, run as the ``postgres`` user when root."""

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="prevention-d2-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "sock"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.log = self.root / "postgres.log"
        self.as_user: dict = {}
        if os.geteuid() == 0:
            import pwd

            entry = pwd.getpwnam("postgres")
            self.as_user = dict(user=entry.pw_uid, group=entry.pw_gid, extra_groups=[])
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        os.chmod(self.root, 0o700)
        self.socket_dir.mkdir()
        if self.as_user:
            os.chown(self.socket_dir, self.as_user["user"], self.as_user["group"])

    def _run(self, *args: str) -> None:
        result = subprocess.run([*args], capture_output=True, text=True, timeout=120, cwd=self.root,
                                **self.as_user)
        assert result.returncode == 0, f"{args[0]} failed:\n{result.stdout}\n{result.stderr}"

    def initdb(self) -> None:
        # --no-sync only skips initdb's own final fsync; the server's durability settings are the
        # defaults under test (fsync, synchronous_commit, full_page_writes all on).
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                  "-E", "UTF8", "--no-locale", "--no-sync")

    def start(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            log = open(self.log, "ab")  # handed to the child, closed here once it has it
            self.proc = subprocess.Popen(
                [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port),
                 "-k", str(self.socket_dir), "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=50"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=self.root, **self.as_user,
            )
            log.close()
            if self._wait_ready(deadline):
                return
            # After kill -9 the orphaned backends may still hold the old shared memory for a moment
            # ("pre-existing shared memory block is still in use"): start again until they are gone.
            if time.monotonic() > deadline:
                raise AssertionError(f"postgres did not start:\n{self.log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)  # retry interval while the old backends exit

    def _wait_ready(self, deadline: float) -> bool:
        assert self.proc is not None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with psycopg.connect(self.admin_dsn(), connect_timeout=2):
                    return True
            except psycopg.OperationalError:
                time.sleep(0.1)  # polling readiness under an overall deadline
        return False

    def admin_dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)  # the postmaster itself (Popen ran it directly)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # immediate shutdown
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def cluster(ci):
    bin_dir = postgres_bin()
    if bin_dir is None or not (bin_dir / "postgres").exists():
        if ci:
            pytest.fail("RELIABILITY D2 needs PostgreSQL's server binaries (initdb, postgres) in CI")
        pytest.skip("PostgreSQL server binaries (initdb) not found; D2 needs a throwaway cluster")
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run initdb as")
    cluster = Cluster(bin_dir)
    try:
        cluster.initdb()
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def durability_settings(dsn: str) -> dict[str, str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        return {name: conn.execute(f"SHOW {name}").fetchone()[0]
                for name in ("fsync", "synchronous_commit", "full_page_writes")}


def stored_courses(dsn: str) -> list[tuple[str, str]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT id, title FROM courses WHERE title LIKE 'd2-%'").fetchall()


async def test_acknowledged_writes_survive_kill_9_of_the_postmaster(cluster, issuer, tmp_path):
    with psycopg.connect(cluster.admin_dsn(), autocommit=True) as conn:
        conn.execute("CREATE DATABASE training")
    dsn = cluster.admin_dsn("training")
    assert durability_settings(dsn) == {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
    url = cluster.url("training")
    await asyncio.to_thread(upgrade, "training", url)

    settings = PlatformSettings(data_dir=tmp_path, oidc_issuer=issuer.issuer, oidc_jwks_url=issuer.jwks_url,
                                health_interval_seconds=0.1, grpc_drain_grace_seconds=1.0)
    runtime = build_runtime("training", build, settings=settings, database_url=url, addresses={})
    port = await runtime.start("127.0.0.1:0")
    token = issuer.token(tenant="110000", roles=["provincial_operator"])

    acked: dict[str, str] = {}  # title -> resource name
    failed: dict[str, str] = {}  # title -> status code
    killed_at: int | None = None
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(WRITES):
        queue.put_nowait(i)

    async def caller(stub) -> None:
        nonlocal killed_at
        while True:
            try:
                i = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            title = f"d2-{i:03d}"
            request = training_pb2.CreateCourseRequest(
                course=training_pb2.Course(title=title,
                                           content_category=training_pb2.CONTENT_CATEGORY_ACCIDENT_PREVENTION),
                request_id=f"d2-request-{i:03d}")
            try:
                reply = await stub.CreateCourse(request, metadata=auth(token), timeout=CALL_TIMEOUT)
            except grpc.aio.AioRpcError as error:
                failed[title] = error.code().name
                continue
            acked[title] = reply.course.name
            if killed_at is None and len(acked) >= KILL_AFTER:
                killed_at = len(acked)
                cluster.kill9()  # mid-traffic: the other callers have requests in flight

    try:
        async with raw_channel(f"127.0.0.1:{port}") as channel:
            stub = training_pb2_grpc.TrainingServiceStub(channel)
            await asyncio.gather(*(caller(stub) for _ in range(CALLERS)))
    finally:
        await runtime.stop(grace=1.0)

    assert killed_at is not None, f"only {len(acked)} writes were acknowledged before traffic ended: {failed}"
    assert len(acked) + len(failed) == WRITES
    assert failed, "no write failed after the postmaster was killed: the kill did not happen mid-traffic"

    cluster.start()  # crash recovery replays the WAL
    assert durability_settings(dsn) == {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}
    rows = stored_courses(dsn)
    titles = [title for _, title in rows]
    assert len(titles) == len(set(titles)), "a course was stored twice"
    missing = sorted(set(acked) - set(titles))
    assert not missing, f"{len(missing)} acknowledged writes lost after kill -9: {missing[:10]}"
    assert set(titles) <= {f"d2-{i:03d}" for i in range(WRITES)}
    ids = {row_id for row_id, _ in rows}
    assert {name.rsplit("/", 1)[-1] for name in acked.values()} <= ids
    print(f"D2: {len(acked)} acknowledged ({killed_at} before the kill), {len(failed)} failed, "
          f"{len(titles)} stored after recovery")
