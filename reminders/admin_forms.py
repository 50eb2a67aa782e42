"""The reminder form of the admin: fields per kind, times in the workspace's zone, people and
events of the reminder's own workspace only, channels as ordered checkboxes, an RRULE picker.

Saving runs ``reminders.services`` (the API's rules): the form cleans its fields, hands them to
``reminder_create`` / ``reminder_update``, and shows their refusals on its own fields.
"""

from __future__ import annotations

from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.urls import reverse

from birthdaybuddy.admin_tools import add_service_errors
from events.models import Event, EventStatus
from reminders import services
from reminders.models import EVENT_AUDIENCES, Audience, MessageType, Reminder, ReminderKind
from reminders.rules import DIGEST_CHANNELS
from workspaces.models import Channel, Person

CHANNEL_LABELS = {
    Channel.SLACK: "Slack",
    Channel.EMAIL: "Email",
    Channel.SMS: "SMS",
    Channel.WHATSAPP: "WhatsApp",
    Channel.TEAMS: "Microsoft Teams",
    Channel.GCHAT: "Google Chat",
}
# The service's (API's) names for the form's fields, and the words a person reads.
SERVICE_FIELDS = {
    "at": "send_at",
    "run_at_local": "send_at",
    "template": "message",
    "event": "event",
    "appointment": "appointment_at",
}
LABELS = {
    "at": "Send at",
    "at_time": "Time of day",
    "offset_minutes": "Minutes before the event",
    "template": "Message",
    "recipients": "Recipients",
    "rrule": "Repeats (RRULE)",
    "kind": "Kind",
    "active=false": "Active off",
    "appointment": "Appointment",
}

FIELDS_BY_KIND = {
    ReminderKind.ONE_TIME: ("send_at", "appointment_at", "appointment_minutes", "appointment_location"),
    ReminderKind.RECURRING: ("send_at", "rrule"),
    ReminderKind.EVENT: ("event", "offset_minutes", "at_time"),
    ReminderKind.BIRTHDAY_DIGEST: ("at_time",),
}


class OrderedCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes listed in the order of preference: the chosen ones first, in their order.

    A browser posts checked boxes in page order, so the order shown is the order saved; the
    admin's script adds buttons that move a channel up.
    """

    template_name = "reminders/widgets/ordered_checkboxes.html"
    option_template_name = "django/forms/widgets/checkbox_option.html"

    def optgroups(self, name, value, attrs=None):
        chosen = [str(v) for v in (value or [])]
        order = {v: i for i, v in enumerate(chosen)}
        self.choices = sorted(self.choices, key=lambda choice: (order.get(str(choice[0]), len(order)), 0))
        return super().optgroups(name, value, attrs)


class RRuleWidget(forms.TextInput):
    """The RRULE text, with a picker (frequency, interval, weekdays, month day) and a live preview."""

    template_name = "reminders/widgets/rrule.html"

    def __init__(self, *, preview_url: str = "", attrs=None):
        super().__init__(attrs={"class": "vTextField bb-rrule-text", "autocomplete": "off", **(attrs or {})})
        self.preview_url = preview_url

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["preview_url"] = self.preview_url
        context["widget"]["weekdays"] = [
            ("MO", "Mon"),
            ("TU", "Tue"),
            ("WE", "Wed"),
            ("TH", "Thu"),
            ("FR", "Fri"),
            ("SA", "Sat"),
            ("SU", "Sun"),
        ]
        context["widget"]["month_days"] = list(range(1, 32))
        return context


class WorkspaceAutocomplete:
    """Autocomplete widgets that ask the reminder admin for one workspace's people or events."""

    def __init__(self, *args, url: str, **kwargs):
        self._url = url
        super().__init__(*args, **kwargs)

    def get_url(self):
        return self._url


class PeopleAutocomplete(WorkspaceAutocomplete, AutocompleteSelectMultiple):
    pass


class EventAutocomplete(WorkspaceAutocomplete, AutocompleteSelect):
    pass


class LocalDateTimeField(forms.DateTimeField):
    """A wall-clock time in the workspace's zone, entered without an offset (YYYY-MM-DD HH:MM)."""

    widget = forms.DateTimeInput(
        attrs={"type": "datetime-local", "class": "bb-local-datetime"}, format="%Y-%m-%dT%H:%M"
    )
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]

    def to_python(self, value):
        # Naive on purpose: the service maps it to UTC with the reminders' rule for DST gaps.
        if isinstance(value, str):
            value = value.strip()
            for fmt in self.input_formats:
                try:
                    from datetime import datetime

                    return datetime.strptime(value, fmt)  # noqa: DTZ007 - a local wall time
                except ValueError:
                    continue
            if value:
                raise ValidationError("Enter a date and time as YYYY-MM-DD HH:MM.", code="invalid")
            return None
        return value


