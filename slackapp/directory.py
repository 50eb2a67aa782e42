"""Directory sync: Slack users matched to the workspace's people by email (users.list), filling
their Slack id, display name and own time zone; deactivated Slack users stop being celebrated."""

from __future__ import annotations

import logging
from datetime import datetime

from django.utils import timezone as dj_timezone
from slack_sdk.errors import SlackApiError

from slackapp.client import web_client
from slackapp.models import SlackInstallation
from slackapp.people import profile_fields
from workspaces import slack_people
from workspaces.models import Person

logger = logging.getLogger(__name__)


def _people_index(installation: SlackInstallation) -> tuple[dict[str, Person], dict[str, Person]]:
    by_id: dict[str, Person] = {}
    by_email: dict[str, Person] = {}
    for person in Person.objects.for_workspace(installation.workspace_id).order_by("created_at"):
        if person.slack_user_id:
            by_id.setdefault(person.slack_user_id, person)
        elif person.email:
            by_email.setdefault(person.email.casefold(), person)
    return by_id, by_email


def user_apply(installation: SlackInstallation, user: dict, *, now: datetime, index=None) -> Person | None:
    """One Slack user object (from users.list, users.lookupByEmail or a ``user_change`` event)
    applied to the person it matches in the installation's workspace; None if none matches."""
    if user.get("is_bot") or user.get("id") in (None, "", "USLACKBOT"):
        return None
    if user.get("team_id") not in (None, installation.team_id):
        return None
    by_id, by_email = index or _people_index(installation)
    person = by_id.get(user["id"])
    if person is None:
        email = ((user.get("profile") or {}).get("email") or "").casefold()
        person = by_email.get(email) if email else None
    if person is None:
        return None
    fields = profile_fields(user)
    if user.get("deleted") and person.slack_deactivated_at is not None:
        fields["slack_deactivated_at"] = person.slack_deactivated_at  # deactivated earlier: keep when
    elif user.get("deleted"):
        fields["slack_deactivated_at"] = now
    return slack_people.person_slack_profile_update(person=person, **fields)


def directory_sync(installation: SlackInstallation, *, now: datetime | None = None) -> dict[str, int]:
    """Walks users.list (paginated; 429 answers wait for Retry-After) and applies every user."""
    now = now or dj_timezone.now()
    client = web_client(installation.bot_token)
    index = _people_index(installation)
    seen = matched = 0
    cursor = None
    while True:
        try:
            page = client.users_list(limit=200, cursor=cursor) if cursor else client.users_list(limit=200)
        except SlackApiError as exc:
            logger.warning("Slack users.list failed for team %s: %s", installation.team_id, exc.response.get("error"))
            break
        for user in page.get("members") or []:
            seen += 1
            if user_apply(installation, user, now=now, index=index) is not None:
                matched += 1
        cursor = ((page.get("response_metadata") or {}).get("next_cursor")) or None
        if not cursor:
            break
    SlackInstallation.objects.filter(pk=installation.pk).update(last_directory_sync_at=now)
    return {"seen": seen, "matched": matched}


def user_lookup_by_email(installation: SlackInstallation, person: Person, *, now: datetime) -> Person | None:
    """A person with an email and no Slack id looked up with users.lookupByEmail (None if not found)."""
    if not person.email or person.slack_user_id:
        return None
    try:
        user = web_client(installation.bot_token).users_lookupByEmail(email=person.email)["user"]
    except SlackApiError as exc:
        if exc.response.get("error") != "users_not_found":
            logger.warning("Slack users.lookupByEmail failed: %s", exc.response.get("error"))
        return None
    return user_apply(installation, user, now=now, index=({}, {person.email.casefold(): person}))
