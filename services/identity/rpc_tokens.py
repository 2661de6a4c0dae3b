"""The embedded OIDC issuer's RPCs (ID-5): the gateway's Keycloak-shaped routes call these."""

from __future__ import annotations

import json

from prevention.identity.v1 import identity_pb2

from services.common.context import current_caller
from services.common.errors import InvalidArgument
from services.identity import audit, tokens
from services.identity.models import User

GRANTS = ("password", "client_credentials", "refresh_token", "authorization_code")


class TokenRpcs:
    def issuer_config(self) -> tokens.IssuerConfig:
        s = self.settings
        return tokens.IssuerConfig(issuer=s.oidc_issuer, audience=s.oidc_audience,
                                   access_seconds=s.token_access_seconds, refresh_seconds=s.token_refresh_seconds,
                                   max_failures=s.login_max_failures, lockout_seconds=s.login_lockout_seconds)

    async def IssueToken(self, request, context):
        if request.grant_type not in GRANTS:
            raise InvalidArgument.field("grant_type", f"must be one of {', '.join(GRANTS)}")
        config, now = self.issuer_config(), self.clock.now()
        async with self.db.session() as session:
            if request.grant_type == "password":
                if not request.username or not request.password:
                    raise InvalidArgument.field("username", "username and password are required")
                grant = await tokens.password_grant(session, self.keyring, config, now, username=request.username,
                                                    password=request.password, totp=request.totp,
                                                    client_id=request.client_id, scope=request.scope or "openid")
            elif request.grant_type == "client_credentials":
                grant = await tokens.client_credentials_grant(session, self.keyring, config, now,
                                                              client_id=request.client_id,
                                                              client_secret=request.client_secret,
                                                              scope=request.scope)
            elif request.grant_type == "authorization_code":
                grant = await tokens.code_grant(session, self.keyring, config, now, code=request.code,
                                                client_id=request.client_id, redirect_uri=request.redirect_uri,
                                                code_verifier=request.code_verifier)
            else:
                grant = await tokens.refresh_grant(session, self.keyring, config, now,
                                                   refresh_token=request.refresh_token, client_id=request.client_id)
            await session.commit()  # failed-login counters and audit persist even when refused
        if grant.error is not None:
            raise grant.error
        return identity_pb2.IssueTokenResponse(
            access_token=grant.access_token, token_type="Bearer", expires_in=grant.expires_in,
            refresh_token=grant.refresh_token, refresh_expires_in=grant.refresh_expires_in, scope=grant.scope,
        )

    def public_clients(self) -> dict[str, list[str]]:
        """Browser clients of the code flow and their exactly registered redirect URIs."""
        uris = self.settings.console_redirect_uris or [f"{self.settings.public_base_url}/console/callback"]
        return {tokens.CONSOLE_CLIENT: list(uris)}

    async def Authorize(self, request, context):
        tokens.check_authorization_request(
            client_id=request.client_id, redirect_uri=request.redirect_uri, code_challenge=request.code_challenge,
            method=request.code_challenge_method, clients=self.public_clients(),
        )
        if not request.username:  # only checking the request, to show the login page
            return identity_pb2.AuthorizeResponse()
        config, now = self.issuer_config(), self.clock.now()
        async with self.db.session() as session:
            code, refused = await tokens.authorize(
                session, self.keyring, config, now, client_id=request.client_id, redirect_uri=request.redirect_uri,
                code_challenge=request.code_challenge, scope=request.scope, username=request.username,
                password=request.password, totp=request.totp,
            )
            await session.commit()
        if refused is not None:
            raise refused.error
        return identity_pb2.AuthorizeResponse(code=code, expires_in=tokens.CODE_SECONDS)

    async def RevokeToken(self, request, context):
        async with self.db.session() as session:
            await tokens.revoke(session, token=request.token)
            await session.commit()
        return identity_pb2.RevokeTokenResponse()

    async def GetJwks(self, request, context):
        async with self.db.session() as session:
            document = await tokens.jwks(session, self.keyring, self.issuer_config(), self.clock.now())
            await session.commit()  # the first call creates the first key
        return identity_pb2.GetJwksResponse(jwks_json=json.dumps(document))

    async def RotateSigningKey(self, request, context):
        caller, now = current_caller(), self.clock.now()
        async with self.db.session() as session:
            key = await tokens.rotate_key(session, self.keyring, now)
            audit.record(session, now=now, kind=audit.SIGNING_KEY_ROTATED, tenant_code=caller.tenant,
                         actor=caller.subject, target=f"signingKeys/{key.kid}")
            await session.commit()
        return identity_pb2.RotateSigningKeyResponse(kid=key.kid)

    async def GetUserInfo(self, request, context):
        caller = current_caller()
        claims = {"sub": caller.subject, "tenant": caller.tenant, "realm_access": {"roles": sorted(caller.roles)}}
        if caller.organisation:
            claims["org"] = caller.organisation
        async with self.db.session() as session:
            user = await session.get(User, caller.subject)
        if user is not None:
            claims.update(preferred_username=user.username, name=user.display_name)
        return identity_pb2.GetUserInfoResponse(claims_json=json.dumps(claims, ensure_ascii=False))
