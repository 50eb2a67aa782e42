"""A gathering's checklist, comments and files in the workspace API. Every view inherits
``WorkspaceScopedMixin``; writes call ``gatherings.checklist``, ``thread`` and ``files``."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import Q
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from birthdaybuddy.api.schema import NO_CONTENT
from birthdaybuddy.errors import PermissionDeniedError
from events.services import event_may_edit
from gatherings import checklist, files, thread
from gatherings.api.common import (
    ALL_ROLES,
    ANY_MEMBER,
    AUTHOR_OR_ORGANISER,
    COSTS_CONFLICT,
    GATHERING_RULES,
    ORGANISERS,
    ByEventFilterSet,
    GatheringRecordViewSet,
    event_in,
    require_author_or_organiser,
)
from gatherings.api.serializers import (
    CommentEditSerializer,
    CommentInputSerializer,
    CommentSerializer,
    EventFileSerializer,
    FileUploadSerializer,
    TaskInputSerializer,
    TaskSerializer,
)
from gatherings.models import Comment, EventFile, Task
from workspaces.api.mixins import WorkspaceScopedMixin
from workspaces.api.schema import WORKSPACE_ID


class TaskFilterSet(ByEventFilterSet):
    class Meta:
        model = Task
        fields = ("event", "done", "assignee")


@extend_schema_view(
    list=extend_schema(
        summary="List checklist items", description=f"{ANY_MEMBER} Filter by `event`, `done`, `assignee`."
    ),
    retrieve=extend_schema(summary="Get a checklist item", description=ANY_MEMBER),
    create=extend_schema(
        summary="Add a task or something to bring to a gathering",
        description=f"{ANY_MEMBER}\n\n{GATHERING_RULES} While an item has an `assignee` and a `due_on` and is not "
        "`done`, the assignee gets a reminder through the reminders pipeline the day before at the workspace's "
        "`notify_at` (or on the due day if that has passed), on their own channels, respecting quiet hours and "
        "opt-outs, once. `due_on` in the past: 400 `in_the_past`.",
        request=TaskInputSerializer,
        responses={201: TaskSerializer, 409: COSTS_CONFLICT},
    ),
    partial_update=extend_schema(
        summary="Change a checklist item (assign, reschedule, tick off)",
        description=f"{ANY_MEMBER} The reminder follows: moved with the due date, re-addressed with the assignee, "
        "paused when the item is done or unassigned.",
        request=TaskInputSerializer(partial=True),
        responses={200: TaskSerializer, 409: COSTS_CONFLICT},
    ),
    destroy=extend_schema(
        summary="Delete a checklist item",
        description=f"{AUTHOR_OR_ORGANISER} Its reminder goes with it.",
        responses={204: NO_CONTENT, 409: COSTS_CONFLICT},
    ),
)
@extend_schema(tags=["gathering tasks"], parameters=[WORKSPACE_ID])
class TaskViewSet(GatheringRecordViewSet):
    queryset = Task.objects.all()
    serializer_class = TaskSerializer
    filterset_class = TaskFilterSet

    def get_scoped_queryset(self):
        return Task.objects.select_related("event", "assignee", "reminder").order_by(
            "done", "due_on", "created_at", "id"
        )

    def create(self, request, *args, **kwargs):
        payload = TaskInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        event = event_in(self.workspace, data.pop("event"))
        task = checklist.task_create(event=event, data=data, actor=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=task.pk)).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        task = self.get_object()
        payload = TaskInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if "event" in data and data.pop("event") != task.event_id:
            raise ValidationError({"event": ["A task cannot move to another event."]})
        task = checklist.task_update(task=task, data=data, actor=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=task.pk)).data)

    def perform_destroy(self, instance):
        require_author_or_organiser(self, instance)
        checklist.task_delete(task=instance, actor=self.request.user)


class CommentFilterSet(ByEventFilterSet):
    class Meta:
        model = Comment
        fields = ("event",)


@extend_schema_view(
    list=extend_schema(
        summary="List comments",
        description=f"{ANY_MEMBER} Filter by `event`. Hidden comments are listed for organisers only "
        "(owners/admins and the event's host).",
    ),
    retrieve=extend_schema(summary="Get a comment", description=ANY_MEMBER),
    create=extend_schema(
        summary="Comment on a gathering",
        description=f"{ANY_MEMBER}\n\nGatherings only (400 `not_a_gathering`); a cancelled event refuses "
        "comments (409 `event_cancelled`). Guests comment from their page.",
        request=CommentInputSerializer,
        responses={201: CommentSerializer, 409: COSTS_CONFLICT},
    ),
    partial_update=extend_schema(
        summary="Edit your comment",
        description="**Permissions:** its author only (403 `not_the_author`).",
        request=CommentEditSerializer,
        responses={200: CommentSerializer},
    ),
    destroy=extend_schema(
        summary="Delete a comment",
        description=f"{AUTHOR_OR_ORGANISER.replace('whoever recorded it', 'its author')}",
        responses={204: NO_CONTENT},
    ),
    hide=extend_schema(
        summary="Hide a comment (moderation)",
        description=f"{ORGANISERS} Hidden comments are shown to organisers only.",
        request=None,
        responses={200: CommentSerializer},
    ),
    show=extend_schema(
        summary="Show a hidden comment again",
        description=ORGANISERS,
        request=None,
        responses={200: CommentSerializer},
    ),
)
@extend_schema(tags=["gathering comments"], parameters=[WORKSPACE_ID])
class CommentViewSet(GatheringRecordViewSet):
    queryset = Comment.objects.all()
    serializer_class = CommentSerializer
    filterset_class = CommentFilterSet
    action_roles = {
        "create": ALL_ROLES,
        "partial_update": ALL_ROLES,
        "destroy": ALL_ROLES,
        "hide": ALL_ROLES,
        "show": ALL_ROLES,
    }

    def get_scoped_queryset(self):
        comments = Comment.objects.select_related("event", "author_user", "author_person").order_by("created_at", "id")
        if getattr(self, "swagger_fake_view", False) or self.is_workspace_admin:
            return comments
        user = self.request.user
        return comments.filter(Q(hidden=False) | Q(event__host=user))

    def _require_organiser(self, comment: Comment) -> None:
        if not event_may_edit(event=comment.event, user=self.request.user, role=self.role):
            raise PermissionDeniedError(
                "Only a workspace owner or admin, or the event's host, can moderate comments.", code="role_required"
            )

    def create(self, request, *args, **kwargs):
        payload = CommentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        event = event_in(self.workspace, payload.validated_data["event"])
        comment = thread.comment_post(event=event, body=payload.validated_data["body"], user=request.user)
        fresh = self.get_queryset().get(pk=comment.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        comment = self.get_object()
        payload = CommentEditSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        comment = thread.comment_edit(comment=comment, body=payload.validated_data["body"], user=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=comment.pk)).data)

    def perform_destroy(self, instance):
        moderator = event_may_edit(event=instance.event, user=self.request.user, role=self.role)
        thread.comment_delete(comment=instance, user=self.request.user, moderator=moderator)

    @action(detail=True, methods=["post"], filter_backends=[])
    def hide(self, request, *args, **kwargs):
        comment = self.get_object()
        self._require_organiser(comment)
        comment = thread.comment_hide(comment=comment, hidden=True, actor=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=comment.pk)).data)

    @action(detail=True, methods=["post"], filter_backends=[])
    def show(self, request, *args, **kwargs):
        comment = self.get_object()
        self._require_organiser(comment)
        comment = thread.comment_hide(comment=comment, hidden=False, actor=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=comment.pk)).data)


class EventFileFilterSet(ByEventFilterSet):
    class Meta:
        model = EventFile
        fields = ("event",)


@extend_schema_view(
    list=extend_schema(summary="List a gathering's photos and files", description=f"{ANY_MEMBER} Filter by `event`."),
    retrieve=extend_schema(summary="Get a photo or file", description=ANY_MEMBER),
    create=extend_schema(
        summary="Upload a photo or a PDF to a gathering",
        description=f"{ANY_MEMBER}\n\n`multipart/form-data` with `event` and `file`. The type is read from the "
        "content, not the name: JPEG, PNG, GIF, WebP or PDF (400 `unsupported_type`; `damaged`; `empty`; "
        "`too_large` above 10 MB or 40 megapixels). Images are stored re-encoded without metadata (no EXIF "
        "location) with a thumbnail. `url`/`thumbnail_url` are signed and expire after an hour.",
        request={"multipart/form-data": FileUploadSerializer},
        responses={201: EventFileSerializer, 409: COSTS_CONFLICT},
    ),
    destroy=extend_schema(
        summary="Delete a photo or file",
        description="**Permissions:** its uploader, workspace owners and admins (and staff), and the event's host.",
        responses={204: NO_CONTENT},
    ),
)
@extend_schema(tags=["gathering files"], parameters=[WORKSPACE_ID])
class EventFileViewSet(
    WorkspaceScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = EventFile.objects.all()
    serializer_class = EventFileSerializer
    filterset_class = EventFileFilterSet
    lookup_value_converter = "uuid"
    parser_classes = (MultiPartParser, FormParser, JSONParser)
    action_roles = {"create": ALL_ROLES, "destroy": ALL_ROLES}

    def get_scoped_queryset(self):
        return EventFile.objects.select_related("event").order_by("-created_at", "id")

    def create(self, request, *args, **kwargs):
        payload = FileUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        event = event_in(self.workspace, payload.validated_data["event"])
        record = files.file_upload(event=event, upload=payload.validated_data["file"], user=request.user)
        fresh = self.get_queryset().get(pk=record.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        moderator = event_may_edit(event=instance.event, user=self.request.user, role=self.role)
        files.file_delete(record=instance, user=self.request.user, moderator=moderator)
