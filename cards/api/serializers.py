from __future__ import annotations

from rest_framework import serializers

from birthdaybuddy.api.fields import StrictBooleanField
from cards.models import MAX_ALERT_DAYS, AlertRecipients, PrepSettings


class StrictIntegerField(serializers.IntegerField):
    """Only a JSON number: ``"3"`` or ``true`` where a count belongs are client bugs."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class PrepSettingsSerializer(serializers.ModelSerializer):
    chosen = serializers.SerializerMethodField()
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="Null until first saved.")

    class Meta:
        model = PrepSettings
        fields = ("alert_days", "alert_recipients", "chosen", "group_card", "updated_at")
        read_only_fields = fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if instance._state.adding:
            data["updated_at"] = None  # the defaults: never saved
        return data

    def get_chosen(self, settings) -> list[str]:
        if settings._state.adding:
            return []
        return sorted(str(person.pk) for person in settings.chosen.all())


class PrepSettingsInputSerializer(serializers.Serializer):
    alert_days = StrictIntegerField(
        required=False,
        min_value=0,
        max_value=MAX_ALERT_DAYS,
        help_text=f"Days before a celebration's announcement that alerts go out: 0 (off) to {MAX_ALERT_DAYS}.",
    )
    alert_recipients = serializers.ChoiceField(
        required=False,
        choices=AlertRecipients.choices,
        help_text="`admins`: the workspace's owners and admins; `chosen`: the members listed in `chosen`.",
    )
    chosen = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=500,
        help_text="Person ids of members alerted when `alert_recipients` is `chosen`.",
    )
    group_card = StrictBooleanField(
        required=False, help_text="Collect wishes from the alert until the day; needs `alert_days` ≥ 1."
    )

    def validate(self, attrs):
        unknown = set(self.initial_data) - set(self.fields) if isinstance(self.initial_data, dict) else set()
        if unknown:
            raise serializers.ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
        return attrs
