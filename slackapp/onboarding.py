"""Consent-first onboarding: ask every member without dates, by DM, whether they want to be
celebrated ("Add my dates" / "No thanks"). A declined person is never asked again.

Asking marks people ``pending`` (not yet asked); the DMs go out from the database, outside the
workspace's quiet hours, one conditional UPDATE per person claiming the send (so two runs never
DM anyone twice), slowed by Slack's rate limits (``Retry-After`` obeyed by the client).
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.utils import timezone as dj_timezone
from slack_sdk.errors import SlackApiError

from birthdaybuddy.timerules.recurrence import utc_to_local, zone
from slackapp import blocks
from slackapp.client import web_client
from slackapp.directory import user_lookup_by_email
from slackapp.models import SlackInstallation
from slackapp.people import speaking_to
from workspaces import slack_people
from workspaces.models import Consent, Person, Workspace

logger = logging.getLogger(__name__)


def onboarding_ask(installation: SlackInstallation, *, now: datetime | None = None) -> int:
    """Marks every person of the team in Slack without dates who was never asked (and never
    declined) as pending; the DMs follow (``onboarding_send``). Returns how many were newly marked.

    The team in Slack: everyone the directory sync matched (a Slack id), whether or not they have
    an account here, and anyone else Slack knows by their email address."""
    now = now or dj_timezone.now()
    candidates = (
        Person.objects.for_workspace(installation.workspace_id)
        .filter(consent=Consent.ACTIVE, consent_asked_at__isnull=True, birth_month__isnull=True, joined_on__isnull=True)
        .filter(slack_deactivated_at__isnull=True)
    )
    marked = 0
    for person in candidates:
        if not person.slack_user_id:
            person = user_lookup_by_email(installation, person, now=now) or person
        if person.slack_user_id and slack_people.person_consent_request(person=person):
            marked += 1
    return marked


def in_quiet_hours(workspace: Workspace, *, now: datetime) -> bool:
    start, end = workspace.quiet_hours_start, workspace.quiet_hours_end
    if start is None or end is None:
        return False
    local = utc_to_local(now, zone(workspace.timezone)).time()
    return start <= local < end if start < end else (local >= start or local < end)


def onboarding_send(
    installation: SlackInstallation, *, now: datetime | None = None, limit: int = 200
) -> dict[str, int]:
    """Sends the pending asks of one installation (none during the workspace's quiet hours)."""
    now = now or dj_timezone.now()
    workspace = installation.workspace
    if not installation.active or in_quiet_hours(workspace, now=now):
        return {"sent": 0, "failed": 0}
    pending = (
        Person.objects.for_workspace(workspace)
        .filter(consent=Consent.PENDING, consent_asked_at__isnull=True)
        .exclude(slack_user_id="")
        .order_by("created_at")
        .only("pk", "slack_user_id", "language")[:limit]
    )
    client = web_client(installation.bot_token)
    sent = failed = 0
    for person in pending:
        person_id, slack_user_id = person.pk, person.slack_user_id
        if not slack_people.person_consent_claim_ask(person_id=person_id, now=now):
            continue  # another run took it
        with speaking_to(installation, person):  # each DM in its reader's language
            text, message_blocks = blocks.consent_question(workspace.name)
        try:
            channel = client.conversations_open(users=slack_user_id)["channel"]["id"]
            client.chat_postMessage(channel=channel, text=text, blocks=message_blocks)
        except (SlackApiError, OSError, KeyError) as exc:
            logger.warning("Onboarding DM to %s failed: %s", slack_user_id, exc)
            slack_people.person_consent_release_ask(person_id=person_id)
            failed += 1
            if isinstance(exc, SlackApiError) and exc.response.status_code == 429:
                break  # still limited after the client's retries: the next run goes on
            continue
        sent += 1
    return {"sent": sent, "failed": failed}
