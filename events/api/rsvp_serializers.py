"""What a guest's link shows and takes: the event, the guest list as the organiser shares it, the
poll, the answer."""

from __future__ import annotations

from django.utils import timezone as dj_timezone
from rest_framework import serializers

from birthdaybuddy.api.fields import StrictCharField
from events import guests, polls, rsvp
from events.api.serializers import EventDateTimeField, StrictIntegerField, iso_utc
from events.models import Attendee, Rsvp, Seat


class RsvpEventSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    title = serializers.CharField()
    # Plain text in the schema: the enums are documented once, on the Event.
    kind = serializers.CharField(help_text="`deadline`, `appointment`, `gathering` or `custom`.")
    starts_at = EventDateTimeField(allow_null=True)
    ends_at = EventDateTimeField(allow_null=True)
    all_day = serializers.BooleanField()
    date = serializers.DateField(allow_null=True)
    rrule = serializers.CharField(allow_null=True)
    location = serializers.CharField()
    notes = serializers.CharField()
    timezone = serializers.CharField(help_text="The organising workspace's time zone.")
    organiser = serializers.CharField(help_text="The organising workspace's name.")
    status = serializers.CharField(help_text="`active` or `cancelled`.")


class GuestListNameSerializer(serializers.Serializer):
    name = serializers.CharField()
    plus_ones = serializers.IntegerField()


class GuestListShownSerializer(serializers.Serializer):
    """What guests see of each other: counts, and with `names` the names of those going."""

    going = serializers.IntegerField(help_text="Places taken by guests going, +1s included.")
    maybe = serializers.IntegerField()
    waitlisted = serializers.IntegerField()
    names = GuestListNameSerializer(many=True, required=False, help_text="Only when the organiser shows names.")


class GuestPollOptionSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    date = serializers.DateField(allow_null=True)
    starts_at = serializers.DateTimeField(allow_null=True)
    ends_at = serializers.DateTimeField(allow_null=True)
    yes = serializers.IntegerField()
    ifneedbe = serializers.IntegerField()
    no = serializers.IntegerField()
    mine = serializers.CharField(allow_null=True, help_text="This guest's vote: `yes`, `ifneedbe`, `no` or null.")


class GuestPollSerializer(serializers.Serializer):
    """The date poll as a guest sees it: options with tallies and their own votes."""

    status = serializers.CharField(help_text="`open` or `closed` (the date is fixed).")
    zone = serializers.CharField(help_text="The event's zone, in which the options were proposed.")
    options = GuestPollOptionSerializer(many=True)


class RsvpSerializer(serializers.Serializer):
    """What an RSVP link shows: the event, whom the link is for, and their current answer."""

    event = RsvpEventSerializer()
    name = serializers.CharField(help_text="The invited person's name.")
    answer = serializers.ChoiceField(choices=Rsvp.choices)
    note = serializers.CharField()
    responded_at = serializers.DateTimeField(allow_null=True)
    plus_ones = serializers.IntegerField()
    plus_one_names = serializers.ListField(child=serializers.CharField())
    plus_ones_allowed = serializers.IntegerField(help_text="How many +1s this event allows each guest.")
    seat = serializers.ChoiceField(
        choices=Seat.choices,
        help_text="`going`; `waitlisted` (the event is full: `waitlist_position` says where); `offered` (a place "
        "freed up: confirm with a yes before `offer_expires_at`); empty when not going.",
    )
    waitlist_position = serializers.IntegerField(allow_null=True)
    offer_expires_at = serializers.DateTimeField(allow_null=True)
    rsvp_deadline = serializers.DateTimeField(allow_null=True, help_text="Answers are taken until then.")
    answers_closed = serializers.BooleanField(help_text="True once the event started or the deadline passed.")
    guests = GuestListShownSerializer(allow_null=True, help_text="Null when the organiser keeps the list hidden.")
    poll = GuestPollSerializer(allow_null=True, help_text="The date poll, or null when the event has none.")

    def to_representation(self, attendee: Attendee) -> dict:
        event = attendee.event
        return {
            "event": {
                "id": str(event.id),
                "title": event.title,
                "kind": event.kind,
                "starts_at": iso_utc(event.starts_at),
                "ends_at": iso_utc(event.ends_at),
                "all_day": event.all_day,
                "date": event.date.isoformat() if event.date else None,
                "rrule": event.rrule or None,
                "location": event.location,
                "notes": event.notes,
                "timezone": event.workspace.timezone,
                "organiser": event.workspace.name,
                "status": event.status,
            },
            "name": attendee.person.name,
            "answer": attendee.answer,
            "note": attendee.note,
            "responded_at": iso_utc(attendee.responded_at),
            "plus_ones": attendee.plus_ones,
            "plus_one_names": list(attendee.plus_one_names or []),
            "plus_ones_allowed": event.plus_ones_allowed,
            "seat": attendee.seat,
            "waitlist_position": guests.waitlist_position(attendee),
            "offer_expires_at": iso_utc(attendee.offer_expires_at),
            "rsvp_deadline": iso_utc(event.rsvp_deadline),
            "answers_closed": rsvp.answers_closed_for(attendee, now=dj_timezone.now()),
            "guests": guests.guest_list_for_guest(event),
            "poll": polls.poll_for_guest(attendee),
        }


class RsvpAnswerSerializer(serializers.Serializer):
    answer = serializers.ChoiceField(choices=[(Rsvp.YES, "Yes"), (Rsvp.NO, "No"), (Rsvp.MAYBE, "Maybe")])
    note = StrictCharField(required=False, allow_blank=True, max_length=500)
    plus_ones = StrictIntegerField(
        required=False, min_value=0, help_text="+1s coming along (up to the event's `plus_ones_allowed`)."
    )
    plus_one_names = serializers.ListField(
        child=StrictCharField(max_length=100, allow_blank=True),
        required=False,
        max_length=10,
        help_text="Their names, optional (no more names than +1s).",
    )