class ReminderAdminForm(forms.ModelForm):
    """Built per workspace and kind by ``ReminderAdmin.get_form`` (the class attributes below)."""

    workspace = None
    kind = None
    user = None
    admin_site = None

    send_at = LocalDateTimeField(label="Send at", required=False)
    appointment_at = LocalDateTimeField(label="Appointment starts", required=False)
    channels = forms.MultipleChoiceField(
        label="Channels",
        choices=[(c, CHANNEL_LABELS[c]) for c in Channel.values],
        widget=OrderedCheckboxes,
        required=False,
        help_text="In order of preference: each recipient gets the first one that reaches them. "
        "None ticked: each person's own preferred channels.",
    )
    recipients = forms.ModelMultipleChoiceField(queryset=Person.objects.none(), required=False, label="Recipients")
    event = forms.ModelChoiceField(queryset=Event.objects.none(), required=False, label="Event")

    class Meta:
        model = Reminder
        fields = (
            "name",
            "audience",
            "channels",
            "message",
            "message_type",
            "at_time",
            "rrule",
            "event",
            "offset_minutes",
            "recipients",
            "personal_greetings",
            "urgent",
            "active",
            "appointment_minutes",
            "appointment_location",
        )
        labels = {
            "at_time": "Time of day",
            "offset_minutes": "Minutes before the event",
            "rrule": "Repeats (RRULE)",
            "message": "Message",
            "appointment_minutes": "Appointment length (minutes)",
            "appointment_location": "Appointment place",
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        workspace, kind = self.workspace, self.kind
        zone = workspace.timezone
        fields = self.fields
        if "recipients" in fields:
            fields["recipients"].widget = PeopleAutocomplete(
                Reminder._meta.get_field("recipients"),
                self.admin_site,
                url=_autocomplete_url("people", workspace),
            )
            # Set after the widget: the queryset hands the widget its choices.
            fields["recipients"].queryset = Person.objects.filter(workspace=workspace).order_by("name")
            fields["recipients"].help_text = f"People of {workspace.name} only; type a name or an address."
            if not self.instance._state.adding:
                self.initial["recipients"] = list(self.instance.recipients.values_list("pk", flat=True))
        if "event" in fields:
            fields["event"].widget = EventAutocomplete(
                Reminder._meta.get_field("event"), self.admin_site, url=_autocomplete_url("events", workspace)
            )
            fields["event"].queryset = Event.objects.filter(workspace=workspace)
            fields["event"].help_text = f"An event of {workspace.name}."
            if not self.instance._state.adding:
                self.initial["event"] = self.instance.event_id
        if "send_at" in fields:
            fields["send_at"].label = f"Send at ({zone})" if kind == ReminderKind.ONE_TIME else f"First time ({zone})"
            fields["send_at"].help_text = (
                f"Local time in the workspace's zone, {zone}."
                if kind == ReminderKind.ONE_TIME
                else f"The first occurrence, local time in {zone}; it anchors the rule."
            )
            if self.instance.run_at is not None:
                wall = self.instance.wall_run_at or self.instance.run_at.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
                self.initial["send_at"] = wall.strftime("%Y-%m-%dT%H:%M")
        if "appointment_at" in fields:
            fields["appointment_at"].label = f"Appointment starts ({zone})"
            fields["appointment_at"].help_text = (
                "Optional: the client's appointment this reminder is about. The recipients get a confirmation "
                "with a calendar file now, an update when it moves and a cancellation when it is cleared or the "
                "reminder deleted. Empty: no appointment."
            )
            if self.instance.appointment_starts_at is not None:
                local = self.instance.appointment_starts_at.astimezone(ZoneInfo(zone))
                self.initial["appointment_at"] = local.strftime("%Y-%m-%dT%H:%M")
        if "appointment_minutes" in fields:
            fields["appointment_minutes"].help_text = "Empty: 60 minutes."
        if "rrule" in fields:
            fields["rrule"].widget = RRuleWidget(preview_url=_preview_url(workspace))
            fields["rrule"].required = False
            fields[
                "rrule"
            ].help_text = "Build it with the picker or type an RFC 5545 rule (e.g. FREQ=MONTHLY;BYMONTHDAY=-1)."
        if "at_time" in fields:
            fields["at_time"].label = f"Time of day ({zone})"
            fields["at_time"].help_text = f"Local time in {zone}; empty: the workspace's {workspace.notify_at:%H:%M}."
            fields["at_time"].widget = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
        if "channels" in fields:
            allowed = Channel.values if kind != ReminderKind.BIRTHDAY_DIGEST else list(DIGEST_CHANNELS)
            fields["channels"].choices = [(c, CHANNEL_LABELS[c]) for c in allowed]
            if kind == ReminderKind.BIRTHDAY_DIGEST:
                fields["channels"].help_text = (
                    "Slack, Microsoft Teams, Google Chat: the workspace's channel or space, where one "
                    "is set up; email: members who prefer email."
                )
            self.initial["channels"] = list(self.instance.channels or [])
        if "audience" in fields:
            choices = [
                (value, label)
                for value, label in Audience.choices
                if kind == ReminderKind.EVENT or value not in EVENT_AUDIENCES
            ]
            automatic = (
                "Automatic: the event's attendees"
                if kind == ReminderKind.EVENT
                else "Automatic: the chosen people, else the workspace's Slack channel"
            )
            fields["audience"].choices = [("", automatic), *choices]
            fields["audience"].required = False
            if self.instance._state.adding:
                self.initial["audience"] = ""
        if "message_type" in fields:
            fields["message_type"].required = False
            fields["message_type"].choices = [("", "Automatic"), *MessageType.choices]
        if "message" in fields:
            fields["message"].required = kind in (ReminderKind.ONE_TIME, ReminderKind.RECURRING)
            fields["message"].help_text = (
                "The text to send; {{ person.name }} and the other template fields may be used."
                if kind != ReminderKind.EVENT
                else "Optional: empty uses the event reminder template."
            )
        if "name" in fields:
            fields["name"].required = False
            fields["name"].help_text = "Empty: a name from the event or the kind."

    def service_data(self) -> dict:
        """The cleaned values under the service's (API's) names."""
        data: dict = {}
        cleaned = self.cleaned_data
        for name in (
            "name",
            "audience",
            "channels",
            "message",
            "message_type",
            "at_time",
            "rrule",
            "offset_minutes",
            "personal_greetings",
            "urgent",
            "active",
        ):
            if name in self.fields:
                data[name] = cleaned.get(name)
        if "channels" in data:
            # The order the boxes were posted in is the order of preference.
            posted = self.data.getlist(self.add_prefix("channels")) if hasattr(self.data, "getlist") else []
            data["channels"] = [c for c in posted if c in (cleaned.get("channels") or [])] or list(
                cleaned.get("channels") or []
            )
        if "send_at" in self.fields:
            data["run_at"] = cleaned.get("send_at")
        if "recipients" in self.fields:
            data["recipients"] = [person.pk for person in cleaned.get("recipients") or []]
        if "event" in self.fields:
            event = cleaned.get("event")
            data["event_id"] = event.pk if event else None
        if "appointment_at" in self.fields:
            data["appointment"] = self._appointment(cleaned)
        for name in ("name", "message", "rrule"):
            if name in data and data[name] is None:
                data[name] = ""
        if self.kind == ReminderKind.BIRTHDAY_DIGEST:
            data = {k: v for k, v in data.items() if k in services.DIGEST_FIELDS}
        return data

    def _appointment(self, cleaned) -> dict | None:
        if cleaned.get("appointment_at") is None:
            return None
        return {
            "starts_at": cleaned["appointment_at"],
            "duration_minutes": cleaned.get("appointment_minutes"),
            "location": cleaned.get("appointment_location") or "",
        }

    def _post_clean(self):
        # Instead of the model's validation: the service's, which is the API's.
        if self.errors:
            return
        data = self.service_data()
        try:
            if not self.instance._state.adding:
                self.instance = services.reminder_update(reminder=self.instance, data=data)
            else:
                self.instance = services.reminder_create(
                    workspace=self.workspace, created_by=self.user, data={"kind": self.kind, **data}
                )
        except ValidationError as exc:
            add_service_errors(self, exc, fields=SERVICE_FIELDS, labels=LABELS)


def _autocomplete_url(what: str, workspace) -> str:
    return reverse("admin:reminders_reminder_autocomplete", args=[what]) + "?" + urlencode({"workspace": workspace.pk})


def _preview_url(workspace) -> str:
    return reverse("admin:reminders_reminder_rrule_preview") + "?" + urlencode({"workspace": workspace.pk})


class ChooseWorkspaceForm(forms.Form):
    """The first step of adding a reminder: whose, and what kind (the form then shows that kind's fields)."""

    workspace = forms.ModelChoiceField(queryset=None, label="Workspace")
    kind = forms.ChoiceField(
        label="Kind",
        choices=[
            (k, ReminderKind(k).label) for k in (ReminderKind.ONE_TIME, ReminderKind.RECURRING, ReminderKind.EVENT)
        ],
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        from workspaces.models import Workspace

        self.fields["workspace"].widget = AutocompleteSelect(Reminder._meta.get_field("workspace"), admin_site)
        self.fields["workspace"].queryset = Workspace.objects.order_by("name")


def live_events(workspace):
    return Event.objects.filter(workspace=workspace, status=EventStatus.ACTIVE)
