"""The embedded OIDC issuer's Keycloak-shaped routes (SPEC 7.2): switching to Keycloak changes
only the base URL. Token endpoint errors follow RFC 6749 section 5.2, not problem+json, because
OAuth2 clients expect that shape. Signing keys live in the identity service; these routes call it."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Annotated
from urllib.parse import unquote

import grpc
from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response
from prevention.identity.v1 import identity_pb2

from gateway.deps import BackendsDep, CurrentCaller
from services.common.grpc_errors import parse_rpc_error

REALM = "/realms/prevention"
OIDC = f"{REALM}/protocol/openid-connect"
router = APIRouter(tags=["oidc"])


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
        "grant_types_supported": ["password", "client_credentials", "refresh_token"],
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
) -> JSONResponse:
    basic = _basic_credentials(request)
    if basic:
        client_id, client_secret = basic
    if grant_type not in ("password", "client_credentials", "refresh_token"):
        return _oauth_error("unsupported_grant_type",
                            "grant_type must be password, client_credentials or refresh_token")
    try:
        reply = await backends.identity.IssueToken(
            identity_pb2.IssueTokenRequest(grant_type=grant_type, client_id=client_id, client_secret=client_secret,
                                           username=username, password=password, totp=totp,
                                           refresh_token=refresh_token, scope=scope),
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
