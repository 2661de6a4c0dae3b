"""Embedded mode end to end (SPEC OPS-1; issue acceptance): `prevention up` migrates, seeds and
serves /readyz 200 with all four services SERVING within 60 s, restarts a crashed service, and
stops everything on SIGTERM."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from services.common.settings import SERVICES

READY_WITHIN_SECONDS = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)  # polling a condition under an overall deadline
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def ready(url: str):
    try:
        response = httpx.get(f"{url}/readyz", timeout=2)
    except httpx.HTTPError:
        return None
    return response if response.status_code == 200 else None


@pytest.fixture
def embedded(tmp_path: Path):
    port = free_port()
    env = dict(os.environ)
    env.update({f"PREVENTION_{name.upper()}_ADDR": f"127.0.0.1:{free_port()}" for name in SERVICES})
    env.update(PREVENTION_DATA_DIR=str(tmp_path / "data"), PREVENTION_GRPC_DRAIN_GRACE_SECONDS="2")
    for key in [k for k in env if k.endswith("_DATABASE_URL")]:
        env.pop(key)
    proc = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "up", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    yield proc, f"http://127.0.0.1:{port}", lines, tmp_path / "data"
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def pids_from(lines: queue.Queue[str], seen: dict[str, int]) -> dict[str, int]:
    while True:
        try:
            line = lines.get_nowait()
        except queue.Empty:
            return seen
        match = re.match(r"started (\w+) pid (\d+)", line)
        if match:
            seen[match.group(1)] = int(match.group(2))


def test_up_serves_ready_restarts_and_stops(embedded):
    proc, url, lines, data_dir = embedded
    started = time.monotonic()
    response = wait_for(lambda: ready(url), READY_WITHIN_SECONDS, "/readyz 200")
    assert time.monotonic() - started < READY_WITHIN_SECONDS
    assert response.json()["services"] == {name: "SERVING" for name in SERVICES}
    assert (data_dir / "identity.db").exists()
    credentials = data_dir / "demo-credentials.txt"
    assert credentials.stat().st_mode & 0o777 == 0o600
    trainee = next(line.split() for line in credentials.read_text().splitlines() if "demo-trainee" in line)
    login = httpx.post(f"{url}/realms/prevention/protocol/openid-connect/token", timeout=10, data={
        "grant_type": "password", "username": "demo-trainee", "password": trainee[trainee.index("password") + 1]})
    assert login.status_code == 200, login.text
    tenants = httpx.get(f"{url}/v1/tenants", headers={"Authorization": f"Bearer {login.json()['access_token']}"},
                        timeout=10)
    assert tenants.status_code == 200 and tenants.json()["tenants"][0]["code"] == "110000"

    pids = wait_for(lambda: (p := pids_from(lines, {})) and len(p) == 5 and p, 10, "child pids")
    os.kill(pids["sharing"], signal.SIGKILL)
    restarted = wait_for(lambda: pids_from(lines, {}).get("sharing"), 30, "sharing restarted")
    assert restarted != pids["sharing"]
    wait_for(lambda: ready(url), 30, "ready again after the restart")

    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    children = [restarted, *(pid for name, pid in pids.items() if name != "sharing")]
    for pid in children:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
