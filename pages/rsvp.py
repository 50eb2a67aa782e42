"""The RSVP page at ``/rsvp/<token>``: the same URL serves browsers (HTML) and API clients (JSON).

A GET never changes an answer (mail scanners follow links): the email's one-click buttons
open the page with their choice pre-selected (``?answer=yes``), and one press of "Send"
confirms it. Answers go through ``events.rsvp.rsvp_answer``, as the API's do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.utils import timezone as dj_timezone
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from birthdaybuddy.errors import ApplicationError
from events import calendar_links, guests, ical, polls, selectors
from events import rsvp as event_rsvp
from events.api.public import RsvpPollView, RsvpView
from events.models import Attendee, Event, Rsvp, Vote
from pages.common import language_for, message_page, page, throttled, too_many_requests, wants_html

NOTE_MAX_LENGTH = Attendee._meta.get_field("note").max_length
ANSWER_LABELS = {Rsvp.YES: _("Going"), Rsvp.MAYBE: _("Maybe"), Rsvp.NO: _("Can't go")}


class RsvpForm(forms.Form):
    answer = forms.ChoiceField(
        choices=list(ANSWER_LABELS.items()),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose Going, Maybe or Can't go."),
            "invalid_choice": _("Choose Going, Maybe or Can't go."),
        },
    )
    note = forms.CharField(
        required=False,
        max_length=NOTE_MAX_LENGTH,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": NOTE_MAX_LENGTH}),
    )
    plus_ones = forms.IntegerField(
        required=False,
        min_value=0,
        error_messages={"invalid": _("Enter a whole number."), "min_value": _("Enter a whole number.")},
    )
    plus_one_names = forms.CharField(
        required=False,
        max_length=1100,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, plus_ones_allowed: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        self.plus_ones_allowed = plus_ones_allowed
        if plus_ones_allowed:
            self.fields["plus_ones"].widget.attrs.update({"min": 0, "max": plus_ones_allowed})
        else:
            del self.fields["plus_ones"]
            del self.fields["plus_one_names"]

    def clean_plus_ones(self):
        value = self.cleaned_data.get("plus_ones")
        if value is not None and value > self.plus_ones_allowed:
            raise ValidationError(
                _("At most %(limit)s guests can come with you."), params={"limit": self.plus_ones_allowed}
            )
        return value

    def names(self) -> list[str] | None:
        if "plus_one_names" not in self.fields:
            return None
        text = self.cleaned_data.get("plus_one_names") or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


@dataclass(frozen=True)
class EventShown:
    """What the page shows of an event: only what the organiser shares with every invitee."""

    title: str
    all_day: bool
    date: object
    start: datetime | None
    end: datetime | None
    same_day: bool
    zone: str
    location: str
    notes: str
    organiser: str
    repeats: bool
    google_url: str

    @classmethod
    def of(cls, event: Event) -> EventShown:
        tz = ZoneInfo(event.workspace.timezone)
        start = event.starts_at.astimezone(tz) if event.starts_at else None
        end = event.ends_at.astimezone(tz) if event.ends_at else None
        host = event.host.get_full_name() if event.host_id and event.host else ""
        return cls(
            title=event.title,
            all_day=event.all_day,
            date=event.date,
            start=start,
            end=end,
            same_day=bool(start and end and start.date() == end.date()),
            zone=tz.key,
            location=event.location,
            notes=event.notes,
            organiser=host or event.workspace.name,
            repeats=bool(event.rrule),
            google_url=calendar_links.google_event_url(event, details=event.notes),
        )


class RsvpNegotiatedView(RsvpView):
    """Browsers get the page; API clients (JSON, or no preference) keep the JSON contract."""

    def dispatch(self, request, *args, **kwargs):
        if wants_html(request):
            return rsvp_page(request, kwargs["token"])
        return super().dispatch(request, *args, **kwargs)


class RsvpPollNegotiatedView(RsvpPollView):
    """Browsers post the page's poll form; API clients post JSON."""

    def dispatch(self, request, *args, **kwargs):
        if wants_html(request):
            return rsvp_poll_vote(request, kwargs["token"])
        return super().dispatch(request, *args, **kwargs)


