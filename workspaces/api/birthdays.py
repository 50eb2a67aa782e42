"""Upcoming birthdays and work anniversaries of a workspace (read-only; dates are edited on /people/)."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any, NamedTuple

from django.http import HttpResponse, QueryDict
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.renderers import JSONRenderer

from workspaces.api.mixins import WorkspaceScopedMixin
from workspaces.api.schema import WORKSPACE_ID
from workspaces.birthdays import (
    BIRTHDAY,
    DEFAULT_DAYS,
    KINDS,
    MAX_DAYS,
    Upcoming,
    birthday_page,
    birthday_row_item,
    sees_private_celebrations,
)
from workspaces.selectors import person_birth_year_visible


class BirthdayQuerySerializer(serializers.Serializer):
    days = serializers.IntegerField(
        min_value=1,
        max_value=MAX_DAYS,
        required=False,
        help_text=f"Window length in days from today, today included (default {DEFAULT_DAYS} without `month`).",
    )
    month = serializers.IntegerField(
        min_value=1, max_value=12, required=False, help_text="Only dates in the next occurrence of this month."
    )
    kind = serializers.ChoiceField(
        choices=[(kind, kind) for kind in KINDS], required=False, help_text="Only birthdays or only anniversaries."
    )


QUERY_FIELDS = tuple(BirthdayQuerySerializer._declared_fields)


@functools.lru_cache(maxsize=512)
def _validated_query(raw: tuple[str | None, ...]) -> tuple[tuple[str, Any], ...]:
    """The validated parameters for the raw values of ``QUERY_FIELDS`` (``None``: absent).

    Validation is a pure function of those values; remembering the valid ones spares the
    serializer's per-request set-up on the hot path. Invalid ones raise and are not kept.
    """
    query = QueryDict(mutable=True)
    for name, value in zip(QUERY_FIELDS, raw, strict=True):
        if value is not None:
            query[name] = value
    params = BirthdayQuerySerializer(data=query)
    params.is_valid(raise_exception=True)
    return tuple(params.validated_data.items())


class BirthdayPersonSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    slack_user_id = serializers.CharField(help_text="Slack member id, for mentions; empty when unknown.")


# Describes the rows for the schema; the view builds them itself (cheaper on the cached path).
class BirthdaySerializer(serializers.Serializer):
    """One upcoming birthday or work anniversary."""

    person = BirthdayPersonSerializer()
    kind = serializers.ChoiceField(choices=[(kind, kind) for kind in KINDS])
    date = serializers.DateField(help_text="The next celebration date in the workspace's time zone.")
    days_until = serializers.IntegerField(
        help_text="Days from the workspace's local today to `date` (0 = today; negative for a celebration "
        "of the last few days that is announced today or later)."
    )
    announced_on = serializers.DateField(
        help_text="The day the digest announces it: `date`, unless the workspace's weekend/holiday policy moves it."
    )
    private = serializers.BooleanField(
        help_text="Greeted personally only, no team post (listed to owners, admins and staff only)."
    )
    age = serializers.IntegerField(
        allow_null=True,
        help_text="Birthdays: the age turned on `date`, or null when the birth year is unknown or hidden from you.",
    )
    years = serializers.IntegerField(
        allow_null=True, help_text="Anniversaries: whole years since `joined_on` (at least 1); null for birthdays."
    )


class _Nobody(NamedTuple):
    """A person who hides their birth year and is nobody's user: whoever may see their age may see every age."""

    show_age: bool = False
    user_id: None = None


_NOBODY = _Nobody()
# Stands for the results array in the rendered envelope (a JSON string cannot contain it unescaped).
_RESULTS = "\x00results\x00"
_RESULTS_JSON = b'"\\u0000results\\u0000"'


