"""Notification models (SPEC 7.8): the inbox, each user's delivery settings, and the outbox of
e-mail and webhook deliveries written in the same transaction as the notification."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.identity.models import Base

# The webhook URL may carry a receiver's secret (many chat bots put a token in the path): it is
# encrypted with services.common.pii under this context.
WEBHOOK_URL_CONTEXT = "identity.notification_settings.webhook_url"


class Notification(Base):
    """One entry of one user's inbox. ``id`` is time-ordered (milliseconds, then random), so the
    inbox pages newest first by id alone."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_recipient_id", "recipient_id", "id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # The recipient's tenant.
    tenant_code: Mapped[str] = mapped_column(String(6))
    recipient_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"))
    # Subject of the caller whose Notify created it (a user id or service-account-<client>).
    sender: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(48))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str] = mapped_column(String(512))
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    read_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class NotificationSettings(Base):
    """A user's delivery channels besides the inbox; no row means the defaults (inbox only)."""

    __tablename__ = "notification_settings"

    user_id: Mapped[str] = mapped_column(String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    email_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    webhook_url_enc: Mapped[str | None] = mapped_column(Text)
    update_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class NotificationDelivery(Base):
    """Transactional outbox: one row per e-mail or webhook copy of a notification, written with the
    notification and sent by the delivery job. It holds no address or URL: those are read (and
    checked) from the user's current settings when it is sent.

    ``channel``: email | webhook. ``status``: pending | sent | failed.
    """

    __tablename__ = "notification_deliveries"
    __table_args__ = (Index("ix_notification_deliveries_due", "status", "next_attempt_time"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # A short reason, never personal data, an address or a URL.
    last_error: Mapped[str | None] = mapped_column(String(255))
    create_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_time: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
