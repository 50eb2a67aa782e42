"""Public token URLs: personal RSVP links and iCalendar feeds. No account, no JWT: the token is the key.

Tokens are 256-bit (``secrets.token_urlsafe(32)``) and stored only as SHA-256, so they
cannot be guessed or read back; each opens exactly one thing (one attendee's answer, one
feed). Both are throttled per client IP (``rsvp`` and ``calendar`` rates).
"""

from __future__ import annotations

import hashlib

from django.http import HttpResponse
from django.utils import timezone as dj_timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from birthdaybuddy.api.throttling import AnonRateThrottle
from events import ical, polls, rsvp, selectors
from events.api.poll_serializers import PollVoteInSerializer
from events.api.rsvp_serializers import GuestPollSerializer, RsvpAnswerSerializer, RsvpSerializer

DEFAULT_RATES = {"rsvp": "30/min", "calendar": "60/min"}

TOKEN = OpenApiParameter("token", OpenApiTypes.STR, OpenApiParameter.PATH, description="The secret token.")
GONE = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description="`event_cancelled`: the event was cancelled; `event_over`: it is over. Nothing is written.",
)

STARTED = OpenApiResponse(
    response=OpenApiTypes.OBJECT,
    description="`event_started`: answers close when the event starts; `rsvp_deadline_passed`; `event_full`: "
    "more places than are left for a guest already going. Nothing is written.",
)


class _PublicRateThrottle(AnonRateThrottle):
    """Per client IP; the rate is ``REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope]`` if set, else a default."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope) or DEFAULT_RATES[self.scope]


class RsvpRateThrottle(_PublicRateThrottle):
    scope = "rsvp"


class CalendarRateThrottle(_PublicRateThrottle):
    scope = "calendar"


class _IgnoreAccept(BaseContentNegotiation):
    """Calendar clients send all sorts of ``Accept`` headers; the feed is text/calendar, errors JSON."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class RsvpView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    throttle_classes = [RsvpRateThrottle]

    @extend_schema(
        tags=["rsvp"],
        summary="Open a personal RSVP link",
        description="**Permissions:** public — the token from the invitation is the key (no account needed). "
        "Shows the event, whom the link is for and their current answer. Unknown token: 404; cancelled or "
        "finished event: 410. Throttled per IP.",
        parameters=[TOKEN],
        responses={200: RsvpSerializer, 410: GONE},
    )
    def get(self, request, token: str):
        attendee = rsvp.rsvp_lookup(token=token)
        return Response(RsvpSerializer(attendee).data)

    @extend_schema(
        tags=["rsvp"],
        summary="Answer an invitation",
        description="**Permissions:** public — the token from the invitation is the key (no account needed). "
        "`answer` is `yes`, `no` or `maybe`, with an optional `note`; answering again changes the answer, "
        "until the event starts (a series: until its last occurrence starts) and the RSVP deadline. With "
        "`plus_ones` (up to the event's `plus_ones_allowed`, else 400) and optional `plus_one_names`, a yes "
        "takes 1 + plus_ones places; when the event is full the answer is saved on the **waitlist** "
        "(`seat: waitlisted`, `waitlist_position`), promoted in answer order when places free up (`seat: "
        "offered`: confirm with a yes before `offer_expires_at`). Unknown token: 404; cancelled or finished "
        "event: 410; 409 `event_started`, `rsvp_deadline_passed`, or `event_full` (a guest already going asks "
        "for more places than are left); nothing is written then. Throttled per IP.",
        parameters=[TOKEN],
        request=RsvpAnswerSerializer,
        responses={200: RsvpSerializer, 409: STARTED, 410: GONE},
    )
    def post(self, request, token: str):
        rsvp.rsvp_lookup(token=token)  # an unknown or closed link says so before the body is judged
        payload = RsvpAnswerSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        attendee = rsvp.rsvp_answer(
            token=token,
            answer=payload.validated_data["answer"],
            note=payload.validated_data.get("note"),
            plus_ones=payload.validated_data.get("plus_ones"),
            plus_one_names=payload.validated_data.get("plus_one_names"),
        )
        return Response(RsvpSerializer(attendee).data)


class RsvpPollView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    throttle_classes = [RsvpRateThrottle]

    @extend_schema(
        tags=["rsvp"],
        summary="Vote in the event's date poll",
        description="**Permissions:** public — the token from the invitation is the key. `votes`: option id → "
        "`yes`, `ifneedbe` or `no` (voting again changes the vote); `time_zone`: the guest's IANA zone, shown to "
        "the organisers. Unknown token: 404; cancelled event: 410; 400 for an option of another poll, a bad "
        "choice or zone; 409 `poll_closed` once the date is fixed, `no_poll`. Nothing is written then.",
        parameters=[TOKEN],
        request=PollVoteInSerializer,
        responses={200: GuestPollSerializer, 409: OpenApiResponse(response=OpenApiTypes.OBJECT)},
    )
    def post(self, request, token: str):
        attendee = rsvp.guest_resolve(token=token)
        payload = PollVoteInSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        polls.poll_vote(
            event=attendee.event,
            votes=payload.validated_data["votes"],
            time_zone=payload.validated_data.get("time_zone"),
            attendee=attendee,
        )
        return Response(polls.poll_for_guest(attendee))


class CalendarFeedIcsView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    throttle_classes = [CalendarRateThrottle]
    content_negotiation_class = _IgnoreAccept

    @extend_schema(
        tags=["calendar feeds"],
        summary="Read an iCalendar feed",
        description="**Permissions:** public — the secret token in the URL is the key (calendar apps subscribe "
        "without an account). An RFC 5545 calendar of the feed's events, birthdays and work anniversaries. A "
        "revoked or unknown token (or a member feed whose member left) is 404. Supports `If-None-Match`. "
        "Throttled per IP.",
        parameters=[TOKEN],
        responses={
            (200, "text/calendar"): OpenApiTypes.STR,
            304: OpenApiResponse(description="Not modified since the `ETag` sent in `If-None-Match`."),
        },
    )
    def get(self, request, token: str):
        feed = selectors.calendar_feed_for_token(token=token)
        if feed is None:
            raise exceptions.NotFound()
        body = ical.calendar_feed_ics(feed=feed, now=dj_timezone.now())
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        if request.headers.get("If-None-Match") == etag:
            response = HttpResponse(status=304)
        else:
            response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
            response["Content-Disposition"] = f'inline; filename="{ical.calendar_feed_filename(feed)}"'
        response["ETag"] = etag
        response["Cache-Control"] = "private, max-age=300"
        return response
