"""Run the gateway: python -m gateway --host 127.0.0.1 --port 8080."""

from __future__ import annotations

import argparse

import uvicorn

from gateway.app import create_app
from services.common.logsetup import configure_logging
from services.common.settings import platform_settings
from services.common.telemetry import setup_tracing


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m gateway")
    parser.add_argument("--host", default=None)
    parser.add_argument("--port", type=int, default=None)
    args = parser.parse_args()
    configure_logging()
    settings = platform_settings()
    app = create_app(settings, tracer_provider=setup_tracing("gateway"))
    uvicorn.run(app, host=args.host or settings.gateway_host, port=args.port or settings.gateway_port,
                log_config=None, server_header=False, timeout_graceful_shutdown=10)


if __name__ == "__main__":
    main()
