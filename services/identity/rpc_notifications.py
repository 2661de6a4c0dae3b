"""Notification RPCs (SPEC 7.8): proto <-> domain; owns the transaction."""

from __future__ import annotations

from prevention.identity.v1 import identity_pb2

from services.common.context import current_caller
from services.common.idempotency import idempotent_rpc
from services.common.pagination import clamp_page_size, decode_page_token, encode_page_token
from services.identity import notifications
from services.identity.convert import timestamp
from services.identity.models import IdempotencyKeys
from services.identity.notification_models import Notification


def notification_to_proto(row: Notification) -> identity_pb2.Notification:
    message = identity_pb2.Notification(name=f"notifications/{row.id}", kind=row.kind, title=row.title, body=row.body,
                                        link=row.link, create_time=timestamp(row.create_time))
    if row.read_time is not None:
        message.read_time.CopyFrom(timestamp(row.read_time))
    return message


def settings_to_proto(view: notifications.SettingsView) -> identity_pb2.NotificationSettings:
    return identity_pb2.NotificationSettings(
        name=f"users/{view.user_id}/notificationSettings", email_enabled=view.email_enabled,
        webhook_url=view.webhook_url, email_available=view.email_available,
        webhook_available=view.webhook_available,
    )


class NotificationRpcs:
    """Mixin of IdentityServicer (uses ``self.db``, ``self.keyring``, ``self.clock``); ``delivery``
    says which channels besides the inbox are on (set by ``build``)."""

    delivery: notifications.Delivery = notifications.Delivery()
    # Tests swap in a fake DNS; None is the system resolver.
    resolver: notifications.Resolver | None = None

    async def Notify(self, request, context):
        caller = current_caller()
        content = notifications.Content(kind=request.kind, title=request.title, body=request.body, link=request.link)
        recipients = notifications.Recipients(users=list(request.users), roles=list(request.roles),
                                              tenant_code=request.tenant_code, organisation=request.organisation)
        notifications.validate(content, recipients)  # refuse a bad request before taking the key

        async def work(session):
            count = await notifications.notify(session, self.clock.now(), caller=caller, content=content,
                                               recipients=recipients, delivery=self.delivery)
            return identity_pb2.NotifyResponse(recipient_count=count)

        return await idempotent_rpc(self.db.sessionmaker, IdempotencyKeys, caller=caller, method="Notify",
                                    request=request, response_type=identity_pb2.NotifyResponse, work=work)

    async def ListNotifications(self, request, context):
        caller = current_caller()
        size = clamp_page_size(request.page_size)
        query = {"unread_only": request.unread_only}
        after = decode_page_token(request.page_token, query)
        async with self.db.session() as session:
            rows = await notifications.list_notifications(
                session, caller=caller, unread_only=request.unread_only,
                after=str(after[0]) if after else None, limit=size + 1,
            )
            unread = await notifications.unread_count(session, caller=caller)
        return identity_pb2.ListNotificationsResponse(
            notifications=[notification_to_proto(r) for r in rows[:size]],
            next_page_token=encode_page_token([rows[size - 1].id], query) if len(rows) > size else "",
            unread_count=unread,
        )

    async def MarkNotificationRead(self, request, context):
        caller = current_caller()
        notification_id = notifications.parse_notification_name(request.name)
        async with self.db.session() as session:
            row = await notifications.mark_read(session, self.clock.now(), caller=caller,
                                                notification_id=notification_id)
            message = notification_to_proto(row)
            await session.commit()
        return identity_pb2.MarkNotificationReadResponse(notification=message)

    async def GetNotificationSettings(self, request, context):
        async with self.db.session() as session:
            view = await notifications.get_settings(session, self.keyring, caller=current_caller(),
                                                    delivery=self.delivery)
        return identity_pb2.GetNotificationSettingsResponse(notification_settings=settings_to_proto(view))

    async def UpdateNotificationSettings(self, request, context):
        wanted = request.notification_settings
        async with self.db.session() as session:
            view = await notifications.update_settings(
                session, self.keyring, self.clock.now(), caller=current_caller(), mask=list(request.update_mask),
                email_enabled=wanted.email_enabled, webhook_url=wanted.webhook_url, delivery=self.delivery,
                resolver=self.resolver,
            )
            await session.commit()
        return identity_pb2.UpdateNotificationSettingsResponse(notification_settings=settings_to_proto(view))
