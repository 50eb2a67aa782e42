"""The date poll: options proposed, votes, the table the organiser fixes a date from."""

from __future__ import annotations

from rest_framework import serializers

from birthdaybuddy.api.fields import StrictCharField
from events.api.serializers import (
    EventDateTimeField,
    StrictDateField,
    StrictUUIDField,
    iso_utc,
)


class PollOptionInSerializer(serializers.Serializer):
    """A proposed date (all-day) or time slot; naive times are in the workspace's zone."""

    date = StrictDateField(required=False, allow_null=True)
    starts_at = EventDateTimeField(required=False, allow_null=True)
    ends_at = EventDateTimeField(required=False, allow_null=True)


class PollOpenSerializer(serializers.Serializer):
    options = PollOptionInSerializer(many=True, help_text="2 to 30 dates or time slots.")


class PollVoteInSerializer(serializers.Serializer):
    votes = serializers.DictField(
        child=serializers.ChoiceField(choices=[("yes", "yes"), ("ifneedbe", "ifneedbe"), ("no", "no")]),
        help_text="Option id → `yes`, `ifneedbe` or `no`; voting again changes the vote.",
    )
    time_zone = StrictCharField(
        required=False, allow_blank=True, max_length=64, help_text="The voter's IANA zone (default: the workspace's)."
    )


class PollFixSerializer(serializers.Serializer):
    option = StrictUUIDField(help_text="The option that becomes the event's date.")


class PollOptionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    date = serializers.DateField(allow_null=True)
    starts_at = EventDateTimeField(allow_null=True)
    ends_at = EventDateTimeField(allow_null=True)
    yes = serializers.IntegerField()
    ifneedbe = serializers.IntegerField()
    no = serializers.IntegerField()


class PollVoterSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.CharField(help_text="`guest` or `member`.")
    time_zone = serializers.CharField(help_text="The voter's time zone.")
    choices = serializers.DictField(child=serializers.CharField(), help_text="Option id → their vote.")


class PollTableSerializer(serializers.Serializer):
    """The poll's table: options with tallies, and each voter's line with their time zone."""

    status = serializers.CharField(help_text="`open`, `closed` (the date is fixed), or empty (no poll).")
    zone = serializers.CharField(help_text="The event's zone, in which the options were proposed.")
    options = PollOptionSerializer(many=True)
    voters = PollVoterSerializer(many=True)

    def to_representation(self, table) -> dict:
        return {
            "status": table.status,
            "zone": table.zone,
            "options": [
                {
                    "id": str(option.pk),
                    "date": option.date.isoformat() if option.date else None,
                    "starts_at": iso_utc(option.starts_at),
                    "ends_at": iso_utc(option.ends_at),
                    **table.tallies[str(option.pk)],
                }
                for option in table.options
            ],
            "voters": [
                {"name": row.name, "kind": row.kind, "time_zone": row.time_zone, "choices": row.choices}
                for row in table.rows
            ],
        }
