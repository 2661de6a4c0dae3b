"""Notifications (SPEC 7.8): the caller's own inbox and delivery settings."""

from __future__ import annotations

from datetime import datetime

from prevention.identity.v1 import identity_pb2
from pydantic import BaseModel, Field

from gateway.schemas.common import Strict


class Notification(BaseModel):
    id: str
    kind: str = Field(description="What happened, e.g. RECTIFICATION_OVERDUE")
    title: str
    body: str
    link: str = Field(description="A path inside the platform (may be empty)")
    create_time: datetime
    read_time: datetime | None = Field(description="null while unread")

    @classmethod
    def from_proto(cls, m: identity_pb2.Notification) -> Notification:
        return cls(id=m.name.removeprefix("notifications/"), kind=m.kind, title=m.title, body=m.body, link=m.link,
                   create_time=m.create_time.ToDatetime(),
                   read_time=m.read_time.ToDatetime() if m.HasField("read_time") else None)


class NotificationList(BaseModel):
    notifications: list[Notification]
    next_page_token: str
    unread_count: int = Field(description="Unread notifications in the whole inbox")


class NotificationSettings(BaseModel):
    email_enabled: bool
    webhook_url: str
    email_available: bool = Field(description="The platform sends e-mail and the user has an address")
    webhook_available: bool = Field(description="The platform delivers webhooks")

    @classmethod
    def from_proto(cls, m: identity_pb2.NotificationSettings) -> NotificationSettings:
        return cls(email_enabled=m.email_enabled, webhook_url=m.webhook_url, email_available=m.email_available,
                   webhook_available=m.webhook_available)


class NotificationSettingsUpdate(Strict):
    """Replaces the settings (PUT): an omitted field takes its default (off)."""

    email_enabled: bool = False
    webhook_url: str = Field(
        default="", max_length=2048, pattern=r"^(https?://\S+)?$",
        description=(
            "Empty for none, or an https URL that receives each notification as a JSON POST (plain http only "
            "to hosts the operator allow-lists, in the dev profile). The host must resolve only to public "
            "addresses: loopback, private, link-local, shared, multicast, reserved and unspecified addresses "
            "are refused with 400, when saved and again before every delivery; no user:password@, and "
            "redirects are never followed."
        ),
    )

    def to_request(self) -> identity_pb2.UpdateNotificationSettingsRequest:
        return identity_pb2.UpdateNotificationSettingsRequest(
            notification_settings=identity_pb2.NotificationSettings(email_enabled=self.email_enabled,
                                                                    webhook_url=self.webhook_url),
            update_mask=["email_enabled", "webhook_url"],
        )
