"""The operator web console (SPEC GW-5, issue 8): a static single-page app in plain ES modules
under gateway/console/, and Apache ECharts straight from gateway/console/node_modules (vendored
by `make setup` with `npm ci`; nothing from a CDN at run time).

The app signs in through the embedded issuer (authorization code + PKCE, public client
`prevention-console`, redirect URI /console/callback) and keeps tokens in memory only. Its pages
call the same REST API as every client, so tenant scoping is the API's. Every response carries a
Content-Security-Policy without 'unsafe-inline' for scripts: the app has no inline script at all.
Styles allow 'unsafe-inline' because ECharts' tooltips carry inline style attributes."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, Response

CONSOLE_DIR = Path(__file__).resolve().parents[1] / "console"
APP_DIR = CONSOLE_DIR / "app"
# Only these vendored files are served, by name (no path from the request reaches the disk).
VENDOR = {"echarts.esm.min.mjs": CONSOLE_DIR / "node_modules" / "echarts" / "dist" / "echarts.esm.min.mjs"}
_ASSET = re.compile(r"^[a-z0-9][a-z0-9-]*\.(js|css)$")
_TYPES = {".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
          ".css": "text/css; charset=utf-8"}

CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

router = APIRouter(tags=["console"], include_in_schema=False)
AssetName = Annotated[str, PathParam(max_length=64)]


def _not_found() -> Response:
    return Response("not found", status_code=404, media_type="text/plain", headers=SECURITY_HEADERS)


def _index(request: Request) -> HTMLResponse:
    """The page, told its idle timeout and its issuer (the embedded one on this gateway, or
    Keycloak in distributed mode, whose origin the token calls may then reach)."""
    settings = request.app.state.settings
    issuer = settings.oidc_issuer.rstrip("/")
    parts = urlsplit(issuer)
    page = (CONSOLE_DIR / "index.html").read_text(encoding="utf-8")
    page = page.replace("{{idle_seconds}}", html.escape(str(settings.console_idle_timeout_seconds)))
    page = page.replace("{{oidc_issuer}}", html.escape(issuer))
    csp = CSP.replace("connect-src 'self'", f"connect-src 'self' {parts.scheme}://{parts.netloc}")
    return HTMLResponse(page, headers={**SECURITY_HEADERS, "Content-Security-Policy": csp,
                                       "Cache-Control": "no-store"})


@router.get("/console", response_class=HTMLResponse)
async def console(request: Request) -> HTMLResponse:
    return _index(request)


@router.get("/console/callback", response_class=HTMLResponse)
async def console_callback(request: Request) -> HTMLResponse:
    """The redirect URI of the authorization-code flow: the same app finishes the sign-in."""
    return _index(request)


@router.get("/console/app/{name}")
async def console_asset(name: AssetName) -> Response:
    if not _ASSET.match(name) or not (APP_DIR / name).is_file():
        return _not_found()
    path = APP_DIR / name
    return FileResponse(path, media_type=_TYPES[path.suffix],
                        headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


@router.get("/console/vendor/{name}")
async def console_vendor(name: AssetName) -> Response:
    path = VENDOR.get(name)
    if path is None:
        return _not_found()
    if not path.is_file():
        return Response("console libraries missing: run `make setup` (npm ci in gateway/console)",
                        status_code=503, media_type="text/plain", headers=SECURITY_HEADERS)
    return FileResponse(path, media_type=_TYPES[path.suffix],
                        headers={**SECURITY_HEADERS, "Cache-Control": "public, max-age=86400"})
