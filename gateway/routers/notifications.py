"""The caller's notification inbox and delivery settings (SPEC 7.8). Services create
notifications over gRPC (IdentityService.Notify); the gateway only shows them to their recipient."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from prevention.identity.v1 import identity_pb2

from gateway.deps import BackendsDep, CurrentCaller
from gateway.problems import ERROR_RESPONSES
from gateway.routers.params import PageSize, PageToken, page_size
from gateway.schemas.notifications import (
    Notification,
    NotificationList,
    NotificationSettings,
    NotificationSettingsUpdate,
)

router = APIRouter(prefix="/v1/notifications", tags=["notifications"], responses=ERROR_RESPONSES)
NotificationId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


@router.get("", response_model=NotificationList)
async def list_notifications(caller: CurrentCaller, backends: BackendsDep,
                             unread_only: Annotated[bool, Query(description="Only unread ones")] = False,
                             page_size_: PageSize = 0, page_token: PageToken = "") -> NotificationList:
    """The caller's own notifications, newest first."""
    response = await backends.identity.ListNotifications(
        identity_pb2.ListNotificationsRequest(unread_only=unread_only, page_size=page_size(page_size_),
                                              page_token=page_token),
        timeout=backends.timeout,
    )
    return NotificationList(notifications=[Notification.from_proto(n) for n in response.notifications],
                            next_page_token=response.next_page_token, unread_count=response.unread_count)


@router.get("/settings", response_model=NotificationSettings)
async def get_notification_settings(caller: CurrentCaller, backends: BackendsDep) -> NotificationSettings:
    response = await backends.identity.GetNotificationSettings(identity_pb2.GetNotificationSettingsRequest(),
                                                               timeout=backends.timeout)
    return NotificationSettings.from_proto(response.notification_settings)


@router.put("/settings", response_model=NotificationSettings)
async def update_notification_settings(body: NotificationSettingsUpdate, caller: CurrentCaller,
                                       backends: BackendsDep) -> NotificationSettings:
    """E-mail copies on/off and the webhook URL (https; loopback, private and link-local hosts are
    refused)."""
    response = await backends.identity.UpdateNotificationSettings(body.to_request(), timeout=backends.timeout)
    return NotificationSettings.from_proto(response.notification_settings)


@router.post("/{notification_id}/read", response_model=Notification)
async def mark_notification_read(notification_id: NotificationId, caller: CurrentCaller,
                                 backends: BackendsDep) -> Notification:
    """Marks one of the caller's own notifications read (anyone else's: 404)."""
    response = await backends.identity.MarkNotificationRead(
        identity_pb2.MarkNotificationReadRequest(name=f"notifications/{notification_id}"), timeout=backends.timeout
    )
    return Notification.from_proto(response.notification)
