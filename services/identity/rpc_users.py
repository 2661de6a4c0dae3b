"""User, TOTP, API-client and audit RPCs (ID-3, ID-4, ID-7, NF-6): proto <-> domain; owns the
transaction."""

from __future__ import annotations

from datetime import timedelta

from prevention.identity.v1 import identity_pb2

from services.common.context import current_caller
from services.common.idempotency import idempotent_rpc
from services.common.pagination import clamp_page_size, decode_page_token, encode_page_token
from services.identity import audit, tokens, users
from services.identity.convert import audit_to_proto, client_to_proto, user_to_proto
from services.identity.models import IdempotencyKeys, User

DEFAULT_SECRET_OVERLAP = timedelta(days=1)


class UserRpcs:
    async def CreateUser(self, request, context):
        caller = current_caller()
        u = request.user
        new = users.NewUser(username=u.username, display_name=u.display_name, roles=list(u.roles),
                            organisation=u.organisation, citizen_id=u.citizen_id, phone=u.phone, email=u.email,
                            password=request.password)

        async def work(session):
            user = await users.create_user(session, self.keyring, self.clock.now(), caller=caller, new=new,
                                           tenant_code=request.tenant_code)
            await self.provisioner.user_changed(user)  # before the commit: a failed mirror rolls back
            personal = users.personal_view(self.keyring, caller, user)
            return identity_pb2.CreateUserResponse(user=user_to_proto(user, personal))

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller, method="CreateUser",
                                    request=request, response_type=identity_pb2.CreateUserResponse, work=work)

    async def GetUser(self, request, context):
        caller = current_caller()
        user_id = users.parse_user_name(request.name, caller)
        async with self.db.session() as session:
            user = await users.get_user(session, self.clock.now(), caller=caller, user_id=user_id)
            users.reencrypt_stale(self.keyring, user)
            await session.commit()  # the audit record of a cross-tenant read; lazily re-encrypted fields
        return identity_pb2.GetUserResponse(user=user_to_proto(user, users.personal_view(self.keyring, caller, user)))

    async def ListUsers(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        after = decode_page_token(request.page_token)
        async with self.db.session() as session:
            rows = await users.list_users(session, caller=caller, after=after[0] if after else None, limit=size + 1)
        return identity_pb2.ListUsersResponse(
            users=[user_to_proto(u, users.personal_view(self.keyring, caller, u)) for u in rows[:size]],
            next_page_token=encode_page_token([rows[size - 1].id]) if len(rows) > size else "",
        )

    async def UpdateUser(self, request, context):
        caller = current_caller()
        user_id = users.parse_user_name(request.user.name, caller)
        u = request.user
        values = {"display_name": u.display_name, "roles": list(u.roles), "enabled": u.enabled, "phone": u.phone,
                  "email": u.email, "organisation": u.organisation}
        async with self.db.session() as session:
            user = await users.update_user(session, self.keyring, self.clock.now(), caller=caller, user_id=user_id,
                                           mask=list(request.update_mask), values=values)
            await self.provisioner.user_changed(user)
            await session.commit()
        return identity_pb2.UpdateUserResponse(
            user=user_to_proto(user, users.personal_view(self.keyring, caller, user))
        )

    async def _self(self, session) -> User:
        caller = current_caller()
        return await users.get_user(session, self.clock.now(), caller=caller, user_id=caller.subject)

    async def EnrollTotp(self, request, context):
        async with self.db.session() as session:
            user = await self._self(session)
            secret = await tokens.enroll_totp(session, self.keyring, self.clock.now(), user=user)
            await session.commit()
        return identity_pb2.EnrollTotpResponse(secret=secret, otpauth_uri=tokens.totp_uri(secret, user.username))

    async def ConfirmTotp(self, request, context):
        async with self.db.session() as session:
            user = await self._self(session)
            await tokens.confirm_totp(session, self.keyring, self.clock.now(), user=user, code=request.code)
            await session.commit()
        return identity_pb2.ConfirmTotpResponse()

    async def CreateApiClient(self, request, context):
        caller = current_caller()
        c = request.api_client
        new = users.NewClient(client_id=c.client_id, display_name=c.display_name, organisation=c.organisation,
                              roles=list(c.roles), scopes=list(c.scopes))

        async def work(session):
            client, secret = await users.create_client(session, self.clock.now(), caller=caller, new=new,
                                                       tenant_code=request.tenant_code)
            issuer_secret = await self.provisioner.client_saved(client, created=True)
            if issuer_secret:  # Keycloak issues this client's tokens: its secret is the one that works
                secret = issuer_secret
                client.secret_hash = tokens.secret_digest(secret)
            return identity_pb2.CreateApiClientResponse(api_client=client_to_proto(client),
                                                        client_secret=secret)

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller, method="CreateApiClient",
                                    request=request, response_type=identity_pb2.CreateApiClientResponse, work=work)

    async def ListApiClients(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        after = decode_page_token(request.page_token)
        async with self.db.session() as session:
            rows = await users.list_clients(session, caller=caller, after=after[0] if after else None,
                                            limit=size + 1)
        return identity_pb2.ListApiClientsResponse(
            api_clients=[client_to_proto(c) for c in rows[:size]],
            next_page_token=encode_page_token([rows[size - 1].client_id]) if len(rows) > size else "",
        )

    async def RotateApiClientSecret(self, request, context):
        caller = current_caller()
        client_id = users.parse_client_name(request.name)
        overlap = timedelta(seconds=request.overlap_seconds) if request.overlap_seconds else DEFAULT_SECRET_OVERLAP
        async with self.db.session() as session:
            secret, expires = await users.rotate_client_secret(session, self.clock.now(), caller=caller,
                                                               client_id=client_id, overlap=overlap)
            client = await users.get_client(session, caller=caller, client_id=client_id)
            issuer_secret = await self.provisioner.client_secret_rotated(client)
            if issuer_secret:
                secret = issuer_secret
                client.secret_hash = tokens.secret_digest(secret)
            await session.commit()
        response = identity_pb2.RotateApiClientSecretResponse(client_secret=secret)
        response.previous_secret_expire_time.FromDatetime(expires)
        return response

    async def UpdateApiClient(self, request, context):
        caller = current_caller()
        client_id = users.parse_client_name(request.api_client.name)
        c = request.api_client
        values = {"display_name": c.display_name, "scopes": list(c.scopes), "roles": list(c.roles),
                  "enabled": c.enabled}
        async with self.db.session() as session:
            client = await users.update_client(session, self.clock.now(), caller=caller, client_id=client_id,
                                               mask=list(request.update_mask), values=values)
            await self.provisioner.client_saved(client, created=False)
            await session.commit()
        return identity_pb2.UpdateApiClientResponse(api_client=client_to_proto(client))

    async def ListAuditEvents(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        query_key = {"kind": request.kind}
        after = decode_page_token(request.page_token, query_key, shape=(int,))
        async with self.db.session() as session:
            rows = await audit.list_events(session, caller=caller, kind=request.kind,
                                           before_id=after[0] if after else None, limit=size + 1)
        return identity_pb2.ListAuditEventsResponse(
            audit_events=[audit_to_proto(r) for r in rows[:size]],
            next_page_token=encode_page_token([rows[size - 1].id], query_key) if len(rows) > size else "",
        )
