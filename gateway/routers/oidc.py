"""The embedded OIDC issuer's Keycloak-shaped routes (SPEC 7.2): switching to Keycloak changes
only the base URL. Token endpoint errors follow RFC 6749 section 5.2, not problem+json, because
OAuth2 clients expect that shape. Signing keys live in the identity service; these routes call it."""

from __future__ import annotations

import base64
import binascii
import html
import json
from typing import Annotated
from urllib.parse import unquote, urlencode

import grpc
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from prevention.identity.v1 import identity_pb2

from gateway.deps import BackendsDep, CurrentCaller
from services.common.grpc_errors import parse_rpc_error

GRANT_TYPES = ("authorization_code", "password", "client_credentials", "refresh_token")
REALM = "/realms/prevention"
OIDC = f"{REALM}/protocol/openid-connect"
# The OIDC protocol surface is described by the discovery document, not the REST contract.
router = APIRouter(tags=["oidc"], include_in_schema=False)


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="prevention"'
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        client_id, _, secret = base64.b64decode(value, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return unquote(client_id), unquote(secret)


@router.get(f"{REALM}/.well-known/openid-configuration")
async def discovery(request: Request) -> dict:
    issuer = request.app.state.settings.oidc_issuer
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/protocol/openid-connect/auth",
        "token_endpoint": f"{issuer}/protocol/openid-connect/token",
        "jwks_uri": f"{issuer}/protocol/openid-connect/certs",
        "userinfo_endpoint": f"{issuer}/protocol/openid-connect/userinfo",
        "end_session_endpoint": f"{issuer}/protocol/openid-connect/logout",
        "revocation_endpoint": f"{issuer}/protocol/openid-connect/revoke",
        "grant_types_supported": list(GRANT_TYPES),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
        "scopes_supported": ["openid", "profile", "learning_records.write", "learning_records.read", "xapi"],
    }


@router.get(f"{OIDC}/certs")
async def certs(backends: BackendsDep) -> Response:
    response = await backends.identity.GetJwks(identity_pb2.GetJwksRequest(), timeout=backends.timeout)
    return Response(response.jwks_json, media_type="application/json", headers={"Cache-Control": "max-age=60"})


@router.post(f"{OIDC}/token")
async def token(
    request: Request,
    backends: BackendsDep,
    grant_type: Annotated[str, Form()] = "",
    client_id: Annotated[str, Form()] = "",
    client_secret: Annotated[str, Form()] = "",
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    totp: Annotated[str, Form()] = "",
    refresh_token: Annotated[str, Form()] = "",
    scope: Annotated[str, Form()] = "",
    code: Annotated[str, Form()] = "",
    redirect_uri: Annotated[str, Form()] = "",
    code_verifier: Annotated[str, Form()] = "",
) -> JSONResponse:
    basic = _basic_credentials(request)
    if basic:
        client_id, client_secret = basic
    if grant_type not in GRANT_TYPES:
        return _oauth_error("unsupported_grant_type", f"grant_type must be one of {', '.join(GRANT_TYPES)}")
    try:
        reply = await backends.identity.IssueToken(
            identity_pb2.IssueTokenRequest(grant_type=grant_type, client_id=client_id, client_secret=client_secret,
                                           username=username, password=password, totp=totp,
                                           refresh_token=refresh_token, scope=scope, code=code,
                                           redirect_uri=redirect_uri, code_verifier=code_verifier),
            timeout=backends.timeout,
        )
    except grpc.aio.AioRpcError as error:
        failure = parse_rpc_error(error)
        if failure.code == grpc.StatusCode.UNAUTHENTICATED:
            if failure.reason == "INVALID_CLIENT":
                return _oauth_error("invalid_client", failure.message, 401 if basic else 400)
            return _oauth_error("invalid_grant", failure.message)
        if failure.code == grpc.StatusCode.INVALID_ARGUMENT:
            fields = {v.field for v in failure.violations}
            return _oauth_error("invalid_scope" if "scope" in fields else "invalid_request", failure.message)
        raise
    body = {"access_token": reply.access_token, "token_type": "Bearer", "expires_in": reply.expires_in,
            "scope": reply.scope}
    if reply.refresh_token:
        body.update(refresh_token=reply.refresh_token, refresh_expires_in=reply.refresh_expires_in)
    return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def _revoke(backends, token_value: str, client_id: str) -> Response:
    await backends.identity.RevokeToken(identity_pb2.RevokeTokenRequest(token=token_value, client_id=client_id),
                                        timeout=backends.timeout)
    return Response(status_code=200)


@router.post(f"{OIDC}/revoke")
async def revoke(backends: BackendsDep, token: Annotated[str, Form()] = "",
                 client_id: Annotated[str, Form()] = "") -> Response:
    """RFC 7009: 200 whether or not the token was known."""
    return await _revoke(backends, token, client_id)


@router.post(f"{OIDC}/logout")
async def logout(backends: BackendsDep, refresh_token: Annotated[str, Form()] = "",
                 client_id: Annotated[str, Form()] = "") -> Response:
    """Ends the session: the refresh token stops working."""
    return await _revoke(backends, refresh_token, client_id)


