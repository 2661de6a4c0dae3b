"""Configuration from the environment, with the names of SPEC 7.5.

Nothing is read at import time: call ``platform_settings()`` / ``service_settings(name)`` where the
process starts (a server's main, the CLI, the gateway's app factory, a test fixture).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES: tuple[str, ...] = ("identity", "sharing", "training", "assessment")
DEFAULT_PORTS: dict[str, int] = {"identity": 50051, "sharing": 50052, "training": 50053, "assessment": 50054}


class PlatformSettings(BaseSettings):
    """Settings every process shares (`PREVENTION_*`)."""

    model_config = SettingsConfigDict(env_prefix="PREVENTION_", extra="ignore")

    profile: Literal["dev", "prod"] = "dev"
    data_dir: Path = Path("var")
    oidc_issuer: str = "http://127.0.0.1:8080/realms/prevention"
    oidc_audience: str = "prevention-api"
    oidc_jwks_url: str = ""
    oidc_leeway_seconds: int = Field(default=60, ge=0, le=60)
    oidc_jwks_cooldown_seconds: float = Field(default=30.0, ge=0)
    # Embedded issuer (SPEC 7.2): token lifetimes, lockout (NF-6).
    token_access_seconds: int = Field(default=300, ge=30, le=3600)
    token_refresh_seconds: int = Field(default=1800, ge=60, le=86400)
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_seconds: int = Field(default=900, ge=1)
    # RELIABILITY S10: record exports per caller (tenant + subject) in any rolling hour.
    sharing_export_quota_per_hour: int = Field(default=10, ge=1)
    # RELIABILITY D5: objects no row references are deleted once older than this grace.
    object_sweep_grace_seconds: int = Field(default=3600, ge=60)
    # Redirect URIs of the web console (authorization code + PKCE); exact match only.
    console_redirect_uris: list[str] = Field(default_factory=list)
    # The web console signs its user out after this long without input (NF-6 idle timeout).
    console_idle_timeout_seconds: int = Field(default=900, ge=60, le=86400)
    s3_endpoint: str = ""
    s3_access_key: str = ""
    s3_secret_key: str = ""
    s3_bucket: str = "prevention"
    s3_secure: bool = True
    # Embedded mode: HMAC key of the local store's presigned URLs (default: a 0600 file in the data dir).
    object_url_key: str = ""
    # gRPC server limits (RELIABILITY S8, R4, R6).
    grpc_max_message_bytes: int = 4 * 1024 * 1024
    grpc_max_concurrent_rpcs: int = 256
    grpc_max_connection_age_seconds: int = 300
    grpc_drain_grace_seconds: float = 10.0
    health_interval_seconds: float = 2.0
    # Outgoing calls: the default deadline when no upstream deadline bounds the call.
    grpc_default_timeout_seconds: float = 10.0
    # Mutual TLS between the platform's processes (distributed mode): this process's certificate
    # and key, and the platform CA. Unset = plaintext on loopback (embedded mode).
    tls_cert_file: str = ""
    tls_key_file: str = ""
    tls_ca_file: str = ""
    # With mutual TLS: a plaintext port serving only gRPC health, for kubelet probes (0 = none).
    health_port: int = Field(default=0, ge=0, le=65535)
    health_host: str = "[::]"
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8080
    gateway_max_body_bytes: int = 8 * 1024 * 1024
    gateway_cors_origins: list[str] = Field(default_factory=list)

    @property
    def public_base_url(self) -> str:
        return f"http://{self.gateway_host}:{self.gateway_port}"

    @property
    def jwks_url(self) -> str:
        return self.oidc_jwks_url or f"{self.oidc_issuer}/protocol/openid-connect/certs"


class ServiceSettings(BaseSettings):
    """Per-service settings: `PREVENTION_<SERVICE>_DATABASE_URL` and `PREVENTION_<SERVICE>_ADDR`."""

    model_config = SettingsConfigDict(extra="ignore")

    name: str
    database_url: str = ""
    addr: str = ""


def platform_settings(**overrides) -> PlatformSettings:
    return PlatformSettings(**overrides)


def service_settings(name: str, platform: PlatformSettings | None = None) -> ServiceSettings:
    """Settings of one service; the database defaults to a SQLite file in the data directory."""
    if name not in SERVICES:
        raise ValueError(f"unknown service {name!r}")
    platform = platform or platform_settings()

    class _Env(BaseSettings):
        model_config = SettingsConfigDict(env_prefix=f"PREVENTION_{name.upper()}_", extra="ignore")
        database_url: str = ""
        addr: str = ""

    env = _Env()
    url = env.database_url or f"sqlite:///{(platform.data_dir / f'{name}.db').resolve()}"
    addr = env.addr or f"127.0.0.1:{DEFAULT_PORTS[name]}"
    return ServiceSettings(name=name, database_url=url, addr=addr)


def service_addresses(platform: PlatformSettings | None = None) -> dict[str, str]:
    return {name: service_settings(name, platform).addr for name in SERVICES}