def _context(attendee: Attendee, **extra) -> dict:
    return {
        "workspace_name": attendee.event.workspace.name,
        "event": EventShown.of(attendee.event),
        "name": attendee.person.name,
        "answer": attendee.answer,
        "answer_label": ANSWER_LABELS.get(attendee.answer, ""),
        "note": attendee.note,
        "seat": attendee.seat,
        "plus_ones": attendee.plus_ones,
        "waitlist_position": guests.waitlist_position(attendee),
        "offer_expires_at": attendee.offer_expires_at,
        "rsvp_deadline": attendee.event.rsvp_deadline,
        "guest_list": guests.guest_list_for_guest(attendee.event),
        **extra,
    }


def _closed(request, attendee: Attendee, *, reason: str, language: str):
    return page(
        request,
        "pages/rsvp_closed.html",
        _context(attendee, reason=reason),
        status=410,
        language=language,
        time_zone=attendee.event.workspace.timezone,
    )


def _bad_link(request, language: str):
    return message_page(
        request,
        title=_("This link does not work"),
        message=_(
            "The invitation link is incomplete, or it was replaced by a newer one. Check that you "
            "opened the whole link from the latest invitation, or ask the organiser to send it again."
        ),
        status=404,
        language=language,
    )


@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def rsvp_page(request, token: str):
    attendee = selectors.attendee_for_rsvp_token(token=token)
    workspace = attendee.event.workspace if attendee else None
    language = language_for(person=attendee.person if attendee else None, workspace=workspace, request=request)
    if wait := throttled(request, "rsvp"):
        return too_many_requests(request, wait, language=language)
    if attendee is None:
        return _bad_link(request, language)
    event = attendee.event
    now = dj_timezone.now()
    if event.is_cancelled:
        return _closed(request, attendee, reason="cancelled", language=language)
    if event_rsvp.event_is_over(event, now=now):
        return _closed(request, attendee, reason="over", language=language)

    status = 200
    confirm = False
    closed = event_rsvp.answers_closed(event, now=now)
    deadline_passed = not closed and event_rsvp.deadline_passed(attendee, now=now)
    closed = closed or deadline_passed
    form: RsvpForm | None
    if closed:
        form = None
        status = 409 if request.method == "POST" else 200
    elif request.method == "POST":
        form = RsvpForm(request.POST, plus_ones_allowed=event.plus_ones_allowed)
        if form.is_valid():
            try:
                event_rsvp.rsvp_answer(
                    token=token,
                    answer=form.cleaned_data["answer"],
                    note=form.cleaned_data["note"],
                    plus_ones=form.cleaned_data.get("plus_ones"),
                    plus_one_names=form.names(),
                    now=now,
                )
            except ValidationError as exc:
                form.add_error(None, exc.messages)
            except ApplicationError as exc:
                if exc.code in ("event_cancelled", "event_over"):
                    return _closed(request, attendee, reason=exc.code.removeprefix("event_"), language=language)
                if exc.code == "event_full":
                    form.add_error(None, _("There are not enough places left for you and your guests."))
                    status = 409
                elif exc.code in ("event_started", "rsvp_deadline_passed"):
                    closed, form, status = True, None, 409
                    deadline_passed = exc.code == "rsvp_deadline_passed"
                else:
                    return _bad_link(request, language)
            else:
                response = HttpResponseRedirect(f"{request.path}?saved=1")
                response.status_code = 303  # see other: a reload does not post again
                return response
        if not closed and status == 200:
            status = 400
    else:
        preselected = request.GET.get("answer")
        confirm = preselected in ANSWER_LABELS
        initial_answer = preselected if confirm else (attendee.answer if attendee.answer in ANSWER_LABELS else None)
        form = RsvpForm(
            initial={
                "answer": initial_answer,
                "note": attendee.note,
                "plus_ones": attendee.plus_ones,
                "plus_one_names": "\n".join(attendee.plus_one_names or []),
            },
            plus_ones_allowed=event.plus_ones_allowed,
        )
    context = _context(
        attendee,
        form=form,
        closed=closed,
        deadline_passed=deadline_passed,
        poll=poll_shown(attendee),
        voted=request.GET.get("voted") == "1" and request.method != "POST",
        confirm=confirm,
        saved=request.GET.get("saved") == "1" and request.method != "POST",
        ics_url=f"{request.path}/event.ics",
        note_max_length=NOTE_MAX_LENGTH,
    )
    return page(
        request, "pages/rsvp.html", context, status=status, language=language, time_zone=event.workspace.timezone
    )


