"""``/workspaces/{id}/audit/``: the workspace's audit trail (its replay: ``notifications.api.audit``)."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from auditlog.models import LogEntry
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, viewsets

from audit.queries import ACTIONS, audit_entries, entry_action, entry_changes, entry_details, entry_operation
from audit.registry import MODEL_LABELS
from workspaces.api.mixins import WorkspaceScopedMixin
from workspaces.api.schema import WORKSPACE_ID
from workspaces.models import ADMIN_ROLES

PERMISSIONS = "**Permissions:** workspace owners and admins (and staff). Members get 403, non-members 404."


# --- output ---------------------------------------------------------------------------------


class AuditActorSerializer(serializers.Serializer):
    id = serializers.UUIDField(allow_null=True, help_text="The user's id; null if the account was deleted.")
    email = serializers.CharField(allow_null=True)


# Inline (inside allOf) rather than a generic "ActionEnum" component that other "action" fields would collide with.
@extend_schema_field({"allOf": [{"type": "string", "enum": list(ACTIONS)}]})
class AuditActionField(serializers.CharField):
    pass


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {},
        "description": "`{field: [old, new]}`; a many-to-many change is `{type: m2m, operation, objects}`. "
        'Secrets show as `********` (set), `""` or null.',
        "example": {"phone": ["", "+14155550100"]},
    }
)
class ChangesField(serializers.JSONField):
    pass


class AuditEntrySerializer(serializers.Serializer):
    """One audit entry: who did what to which object, when, and what changed."""

    id = serializers.IntegerField(read_only=True)
    timestamp = serializers.DateTimeField(read_only=True)
    action = AuditActionField(
        read_only=True,
        help_text="create, update, delete; manual (a send, run or import by someone: see `operation`); "
        "system (`notification.failed`: a delivery that ended failed or unknown).",
    )
    operation = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="Manual and system entries: `notification.resend`, `reminder.send_now`, `digest.run_now`, "
        "`channel.test`, `people.import`, `notification.failed`.",
    )
    actor = AuditActorSerializer(read_only=True, allow_null=True, help_text="Null for the system (tasks, commands).")
    object_type = serializers.CharField(read_only=True, help_text="`app_label.model`, e.g. `workspaces.person`.")
    object_id = serializers.CharField(read_only=True, source="object_pk")
    object_repr = serializers.CharField(read_only=True)
    changes = ChangesField(read_only=True)
    details = serializers.JSONField(read_only=True, help_text="Manual entries: what was sent, created or counted.")
    request_id = serializers.CharField(
        read_only=True, allow_null=True, source="cid", help_text="X-Request-ID of the request."
    )
    remote_addr = serializers.IPAddressField(read_only=True, allow_null=True)

    def to_representation(self, entry: LogEntry) -> dict:
        actor = None
        if entry.actor_id is not None or entry.actor_email:
            actor = {
                "id": str(entry.actor_id) if entry.actor_id else None,
                "email": entry.actor.email if entry.actor_id else entry.actor_email,
            }
        return {
            "id": entry.pk,
            "timestamp": serializers.DateTimeField().to_representation(entry.timestamp),
            "action": entry_action(entry),
            "operation": entry_operation(entry),
            "actor": actor,
            "object_type": f"{entry.content_type.app_label}.{entry.content_type.model}",
            "object_id": entry.object_pk,
            "object_repr": entry.object_repr,
            "changes": entry_changes(entry),
            "details": entry_details(entry),
            "request_id": entry.cid,
            "remote_addr": entry.remote_addr,
        }


# --- filters --------------------------------------------------------------------------------


@extend_schema_field({"type": "string", "enum": list(ACTIONS)})
class ActionFilter(filters.ChoiceFilter):
    """Named after the entry's action, but filters by the API's action names (auditlog stores numbers)."""


class AuditEntryFilterSet(filters.FilterSet):
    """``date_from``/``date_to`` are local dates in the workspace's time zone (inclusive)."""

    model = filters.ChoiceFilter(
        choices=[(label, label) for label in MODEL_LABELS],
        method="filter_model",
        help_text="Entries about one kind of object, e.g. `workspaces.person`.",
    )
    action = ActionFilter(
        choices=[(name, name) for name in ACTIONS], method="filter_action", help_text="What was done."
    )
    operation = filters.CharFilter(method="filter_operation", help_text="Manual entries of one operation.")
    actor = filters.UUIDFilter(field_name="actor_id", help_text="Entries made by this user.")
    object_id = filters.CharFilter(field_name="object_pk", help_text="The history of one object.")
    date_from = filters.DateFilter(method="filter_date_from", help_text="On or after this local date.")
    date_to = filters.DateFilter(method="filter_date_to", help_text="On or before this local date.")

    class Meta:
        model = LogEntry
        fields = ("model", "action", "operation", "actor", "object_id", "date_from", "date_to")

    def filter_model(self, queryset, name, value):
        return queryset.of_model(value) if value else queryset

    def filter_action(self, queryset, name, value):
        return queryset.with_action(value) if value else queryset

    def filter_operation(self, queryset, name, value):
        return queryset.with_operation(value) if value else queryset

    def _local_midnight(self, day) -> datetime:
        view = self.request.parser_context["view"] if self.request is not None else None
        zone = ZoneInfo(view.workspace.timezone) if view is not None and hasattr(view, "workspace") else ZoneInfo("UTC")
        return datetime.combine(day, time.min, tzinfo=zone)

    def filter_date_from(self, queryset, name, value):
        return queryset.filter(timestamp__gte=self._local_midnight(value))

    def filter_date_to(self, queryset, name, value):
        return queryset.filter(timestamp__lt=self._local_midnight(value + timedelta(days=1)))


# --- views ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="Audit log",
        description=(
            "Every create, update and delete of the workspace's data (the workspace, members, invitations, "
            "people, channels, templates, reminders, events), every manual operation (resend, run-now, "
            "send-now, channel test, CSV import) and recorded delivery failures, newest first: who (`actor`), "
            "what (`action`, `operation`), which object, when, and the changed fields as `[old, new]`. "
            "Secrets are never shown. Filters: `model`, `action`, `operation`, `actor`, `object_id`, "
            f"`date_from`/`date_to` (local dates, inclusive). {PERMISSIONS}"
        ),
    ),
    retrieve=extend_schema(summary="Get an audit entry", description=PERMISSIONS),
)
@extend_schema(tags=["audit"], parameters=[WORKSPACE_ID])
class AuditEntryViewSet(
    WorkspaceScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = LogEntry.objects.all()
    serializer_class = AuditEntrySerializer
    filterset_class = AuditEntryFilterSet
    read_roles = ADMIN_ROLES
    lookup_value_converter = "int"
    ordering_fields = ("timestamp",)
    ordering = ("-timestamp", "-id")
    search_fields = ()

    def get_scoped_queryset(self):
        # Scoped to the workspace by WorkspaceScopedMixin, through AuditEntryQuerySet.for_workspace.
        return audit_entries().select_related("actor", "content_type")
