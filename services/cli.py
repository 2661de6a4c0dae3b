"""`prevention` command line (SPEC OPS-4): up, migrate, seed, openapi."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from services.common.db import Database
from services.common.migrations import upgrade
from services.common.settings import SERVICES, platform_settings, service_settings

app = typer.Typer(help="Work-Injury Prevention Platform operations.", no_args_is_help=True)
OPENAPI_SNAPSHOT = Path(__file__).resolve().parents[1] / "gateway" / "openapi.json"


def _selected(service: str | None) -> list[str]:
    if service is None:
        return list(SERVICES)
    if service not in SERVICES:
        raise typer.BadParameter(f"service must be one of {', '.join(SERVICES)}", param_hint="--service")
    return [service]


@app.command()
def migrate(service: Annotated[str | None, typer.Option(help="Only this service")] = None) -> None:
    """Apply every service's Alembic migrations (each service has its own database)."""
    settings = platform_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    for name in _selected(service):
        upgrade(name, service_settings(name, settings).database_url)
        typer.echo(f"migrated {name}")


async def _seed(names: list[str], demo: bool) -> dict[str, dict]:
    settings = platform_settings()
    results = {}
    for name in names:
        module = importlib.import_module(f"services.{name}.seed")
        database = Database(service_settings(name, settings).database_url)
        try:
            async with database.session() as session:
                results[name] = await module.seed(session, demo=demo, settings=settings)
        finally:
            await database.dispose()
    return results