VOTE_LABELS = {Vote.YES: _("Yes"), Vote.IF_NEED_BE: _("If need be"), Vote.NO: _("No")}


@dataclass(frozen=True)
class PollOptionShown:
    id: str
    all_day: bool
    date: object
    start: datetime | None
    end: datetime | None
    yes: int
    ifneedbe: int
    no: int
    mine: str


def poll_shown(attendee: Attendee) -> dict | None:
    """The event's date poll as this guest sees it: options in the event's zone, tallies, their own votes."""
    event = attendee.event
    if not event.poll:
        return None
    table = polls.poll_table(event)
    mine = polls.votes_of(attendee=attendee)
    tz = ZoneInfo(event.workspace.timezone)
    options = [
        PollOptionShown(
            id=str(option.pk),
            all_day=option.date is not None,
            date=option.date,
            start=option.starts_at.astimezone(tz) if option.starts_at else None,
            end=option.ends_at.astimezone(tz) if option.ends_at else None,
            mine=mine.get(str(option.pk), ""),
            **table.tallies[str(option.pk)],
        )
        for option in table.options
    ]
    return {"open": table.status == "open", "options": options, "zone": tz.key, "labels": list(VOTE_LABELS.items())}


@csrf_protect
@require_http_methods(["POST"])
def rsvp_poll_vote(request, token: str):
    """A guest's votes from their page (``vote-<option id>`` = yes / ifneedbe / no, ``time_zone``)."""
    attendee = selectors.attendee_for_rsvp_token(token=token)
    workspace = attendee.event.workspace if attendee else None
    language = language_for(person=attendee.person if attendee else None, workspace=workspace, request=request)
    if wait := throttled(request, "rsvp"):
        return too_many_requests(request, wait, language=language)
    if attendee is None:
        return _bad_link(request, language)
    event = attendee.event
    if event.is_cancelled:
        return _closed(request, attendee, reason="cancelled", language=language)
    votes = {
        key.removeprefix("vote-"): value for key, value in request.POST.items() if key.startswith("vote-") and value
    }
    problem: Any = None  # a lazy translation, rendered in the guest's language
    title: Any = _("Your votes were not saved")
    if not votes:
        problem, status = _("Choose Yes, If need be or No for at least one date."), 400
    else:
        try:
            polls.poll_vote(event=event, votes=votes, time_zone=request.POST.get("time_zone"), attendee=attendee)
        except ValidationError:
            problem, status = _("Those votes could not be read; reload the page and try again."), 400
        except ApplicationError as exc:
            if exc.code == "poll_closed":
                problem, status = _("The date is already fixed, so the poll takes no more votes."), 409
            else:
                problem, status = _("This event has no date poll."), 404
    if problem is None:
        response = HttpResponseRedirect(f"/rsvp/{token}?voted=1#poll")
        response.status_code = 303
        return response
    return message_page(request, title=title, message=problem, status=status, language=language)


@require_http_methods(["GET", "HEAD"])
def rsvp_event_ics(request, token: str):
    """The invitation's event as an ``.ics`` file ("Add to calendar")."""
    attendee = selectors.attendee_for_rsvp_token(token=token)
    language = language_for(person=attendee.person if attendee else None, workspace=None, request=request)
    if wait := throttled(request, "rsvp"):
        return too_many_requests(request, wait, language=language)
    if attendee is None:
        return _bad_link(request, language)
    event = attendee.event
    if event.is_cancelled:
        return _closed(request, attendee, reason="cancelled", language=language)
    body = ical.event_ics(event=event, now=dj_timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{slugify(event.title) or "event"}.ics"'
    response["Cache-Control"] = "private, no-store"
    return response
