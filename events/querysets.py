"""Query vocabulary for events, attendees and calendar feeds (no side effects)."""

from __future__ import annotations

from datetime import date, datetime

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce

from workspaces.querysets import WorkspaceOwnedQuerySet


class EventQuerySet(WorkspaceOwnedQuerySet):
    def active(self):
        return self.filter(status="active")

    def appointments(self):
        return self.filter(kind="appointment")

    def hosted_by(self, user):
        return self.filter(host=user)

    def recurring(self):
        return self.exclude(rrule="")

    def with_rsvp_counts(self):
        """Annotates ``rsvp_yes``, ``rsvp_no``, ``rsvp_maybe`` and ``rsvp_pending`` (subqueries: safe with joins)."""
        from events.models import Attendee

        def count(answer: str):
            rows = (
                Attendee.objects.filter(event=OuterRef("pk"), answer=answer)
                .order_by()
                .values("event")
                .annotate(n=Count("pk"))
                .values("n")[:1]
            )
            return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))

        return self.annotate(**{f"rsvp_{answer}": count(answer) for answer in ("yes", "no", "maybe", "pending")})

    def may_occur_between(self, *, start: datetime, end: datetime, first_day: date, last_day: date):
        """Events that may have an occurrence overlapping ``[start, end)`` (local days ``first_day``..``last_day``).

        Exact for one-off events; recurring ones are candidates (anything that started before
        the window ends) to be expanded in Python.
        """
        timed_once = Q(all_day=False, rrule="", starts_at__lt=end) & (
            Q(ends_at__gt=start) | Q(ends_at__isnull=True, starts_at__gte=start)
        )
        timed_recurring = Q(all_day=False, starts_at__lt=end) & ~Q(rrule="")
        all_day_once = Q(all_day=True, rrule="", date__gte=first_day, date__lte=last_day)
        all_day_recurring = Q(all_day=True, date__lte=last_day) & ~Q(rrule="")
        return self.filter(timed_once | timed_recurring | all_day_once | all_day_recurring)


class AttendeeQuerySet(WorkspaceOwnedQuerySet):
    def for_workspace(self, workspace):
        return self.filter(event__workspace=workspace)


class CalendarFeedQuerySet(WorkspaceOwnedQuerySet):
    def live(self):
        return self.filter(revoked_at__isnull=True)
