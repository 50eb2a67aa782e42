"""Who a Slack user is in the workspace their team is bound to — never in any other."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError
from django.utils import translation
from slack_sdk.errors import SlackApiError

from birthdaybuddy.i18n import language_of
from slackapp.client import web_client
from slackapp.models import SlackInstallation
from workspaces import services as workspace_services
from workspaces import slack_people
from workspaces.models import ADMIN_ROLES, Consent, Person
from workspaces.selectors import workspace_role_of

logger = logging.getLogger(__name__)


def person_for_slack_user(installation: SlackInstallation, slack_user_id: str) -> Person | None:
    """The person of ``installation``'s workspace with this Slack id (no Web API call)."""
    if not slack_user_id:
        return None
    return (
        Person.objects.for_workspace(installation.workspace_id)
        .filter(slack_user_id=slack_user_id)
        .order_by("created_at")
        .first()
    )


def person_for_account(workspace, user) -> Person | None:
    """The person of ``workspace`` linked to the account ``user`` (an admin outside Slack, such as
    the one installing the app), or None."""
    if user is None:
        return None
    return Person.objects.for_workspace(workspace).filter(user=user).order_by("created_at").first()


def person_is_admin(installation: SlackInstallation, person: Person | None) -> bool:
    """Whether the person acts for a workspace owner or admin: linked to an active account whose
    role in the installation's workspace is one (read now, so a demotion counts at once)."""
    if person is None or person.user is None or person.workspace_id != installation.workspace_id:
        return False
    user = person.user
    if not user.is_active:
        return False
    return workspace_role_of(workspace=installation.workspace, user=user) in ADMIN_ROLES


def speaking_to(installation: SlackInstallation, person: Person | None) -> translation.override:
    """The language to answer in: the reader's own, else the workspace's locale (a person not
    known yet reads the workspace's). Used as ``with speaking_to(...):`` around building a text."""
    return translation.override(language_of(person=person, workspace=installation.workspace))


def person_for_slack_user_or_create(installation: SlackInstallation, slack_user_id: str) -> Person | None:
    """As ``person_for_slack_user``; else the person with the Slack user's email (their Slack id is
    filled in), else a new person from the Slack profile — the user started it themself, so their
    consent is ``active``. None when Slack does not know the user (or it is a bot)."""
    person = person_for_slack_user(installation, slack_user_id)
    if person is not None:
        return person
    try:
        user = web_client(installation.bot_token).users_info(user=slack_user_id)["user"]
    except (SlackApiError, OSError, KeyError) as exc:
        logger.warning("Slack users.info failed for %s: %s", slack_user_id, exc)
        return None
    if user.get("is_bot") or user.get("deleted") or user.get("team_id", installation.team_id) != installation.team_id:
        return None
    if user.get("is_restricted") or user.get("is_ultra_restricted"):
        return None  # a guest of the Slack workspace does not join the team's people by typing a command
    profile = user.get("profile") or {}
    email = (profile.get("email") or "").strip()
    fields = profile_fields(user)
    if email:
        person = (
            Person.objects.for_workspace(installation.workspace_id)
            .filter(email__iexact=email, slack_user_id="")
            .order_by("created_at")
            .first()
        )
        if person is not None:
            return slack_people.person_slack_profile_update(person=person, **fields)
    name = (profile.get("real_name") or user.get("real_name") or user.get("name") or slack_user_id)[:200]
    try:
        person = workspace_services.person_create(
            workspace=installation.workspace, name=name, email=email, slack_user_id=slack_user_id
        )
    except ValidationError as exc:
        logger.warning("Could not add Slack user %s as a person: %s", slack_user_id, exc)
        return None
    fields.pop("slack_user_id", None)
    return slack_people.person_slack_profile_update(person=person, **fields)


def profile_fields(user: dict) -> dict:
    """What a Slack user object says about the person: id, display name, zone, deactivation."""
    from django.utils import timezone as dj_timezone

    from birthdaybuddy.validators import validate_timezone

    profile = user.get("profile") or {}
    display = (profile.get("display_name") or profile.get("real_name") or user.get("name") or "")[:200]
    zone = user.get("tz") or ""
    try:
        validate_timezone(zone)
    except ValidationError:
        zone = ""
    return {
        "slack_user_id": user.get("id", ""),
        "slack_display_name": display,
        "timezone": zone,
        "slack_deactivated_at": dj_timezone.now() if user.get("deleted") else None,
    }


def consent_is_active(person: Person) -> bool:
    return person.consent == Consent.ACTIVE