@router.get(f"{OIDC}/userinfo")
async def userinfo(caller: CurrentCaller, backends: BackendsDep) -> dict:
    response = await backends.identity.GetUserInfo(identity_pb2.GetUserInfoRequest(), timeout=backends.timeout)
    return json.loads(response.claims_json)


# -- authorization code + PKCE: the login page ----------------------------------------------------

LOGIN_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>登录 · Sign in — 工伤预防平台</title>
<style>body{{font-family:system-ui,sans-serif;max-width:24rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a}}
label{{display:block;margin-top:1rem}}input{{width:100%;padding:.5rem;font-size:1rem;box-sizing:border-box}}
button{{margin-top:1.5rem;padding:.6rem 1.2rem;font-size:1rem}}.error{{color:#a40000;margin-top:1rem}}</style>
</head><body><main>
<h1>工伤预防平台 <small lang="en">Work-Injury Prevention Platform</small></h1>
{error}
<form method="post" action="{action}">
{hidden}
<label for="username">用户名 <span lang="en">Username</span></label>
<input id="username" name="username" autocomplete="username" required value="{username}">
<label for="password">密码 <span lang="en">Password</span></label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<label for="totp">动态口令（运营人员必填） <span lang="en">One-time code (operators)</span></label>
<input id="totp" name="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{{6,8}}">
<button type="submit">登录 <span lang="en">Sign in</span></button>
</form></main></body></html>"""
AUTH_PARAMS = ("response_type", "client_id", "redirect_uri", "code_challenge", "code_challenge_method", "state",
               "scope")


def _login_page(params: dict[str, str], *, error: str = "", username: str = "", status: int = 200) -> HTMLResponse:
    hidden = "\n".join(f'<input type="hidden" name="{k}" value="{html.escape(params.get(k, ""))}">'
                       for k in AUTH_PARAMS)
    block = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    page = _PAGE.format(error=block, action=f"{OIDC}/auth", hidden=hidden, username=html.escape(username))
    return HTMLResponse(page, status_code=status, headers=LOGIN_HEADERS)


def _error_page(message: str) -> HTMLResponse:
    """Client or redirect problems are shown here and never redirected (no open redirect)."""
    page = f"<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>错误 Error</title>" \
           f"<p role=\"alert\">{html.escape(message)}</p></html>"
    return HTMLResponse(page, status_code=400, headers=LOGIN_HEADERS)


async def _check_client(backends, params: dict[str, str]) -> str | None:
    """Asks identity to validate client, redirect URI and PKCE without credentials."""
    if params.get("response_type") != "code":
        return "response_type must be code"
    try:
        await backends.identity.Authorize(
            identity_pb2.AuthorizeRequest(client_id=params.get("client_id", ""),
                                          redirect_uri=params.get("redirect_uri", ""),
                                          code_challenge=params.get("code_challenge", ""),
                                          code_challenge_method=params.get("code_challenge_method", ""),
                                          scope=params.get("scope", "")),
            timeout=backends.timeout)
    except grpc.aio.AioRpcError as error:
        failure = parse_rpc_error(error)
        if failure.code == grpc.StatusCode.INVALID_ARGUMENT and failure.violations:
            return "; ".join(f"{v.field}: {v.description}" for v in failure.violations)
        raise
    return None


@router.get(f"{OIDC}/auth", response_class=HTMLResponse)
async def authorize_page(request: Request, backends: BackendsDep) -> HTMLResponse:
    params = {k: request.query_params.get(k, "") for k in AUTH_PARAMS}
    problem = await _check_client(backends, params)
    return _error_page(problem) if problem else _login_page(params)


@router.post(f"{OIDC}/auth", response_class=HTMLResponse)
async def authorize_submit(request: Request, backends: BackendsDep) -> Response:
    form = await request.form()
    params = {k: str(form.get(k, "")) for k in AUTH_PARAMS}
    if params.get("response_type") != "code":
        return _error_page("response_type must be code")
    username = str(form.get("username", ""))
    try:
        reply = await backends.identity.Authorize(
            identity_pb2.AuthorizeRequest(
                client_id=params["client_id"], redirect_uri=params["redirect_uri"],
                code_challenge=params["code_challenge"], code_challenge_method=params["code_challenge_method"],
                scope=params["scope"], username=username, password=str(form.get("password", "")),
                totp=str(form.get("totp", ""))),
            timeout=backends.timeout)
    except grpc.aio.AioRpcError as error:
        failure = parse_rpc_error(error)
        if failure.code == grpc.StatusCode.INVALID_ARGUMENT and failure.violations:
            return _error_page("; ".join(f"{v.field}: {v.description}" for v in failure.violations))
        if failure.code != grpc.StatusCode.UNAUTHENTICATED:
            raise
        message = {
            "ACCOUNT_LOCKED": "账户已暂时锁定 / Account temporarily locked",
            "TOTP_REQUIRED": "请输入动态口令 / Enter your one-time code",
        }.get(failure.reason, "用户名、密码或动态口令错误 / Wrong username, password or code")
        return _login_page(params, error=message, username=username, status=400)
    query = {"code": reply.code}
    if params["state"]:
        query["state"] = params["state"]
    separator = "&" if "?" in params["redirect_uri"] else "?"
    return RedirectResponse(f"{params['redirect_uri']}{separator}{urlencode(query)}", status_code=302,
                            headers={"Cache-Control": "no-store"})
