from rest_framework import serializers

from birthdaybuddy.api.fields import StrictBooleanField
from reminders.models import ReminderKind
from scheduling.models import JobRun


class RunNowInputSerializer(serializers.Serializer):
    date = serializers.DateField(required=False, help_text="Local date to run (default: the workspace's today).")
    dry_run = StrictBooleanField(default=False, help_text="Show what would be sent; send nothing.")


class PlannedMessageSerializer(serializers.Serializer):
    channel = serializers.CharField()
    recipient = serializers.CharField()
    person = serializers.UUIDField(allow_null=True)
    subject = serializers.CharField(allow_blank=True)
    body = serializers.CharField()
    already_sent = serializers.BooleanField()


class RunNowResultSerializer(serializers.Serializer):
    date = serializers.DateField()
    dry_run = serializers.BooleanField()
    scheduled_for = serializers.DateTimeField(help_text="The UTC instant of this date's digest.")
    created = serializers.IntegerField(help_text="Notifications written now (0 in a dry run).")
    would_create = serializers.IntegerField(help_text="Dry run: notifications that would be written.")
    already_sent = serializers.IntegerField(
        help_text="Messages of this date that already existed, whatever their status (the sum of the four below)."
    )
    already_delivered = serializers.IntegerField(help_text="Messages that already existed and were sent or delivered.")
    already_failed = serializers.IntegerField(
        help_text="Messages that already existed and failed (or ended unknown): resend them, a run does not."
    )
    pending = serializers.IntegerField(help_text="Messages that already existed and are still pending or sending.")
    already_skipped = serializers.IntegerField(help_text="Messages that already existed as skipped records.")
    detail = serializers.CharField()
    job_run = serializers.UUIDField(allow_null=True)
    messages = PlannedMessageSerializer(many=True)


class JobRunSerializer(serializers.ModelSerializer):
    due = serializers.SerializerMethodField()
    created = serializers.SerializerMethodField()
    missed = serializers.SerializerMethodField()

    class Meta:
        model = JobRun
        fields = ("id", "kind", "dry_run", "started_at", "finished_at", "due", "created", "missed", "error")
        read_only_fields = fields

    # A tick spans every workspace: only this workspace's share is shown.
    def _scoped(self, obj, name: str) -> int:
        if obj.workspace_id is None:
            return int(getattr(obj, f"ws_{name}", 0) or 0)
        return getattr(obj, name)

    def get_due(self, obj) -> int:
        return self._scoped(obj, "due")

    def get_created(self, obj) -> int:
        return self._scoped(obj, "created")

    def get_missed(self, obj) -> int:
        return self._scoped(obj, "missed")


# --- reminders: send now and preview ----------------------------------------------------------


class ReminderMessageSerializer(PlannedMessageSerializer):
    skipped = serializers.BooleanField(help_text="Nobody can be reached: recorded as skipped, not sent.")
    reason = serializers.CharField(allow_blank=True, help_text="Why it is skipped (opted out, no address).")


class OccurrenceRefSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="The occurrence's scheduled instant (UTC).")
    local = serializers.CharField(help_text="Its local date and time in the workspace's zone (YYYY-MM-DDTHH:MM).")


class SendNowResultSerializer(serializers.Serializer):
    reminder = serializers.UUIDField()
    occurrence = OccurrenceRefSerializer()
    created = serializers.IntegerField(help_text="Notifications queued now.")
    skipped = serializers.IntegerField(help_text="Recipients recorded as skipped (opted out or unreachable).")
    manual_extra = serializers.BooleanField(
        help_text="True: an extra copy, the schedule untouched. False: the digest ran today's own messages."
    )
    already_sent = serializers.IntegerField(
        help_text="Digest: messages of today that already existed, whatever their status (0 for an extra copy)."
    )
    already_delivered = serializers.IntegerField(help_text="Messages that already existed and were sent or delivered.")
    already_failed = serializers.IntegerField(
        help_text="Messages that already existed and failed (or ended unknown): resend them, a run does not."
    )
    pending = serializers.IntegerField(help_text="Messages that already existed and are still pending or sending.")
    already_skipped = serializers.IntegerField(help_text="Messages that already existed as skipped records.")
    detail = serializers.CharField()
    job_run = serializers.UUIDField(allow_null=True)
    messages = ReminderMessageSerializer(many=True)


class PreviewQuerySerializer(serializers.Serializer):
    count = serializers.IntegerField(min_value=1, max_value=50, default=5, help_text="Occurrences to show (1-50).")


class PreviewOccurrenceSerializer(serializers.Serializer):
    at = serializers.DateTimeField(help_text="The occurrence's scheduled instant (UTC).")
    local = serializers.CharField(help_text="Its local date and time in the workspace's zone (YYYY-MM-DDTHH:MM).")
    send_at = serializers.DateTimeField(help_text="When it goes out: `at`, or the end of quiet hours.")
    deferred = serializers.BooleanField(help_text="Held back by the workspace's quiet hours.")
    messages = ReminderMessageSerializer(many=True)


class PreviewSerializer(serializers.Serializer):
    reminder = serializers.UUIDField()
    timezone = serializers.CharField()
    active = serializers.BooleanField()
    occurrences = PreviewOccurrenceSerializer(many=True)


# --- the workspace's upcoming messages --------------------------------------------------------

UPCOMING_MAX_DAYS = 31


class UpcomingQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(
        min_value=1,
        max_value=UPCOMING_MAX_DAYS,
        default=7,
        help_text=f"Local days to look ahead, today included (1-{UPCOMING_MAX_DAYS}).",
    )
    kind = serializers.ChoiceField(choices=ReminderKind.choices, required=False, help_text="Only this kind.")
    reminder = serializers.UUIDField(required=False, help_text="Only this reminder.")


class UpcomingEntrySerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The occurrence's local date in the workspace's zone.")
    at = serializers.DateTimeField(help_text="The occurrence's scheduled instant (UTC).")
    local = serializers.CharField(help_text="Its local date and time (YYYY-MM-DDTHH:MM).")
    send_at = serializers.DateTimeField(help_text="When it goes out (UTC): `at`, or the end of quiet hours.")
    send_at_local = serializers.CharField(help_text="`send_at` in the workspace's zone (YYYY-MM-DDTHH:MM).")
    deferred = serializers.BooleanField(help_text="Held back by the workspace's quiet hours.")
    reminder = serializers.UUIDField(help_text="The reminder's id.")
    kind = serializers.CharField(help_text="The reminder's kind: " + ", ".join(ReminderKind.values) + ".")
    name = serializers.CharField(help_text="The reminder's name.")
    messages = ReminderMessageSerializer(many=True)
