"""Calendar feeds in the workspace API: a member's or the workspace's .ics subscription, created
(the secret URL shown once), listed and revoked through ``events.feeds``."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from birthdaybuddy.api.schema import CONFLICT, NO_CONTENT
from birthdaybuddy.links import absolute_reverse
from events import feeds
from events.api.serializers import CalendarFeedCreateSerializer, CalendarFeedSerializer
from events.models import CalendarFeed
from workspaces.api.mixins import WorkspaceScopedMixin
from workspaces.api.schema import WORKSPACE_ID
from workspaces.models import Role

ALL_ROLES = frozenset(Role.values)


@extend_schema_view(
    list=extend_schema(
        summary="List calendar feeds",
        description="**Permissions:** any member of the workspace: members see their own feeds, owners/admins "
        "every feed of the workspace. Tokens are never shown again (`url_hint` masks them).",
    ),
    retrieve=extend_schema(summary="Get a calendar feed", description="**Permissions:** as for the list."),
    create=extend_schema(
        summary="Create a calendar feed (.ics subscription URL)",
        description="**Permissions:** any member for `scope` `member` (their own feed: events they host or attend, "
        "plus the workspace's birthdays and anniversaries); owners/admins for `scope` `workspace` (every active "
        "event, birthdays, anniversaries). The response carries the secret `url` **once**; anyone with it can "
        "read the feed until it is revoked. Birth years appear only for people who show their age. At most "
        f"{feeds.MAX_LIVE_FEEDS_PER_USER} live feeds per member (or for the workspace): 409 `too_many_feeds`.",
        request=CalendarFeedCreateSerializer,
        responses={201: CalendarFeedSerializer, 409: CONFLICT},
    ),
    destroy=extend_schema(
        summary="Revoke a calendar feed",
        description="**Permissions:** the feed's owner or a workspace owner/admin. The URL answers 404 from then "
        "on; revoking twice is harmless.",
        responses={204: NO_CONTENT},
    ),
)
@extend_schema(tags=["calendar feeds"], parameters=[WORKSPACE_ID])
class CalendarFeedViewSet(
    WorkspaceScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = CalendarFeed.objects.all()
    serializer_class = CalendarFeedSerializer
    lookup_value_converter = "uuid"
    filter_backends: list = []
    action_roles = {"create": ALL_ROLES, "destroy": ALL_ROLES}

    def get_scoped_queryset(self):
        queryset = CalendarFeed.objects.order_by("-created_at", "id")
        if getattr(self, "swagger_fake_view", False) or self.is_workspace_admin:
            return queryset
        return queryset.filter(user=self.request.user)

    def create(self, request, *args, **kwargs):
        payload = CalendarFeedCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        feed, token = feeds.calendar_feed_create(
            workspace=self.workspace, scope=payload.validated_data["scope"], actor=request.user
        )
        url = absolute_reverse("calendar-feed-ics", kwargs={"token": token})
        context = {**self.get_serializer_context(), "feed_urls": {feed.pk: url}}
        return Response(CalendarFeedSerializer(feed, context=context).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        feeds.calendar_feed_revoke(feed=instance, actor=self.request.user, role=self.role)
