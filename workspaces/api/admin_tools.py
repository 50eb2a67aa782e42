"""Platform staff tools under ``/api/v1/admin/``: members' birthday sync and the cache namespaces."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.response import Response
from rest_framework.views import APIView

from birthdaybuddy import cache as bb_cache
from birthdaybuddy.api.fields import StrictBooleanField
from birthdaybuddy.errors import ApplicationError
from workspaces.models import Workspace
from workspaces.sync import person_sync_from_members

STAFF_TAG = "staff tools"
STAFF_ONLY = "**Permissions:** platform staff only (`is_staff`); others get 403, anonymous callers 401."


# --- Sync members' birthdays --------------------------------------------------------------


class SyncBirthdaysSerializer(serializers.Serializer):
    workspace = serializers.UUIDField(required=False, allow_null=True, help_text="Only this workspace (default: all).")
    backfill_only = StrictBooleanField(
        default=False, help_text="Only create missing Persons; leave existing rows' data as it is."
    )
    dry_run = StrictBooleanField(default=False, help_text="Report what would change; write nothing.")

    def validate_workspace(self, value):
        if value is None:
            return None
        workspace = Workspace.objects.filter(pk=value).first()
        if workspace is None:
            raise serializers.ValidationError("No workspace has this id.", code="does_not_exist")
        return workspace


class SyncPersonChangeSerializer(serializers.Serializer):
    person = serializers.UUIDField(allow_null=True, help_text="Null for a dry run's creations.")
    user = serializers.UUIDField()
    name = serializers.CharField()
    email = serializers.EmailField()
    fields = serializers.ListField(child=serializers.CharField(), help_text="The fields set (updates).")


class SyncErrorSerializer(serializers.Serializer):
    user = serializers.UUIDField()
    email = serializers.EmailField()
    error = serializers.CharField()


class SyncTotalsSerializer(serializers.Serializer):
    workspaces = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    errors = serializers.IntegerField()


class SyncWorkspaceReportSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    slug = serializers.CharField()
    name = serializers.CharField()
    created = SyncPersonChangeSerializer(many=True)
    updated = SyncPersonChangeSerializer(many=True)
    unchanged = serializers.IntegerField(help_text="Members whose Person needed no change.")
    errors = SyncErrorSerializer(many=True, help_text="Members skipped (or partly synced) and why.")


class SyncReportSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    backfill_only = serializers.BooleanField()
    totals = SyncTotalsSerializer()
    workspaces = SyncWorkspaceReportSerializer(many=True)


@extend_schema(
    tags=[STAFF_TAG],
    summary="Sync members' birthdays from their profiles",
    description=(
        f"{STAFF_ONLY}\n\n"
        "Creates or updates every member's Person from their user profile (name, email, phone, Slack id, "
        "date of birth), in one workspace or all, like `manage.py sync_birthdays`. A non-empty profile "
        "value wins; an empty one never clears the Person's field. `backfill_only` only creates missing "
        "Persons (an unlinked Person with the member's email is linked instead of duplicated); `dry_run` "
        "writes nothing. Answers with what was (or would be) created and updated, per workspace."
    ),
    request=SyncBirthdaysSerializer,
    responses={200: SyncReportSerializer},
)
class SyncBirthdaysView(APIView):
    permission_classes = [IsAdminUser]

    def post(self, request):
        payload = SyncBirthdaysSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        report = person_sync_from_members(**payload.validated_data)
        return Response(report.as_dict())


# --- Cache namespaces ---------------------------------------------------------------------


class CacheNamespaceStatsSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    keys = serializers.IntegerField(allow_null=True, help_text="Null where the backend cannot count them.")
    bytes = serializers.IntegerField(allow_null=True, help_text="Null where the backend cannot measure them.")


class CacheTotalsSerializer(serializers.Serializer):
    keys = serializers.IntegerField(allow_null=True)
    bytes = serializers.IntegerField(allow_null=True)


class CacheStatsSerializer(serializers.Serializer):
    backend = serializers.CharField(help_text="`redis`, `file`, or the backend's class name.")
    key_prefix = serializers.CharField()
    namespaces = CacheNamespaceStatsSerializer(many=True)
    total = CacheTotalsSerializer(help_text="Every key under the project's prefix (Redis) or in the cache directory.")
    note = serializers.CharField()


class CacheClearedSerializer(serializers.Serializer):
    namespace = serializers.CharField()
    backend = serializers.CharField()
    deleted = serializers.IntegerField(allow_null=True, help_text="Keys deleted; null where not countable.")
    detail = serializers.CharField()


NAMESPACE_HELP = "One of the namespaces `GET /api/v1/admin/cache` lists (e.g. `birthdays`, `throttle`)."
CLEAR_DESCRIPTION = (
    f"{STAFF_ONLY}\n\n"
    "Deletes every key of one namespace (on Redis: SCAN with the key prefix, then DEL). An unknown "
    "namespace is a 400 listing the valid ones. On the file cache, which cannot list keys, `birthdays` "
    "is cleared by dropping every workspace's version key; other namespaces cannot be cleared there (400)."
)


def _clear(name: str | None) -> Response:
    valid = sorted(bb_cache.NAMESPACES)
    if not name or name not in bb_cache.NAMESPACES:
        raise ApplicationError(
            f"Unknown cache namespace {name!r}; choose one of: {', '.join(valid)}."
            if name
            else f"Say which namespace to clear (?namespace=…): one of {', '.join(valid)}.",
            code="invalid_namespace",
            extra={"errors": {"namespace": [f"Choose one of: {', '.join(valid)}."]}, "namespaces": valid},
        )
    try:
        return Response(bb_cache.cache_clear(name))
    except bb_cache.NamespaceNotClearable as exc:
        raise ApplicationError(str(exc), code="namespace_not_clearable") from exc


@extend_schema(tags=[STAFF_TAG])
class CacheView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        summary="Cache keys and sizes per namespace",
        operation_id="admin_cache_stats",
        description=(
            f"{STAFF_ONLY}\n\n"
            "For each namespace of the shared cache: how many keys it holds and their size in bytes. On "
            "Redis the keys are found with SCAN under the project's key prefix and measured with MEMORY "
            "USAGE (STRLEN where MEMORY is refused). The file cache stores keys hashed, so only its total "
            "entry count and size are given (per-namespace figures are null)."
        ),
        responses={200: CacheStatsSerializer},
    )
    def get(self, request):
        return Response(bb_cache.cache_stats())

    @extend_schema(
        summary="Clear a cache namespace",
        operation_id="admin_cache_clear",
        description=CLEAR_DESCRIPTION,
        parameters=[OpenApiParameter("namespace", OpenApiTypes.STR, required=True, description=NAMESPACE_HELP)],
        responses={200: CacheClearedSerializer},
    )
    def delete(self, request):
        return _clear(request.query_params.get("namespace"))


@extend_schema(tags=[STAFF_TAG])
class CacheNamespaceView(APIView):
    permission_classes = [IsAdminUser]

    @extend_schema(
        summary="Clear a cache namespace (by path)",
        operation_id="admin_cache_namespace_clear",
        description=CLEAR_DESCRIPTION,
        parameters=[OpenApiParameter("namespace", OpenApiTypes.STR, OpenApiParameter.PATH, description=NAMESPACE_HELP)],
        responses={200: CacheClearedSerializer},
    )
    def delete(self, request, namespace: str):
        return _clear(namespace)