def _write_credentials(path: Path, lines: list[str]) -> None:
    """Demo secrets are printed once and kept in a file only the owner can read (SPEC 7.6)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.writelines(line + "\n" for line in lines)


@app.command()
def seed(
    demo: Annotated[bool, typer.Option(help="Also create demo data (embedded mode only)")] = False,
    service: Annotated[str | None, typer.Option(help="Only this service")] = None,
) -> None:
    """Load reference data (tenants, key industries, action plans); idempotent."""
    settings = platform_settings()
    if demo and (settings.profile == "prod" or settings.s3_endpoint):
        raise typer.BadParameter("demo data is for embedded mode only", param_hint="--demo")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    credentials: list[str] = []
    for name, counts in asyncio.run(_seed(_selected(service), demo)).items():
        credentials += counts.pop("credentials", [])
        typer.echo(f"seeded {name}: {json.dumps(counts)}")
    if credentials:
        path = settings.data_dir / "demo-credentials.txt"
        _write_credentials(path, credentials)
        typer.echo(f"demo credentials (shown once, also in {path}):")
        for line in credentials:
            typer.echo(f"  {line}")


@app.command()
def openapi(write: Annotated[bool, typer.Option(help="Rewrite the committed snapshot")] = False) -> None:
    """Print the gateway's OpenAPI document, or rewrite gateway/openapi.json."""
    from gateway.app import create_app

    document = json.dumps(create_app().openapi(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if write:
        OPENAPI_SNAPSHOT.write_text(document, encoding="utf-8")
        typer.echo(f"wrote {OPENAPI_SNAPSHOT}")
    else:
        typer.echo(document, nl=False)


class _Supervisor:
    """Runs each service and the gateway as a child process; restarts any that die."""

    def __init__(self, commands: dict[str, list[str]], env: dict[str, str]):
        self.commands = commands
        self.env = env
        self.procs: dict[str, subprocess.Popen] = {}
        self.stopping = False

    def start(self, name: str) -> None:
        self.procs[name] = subprocess.Popen(self.commands[name], env=self.env)  # noqa: S603 - our own modules
        typer.echo(f"started {name} pid {self.procs[name].pid}")

    def run(self) -> int:
        for name in self.commands:
            self.start(name)
        while not self.stopping:
            for name, proc in list(self.procs.items()):
                if proc.poll() is not None and not self.stopping:
                    typer.echo(f"{name} exited with {proc.returncode}; restarting", err=True)
                    self.start(name)
            time.sleep(0.5)  # supervision poll interval
        return self.shutdown()

    def shutdown(self, grace: float = 15.0) -> int:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.kill()
        return 0


@app.command()
def up(
    port: Annotated[int, typer.Option(help="Gateway port")] = 0,
    no_seed: Annotated[bool, typer.Option("--no-seed", help="Skip seeding")] = False,
) -> None:
    """Embedded mode: migrate, seed, then run the four services and the gateway on 127.0.0.1."""
    settings = platform_settings()
    gateway_port = port or settings.gateway_port
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    migrate(None)
    if not no_seed:
        seed(demo=True, service=None)
    env = dict(os.environ)
    env["PREVENTION_DATA_DIR"] = str(settings.data_dir.resolve())
    env.setdefault("PREVENTION_OIDC_ISSUER", f"http://127.0.0.1:{gateway_port}/realms/prevention")
    commands = {name: [sys.executable, "-m", f"services.{name}"] for name in SERVICES}
    commands["gateway"] = [sys.executable, "-m", "gateway", "--host", settings.gateway_host,
                           "--port", str(gateway_port)]
    supervisor = _Supervisor(commands, env)

    def _stop(*_):
        supervisor.stopping = True

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    url = f"http://{settings.gateway_host}:{gateway_port}"
    typer.echo(
        f"Work-Injury Prevention Platform (embedded mode)\n  gateway: {url}\n  API docs: {url}/docs\n"
        f"  readiness: {url}/readyz\n  data: {settings.data_dir.resolve()}\n"
        f"  demo login: POST {url}/realms/prevention/protocol/openid-connect/token with grant_type=password,\n"
        f"    username=demo-trainee and the password from {settings.data_dir.resolve() / 'demo-credentials.txt'}\n"
        f"    (operators also send totp=<code from their totp-secret>)\nCtrl-C stops everything."
    )
    raise typer.Exit(supervisor.run())



@app.command()
def backup(
    output: Annotated[Path, typer.Argument(help="Archive to write (.tar.gz)")],
) -> None:
    """Embedded mode: back up every database, the object store and the key files to one archive."""
    from services.ops.backup import BackupError
    from services.ops.backup import backup as run_backup

    try:
        result = run_backup(platform_settings(), output)
    except BackupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"wrote {result.path} ({result.files} files; databases {json.dumps(result.databases)})")


@app.command()
def restore(
    archive: Annotated[Path, typer.Argument(help="Archive written by `prevention backup`")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite a non-empty data directory")] = False,
) -> None:
    """Embedded mode: verify a backup's manifest and restore it into the data directory."""
    from services.ops.backup import BackupError
    from services.ops.backup import restore as run_restore

    try:
        manifest = run_restore(platform_settings(), archive, force=force)
    except BackupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None
    typer.echo(f"restored {len(manifest['files'])} files from {archive} (made {manifest['created_at']})")


audit_app = typer.Typer(help="The sharing exchange log (SPEC SH-4).", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


async def _verify_exchange_log():
    from services.common.storage import object_store
    from services.sharing.exchange_log import verify

    settings = platform_settings()
    database = Database(service_settings("sharing", settings).database_url)
    try:
        async with database.session() as session:
            return await verify(session, object_store(settings))
    finally:
        await database.dispose()


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the exchange log's hash chain against its checkpoints; exit 1 naming the first bad entry."""
    result = asyncio.run(_verify_exchange_log())
    if result.ok:
        typer.echo(f"exchange log intact: {result.checked} entries, last seq {result.last_seq}, "
                   f"{result.checkpoints} checkpoints")
        return
    typer.echo(f"exchange log BROKEN at entry {result.first_bad_seq}: {result.reason} "
               f"({result.checked} entries verified before it, {result.checkpoints} checkpoints)", err=True)
    raise typer.Exit(1)


ops_app = typer.Typer(help="Distributed-mode operations through the Kubernetes API.", no_args_is_help=True)
app.add_typer(ops_app, name="ops")


@ops_app.command("status")
def ops_status(
    release: Annotated[str, typer.Option(help="Helm release name")],
    namespace: Annotated[str, typer.Option(help="Kubernetes namespace")],
) -> None:
    """The release's Deployments and pods with readiness; exit 1 when degraded."""
    from services.ops.status import run as run_status

    raise typer.Exit(run_status(release, namespace))


if __name__ == "__main__":
    app()
