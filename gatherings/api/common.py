"""What the gatherings' API views share: permission texts, the event lookup, the by-event filter,
the author-or-organiser rule."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django_filters import rest_framework as filters
from rest_framework import mixins, viewsets

from birthdaybuddy.api.schema import CONFLICT
from birthdaybuddy.errors import PermissionDeniedError
from events.models import Event
from events.services import event_may_edit
from gatherings.models import Expense, Settlement, Task
from workspaces.api.mixins import WorkspaceScopedMixin
from workspaces.models import Role

ALL_ROLES = frozenset(Role.values)
ANY_MEMBER = "**Permissions:** any member of the workspace (staff: any workspace)."
AUTHOR_OR_ORGANISER = (
    "**Permissions:** whoever recorded it, workspace owners and admins (and staff), and the event's host."
)
ORGANISERS = "**Permissions:** workspace owners and admins (and staff), and the event's host."
COSTS_CONFLICT = CONFLICT
GATHERING_RULES = (
    "Gatherings only (400 `not_a_gathering`); a cancelled event refuses changes (409 `event_cancelled`). "
    "Participants are the event's attendees and its host's person; anyone else is refused (400 "
    "`unknown_participant`, naming the field). Every change is recorded in the audit log."
)


def event_in(workspace, event_id) -> Event:
    event = Event.objects.select_related("workspace").filter(workspace=workspace, pk=event_id).first()
    if event is None:
        raise ValidationError({"event": ["No such event in this workspace."]})
    return event


class ByEventFilterSet(filters.FilterSet):
    event = filters.UUIDFilter(field_name="event", help_text="Only this event's records.")


def require_author_or_organiser(view: Any, record: Expense | Settlement | Task) -> None:
    """Whoever recorded it, owners/admins (and staff) and the event's host may change or delete a record."""
    user = view.request.user
    if record.created_by_id is not None and record.created_by_id == user.pk:
        return
    if event_may_edit(event=record.event, user=user, role=view.role):
        return
    raise PermissionDeniedError(
        "Only whoever recorded this, a workspace owner or admin, or the event's host can change it.",
        code="role_required",
    )


class GatheringRecordViewSet(
    WorkspaceScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """A gathering's records (expenses, checklist items, comments): listed, read, added, changed
    with PATCH and deleted by any member, each view narrowing who may change what."""

    lookup_value_converter = "uuid"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    action_roles = {"create": ALL_ROLES, "partial_update": ALL_ROLES, "destroy": ALL_ROLES}
