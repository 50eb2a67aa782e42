"""``/workspaces/{id}/audit/{entry}/replay``: sending a notification again from the audit trail.

The trail itself (``workspaces.api.audit``) sits below the notifications; the replay is theirs.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from birthdaybuddy.api.schema import CONFLICT
from notifications import replay
from workspaces.api.audit import PERMISSIONS, AuditEntryViewSet


class ReplayResultSerializer(serializers.Serializer):
    """The new notification the replay queued."""

    id = serializers.UUIDField()
    status = serializers.CharField()
    channel = serializers.CharField()
    recipient = serializers.CharField()
    resent_from = serializers.UUIDField(source="resent_from_id", allow_null=True)
    created_at = serializers.DateTimeField()


class AuditEntryReplayViewSet(AuditEntryViewSet):
    """The audit trail's entries, with the replay of the notification one is about."""

    @extend_schema(
        summary="Replay a failed notification",
        description=(
            "For an entry about a notification (its failure, `notification.failed`, or a resend) whose "
            "notification is `failed` or `unknown`: sends it again, exactly like "
            "`POST …/notifications/{id}/resend` (a new notification linked by `resent_from`), and records "
            "the replay in the audit log. 409 if the notification is in any other state or an earlier "
            "resend is still pending or sent; 404 if the entry is not about a notification of this "
            f"workspace. {PERMISSIONS}"
        ),
        request=None,
        responses={201: ReplayResultSerializer, 409: CONFLICT},
    )
    def replay(self, request, *args, **kwargs):
        entry = self.get_object()
        resent = replay.audit_entry_replay(entry=entry, workspace=self.workspace, actor=request.user)
        return Response(ReplayResultSerializer(resent).data, status=status.HTTP_201_CREATED)
