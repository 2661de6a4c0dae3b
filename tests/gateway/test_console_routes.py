"""The console's static routes (issue 8): security headers on every response, a CSP without
'unsafe-inline' for scripts, the idle timeout handed to the app, and only named files served."""

from __future__ import annotations

import pytest

from gateway.routers.console import VENDOR


def script_src(csp: str) -> str:
    return next(d for d in csp.split(";") if d.strip().startswith("script-src")).strip()


@pytest.mark.parametrize("path", ["/console", "/console/callback"])
async def test_the_page_carries_the_security_headers(platform, path):
    response = await platform.client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert script_src(csp) == "script-src 'self'" and "'unsafe-inline'" not in script_src(csp)
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"
    page = response.text
    assert f'content="{platform.settings.console_idle_timeout_seconds}"' in page
    assert f'content="{platform.settings.oidc_issuer}"' in page
    issuer = platform.settings.oidc_issuer.split("/realms/")[0]
    assert f"connect-src 'self' {issuer};" in csp, "token calls may reach the issuer's origin"
    assert "<script>" not in page and 'type="module" src="/console/app/main.js"' in page


async def test_app_files_are_served_as_javascript_and_css(platform):
    script = await platform.client.get("/console/app/main.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "content-security-policy" in script.headers
    style = await platform.client.get("/console/app/console.css")
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")


@pytest.mark.parametrize("path", ["/console/app/nope.js", "/console/app/..%2F..%2Fapp.py", "/console/app/.env",
                                  "/console/app/index.html", "/console/vendor/echarts.js",
                                  "/console/vendor/..%2Fpackage.json"])
async def test_only_named_files_are_served(platform, path):
    response = await platform.client.get(path)
    assert response.status_code == 404
    assert response.text != (await platform.client.get("/console/app/main.js")).text


async def test_echarts_is_served_from_the_vendored_package(platform):
    response = await platform.client.get("/console/vendor/echarts.esm.min.mjs")
    assert VENDOR["echarts.esm.min.mjs"].is_file(), "make setup runs npm ci in gateway/console"
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/javascript")
    assert b"echarts" in response.content[:4096].lower() or len(response.content) > 100_000