class RenderedPage(NamedTuple):
    """A page's ``results`` as JSON, for every caller at once (what the cache keeps).

    The rule is ``person_birth_year_visible``: an age is shown when the person shows it,
    and otherwise to owners/admins/staff (``privileged``) and to the person themself. So
    ``members`` (ages only where shown) serves every other caller, except one whose own
    hidden age is on the page: ``own`` maps their user id to ``(start, end, row)``, the
    place of that row in ``members`` and the row with the age.
    """

    members: bytes
    privileged: bytes
    own: dict[str, tuple[tuple[int, int, bytes], ...]]

    @classmethod
    def render(cls, rows: Sequence[Upcoming]) -> RenderedPage:
        renderer = JSONRenderer()
        members: list[bytes] = []
        privileged: list[bytes] = []
        own: dict[str, list[tuple[int, int, bytes]]] = {}
        offset = 1  # after "["
        for row in rows:
            has_age = row.kind == BIRTHDAY and row.years is not None
            shown = has_age and person_birth_year_visible(person=row, viewer=None, viewer_role=None)
            member_item = renderer.render(birthday_row_item(row, age_visible=shown))
            full_item = renderer.render(birthday_row_item(row, age_visible=has_age)) if has_age else member_item
            if full_item != member_item and row.user_id is not None:
                own.setdefault(str(row.user_id), []).append((offset, offset + len(member_item), full_item))
            members.append(member_item)
            privileged.append(full_item)
            offset += len(member_item) + 1  # and the ","
        return cls(
            b"[" + b",".join(members) + b"]",
            b"[" + b",".join(privileged) + b"]",
            {user_id: tuple(patches) for user_id, patches in own.items()},
        )

    def for_viewer(self, *, viewer, viewer_role: str | None) -> bytes:
        if person_birth_year_visible(person=_NOBODY, viewer=viewer, viewer_role=viewer_role):
            return self.privileged
        patches = self.own.get(str(viewer.pk))
        if not patches:
            return self.members
        results = self.members
        for start, end, row in reversed(patches):
            results = results[:start] + row + results[end:]
        return results


@extend_schema(
    tags=["birthdays"],
    summary="List upcoming birthdays and work anniversaries",
    description=(
        "**Permissions:** any member of the workspace (staff: any workspace).\n\n"
        "The people's next birthdays and work anniversaries, ordered by date (then birthdays before "
        "anniversaries, then name). Dates are local to the workspace's time zone and *today* is the "
        "workspace's local date. Feb 29 is celebrated on Feb 28 or Mar 1 in common years, as the "
        "workspace's `leap_day_policy` says. An anniversary is listed from its first year on.\n\n"
        "`announced_on` is the day the digest announces the celebration under the workspace's weekend and "
        "holiday policy (`celebration_shift`, `holiday_country`); a row is listed when its `date` or its "
        "`announced_on` is inside the window. A kind a person celebrates `off` is not listed; a `private` "
        "one (a personal greeting only) is listed to owners, admins and staff only.\n\n"
        f"The window is `days` calendar days from today, today included (default {DEFAULT_DAYS}, at most "
        f"{MAX_DAYS}: every next date fits in 366 days). With `month`, the window is instead the next "
        "occurrence of that month: this month from today on if it is the current month, otherwise the "
        "month's next coming; `days`, if also given, narrows it further.\n\n"
        "`age` follows the People API's rule for `birth_year`: shown when the person allows it "
        "(`show_age`), and otherwise only to owners/admins, staff and the person themself. The result "
        "is paginated like every list (`page`, `page_size`); it is served from a per-workspace cache "
        "that every change to the workspace's people, members or settings invalidates."
    ),
    parameters=[WORKSPACE_ID, BirthdayQuerySerializer],
    responses={200: BirthdaySerializer(many=True)},
)
class BirthdayViewSet(WorkspaceScopedMixin, viewsets.GenericViewSet):
    serializer_class = BirthdaySerializer
    # The rows come from a cached selector, not a queryset: nothing to filter or order here.
    filter_backends: list = []

    def list(self, request, *args, **kwargs):
        query = request.query_params
        params = dict(_validated_query(tuple(query.get(name) for name in QUERY_FIELDS)))
        paginator = self.paginator
        page = request.query_params.get(paginator.page_query_param) or "1"
        _count, rendered = birthday_page(
            workspace=self.workspace,
            page=int(page) if page.isascii() and page.isdigit() and len(page) <= 9 else None,
            page_size=paginator.get_page_size(request),
            paginate=lambda rows: self.paginate_queryset(rows),
            render=RenderedPage.render,
            with_private=sees_private_celebrations(viewer=request.user, viewer_role=self.role),
            **params,
        )
        results = rendered.for_viewer(viewer=request.user, viewer_role=self.role)
        # The envelope is the paginator's own, rendered by the negotiated renderer; the rows
        # go in already rendered (the cache keeps them so).
        envelope = self.get_paginated_response(_RESULTS)
        renderer = request.accepted_renderer
        if isinstance(renderer, JSONRenderer) and renderer.get_indent(request.accepted_media_type, {}) is None:
            head, found, tail = renderer.render(envelope.data).rpartition(_RESULTS_JSON)
            if found:
                return HttpResponse(head + results + tail, content_type=renderer.media_type)
        envelope.data["results"] = json.loads(results)  # another format, or indented: rendered as usual
        return envelope
