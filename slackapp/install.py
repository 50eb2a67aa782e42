"""Installing the app into a Slack team ("Add to Slack", OAuth v2) and taking it out again."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone as dj_timezone
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth import AuthorizeUrlGenerator

from birthdaybuddy.links import absolute_reverse
from notifications import services as notification_services
from notifications.models import ChannelConfig
from slackapp.client import web_client
from slackapp.models import SlackInstallation, SlackOAuthState
from workspaces.models import ADMIN_ROLES, Channel, Workspace
from workspaces.selectors import workspace_role_of

logger = logging.getLogger(__name__)


class InstallRefused(Exception):
    """The callback cannot complete: ``code`` names why (the page explains it); ``link``: the
    install link once it was found valid (its workspace and admin: the page speaks their language)."""

    def __init__(self, code: str, *, link: SlackOAuthState | None = None):
        super().__init__(code)
        self.code = code
        self.link = link


@dataclass(frozen=True)
class InstallResult:
    installation: SlackInstallation
    reinstalled: bool
    channel_connected: bool
    link: SlackOAuthState  # the install link used (its workspace and admin)


def _hash(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


def redirect_uri() -> str:
    return absolute_reverse("slackapp:oauth-callback")


def install_url_create(*, workspace: Workspace, user, now: datetime | None = None) -> tuple[str, datetime]:
    """An "Add to Slack" link for ``workspace``, started by ``user`` (a workspace admin), and
    until when it works. Its state parameter is single use and expires."""
    if not settings.SLACK_CLIENT_ID:
        raise ValidationError({"slack": ["The Slack app is not configured (SLACK_CLIENT_ID)."]})
    now = now or dj_timezone.now()
    state = secrets.token_urlsafe(32)
    expires_at = now + timedelta(seconds=settings.SLACK_OAUTH_STATE_SECONDS)
    SlackOAuthState.objects.create(
        state_hash=_hash(state), workspace=workspace, user=user, created_at=now, expires_at=expires_at
    )
    generator = AuthorizeUrlGenerator(
        client_id=settings.SLACK_CLIENT_ID,
        scopes=settings.SLACK_BOT_SCOPES,
        redirect_uri=redirect_uri(),
        authorization_url=settings.SLACK_OAUTH_AUTHORIZE_URL,
    )
    return generator.generate(state=state), expires_at


def _use_state(state: str, *, now: datetime) -> SlackOAuthState:
    """The link's state row, marked used by one conditional UPDATE: a second use is refused."""
    if not isinstance(state, str) or not 20 <= len(state) <= 128:
        raise InstallRefused("invalid_state")
    row = SlackOAuthState.objects.select_related("workspace", "user").filter(state_hash=_hash(state)).first()
    if row is None:
        raise InstallRefused("invalid_state")
    if row.used_at is not None:
        raise InstallRefused("used_state")
    if row.expires_at <= now:
        raise InstallRefused("expired_state")
    if not SlackOAuthState.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now):
        raise InstallRefused("used_state")
    return row


def install_cancel(*, state: str, now: datetime | None = None) -> SlackOAuthState:
    """The admin pressed "Cancel" on Slack's page: the link is used up, nothing else changes."""
    return _use_state(state, now=now or dj_timezone.now())


def install_complete(*, state: str, code: str, now: datetime | None = None) -> InstallResult:
    """Finishes an install: checks the state (unused, unexpired, its admin still an admin),
    exchanges ``code`` for the bot token (oauth.v2.access) and binds the team to the workspace.

    A team bound to another workspace is refused; a reinstall updates the row (and reactivates
    it). The workspace's Slack channel is set to the bot and the chosen channel unless it posts
    through an incoming webhook of its own.
    """
    now = now or dj_timezone.now()
    row = _use_state(state, now=now)
    workspace, user = row.workspace, row.user
    if workspace_role_of(workspace=workspace, user=user) not in ADMIN_ROLES:
        raise InstallRefused("not_admin", link=row)
    if not isinstance(code, str) or not 1 <= len(code) <= 256:
        raise InstallRefused("exchange_failed", link=row)
    try:
        answer = web_client().oauth_v2_access(
            client_id=settings.SLACK_CLIENT_ID,
            client_secret=settings.SLACK_CLIENT_SECRET,
            code=code,
            redirect_uri=redirect_uri(),
        )
    except (SlackApiError, OSError) as exc:
        logger.warning("Slack oauth.v2.access failed for workspace %s: %s", workspace.pk, exc)
        raise InstallRefused("exchange_failed", link=row) from exc
    team = answer.get("team") or {}
    token = answer.get("access_token") or ""
    if not team.get("id") or not token.startswith("xoxb-"):
        raise InstallRefused("exchange_failed", link=row)
    webhook = answer.get("incoming_webhook") or {}
    return _bind(
        link=row,
        now=now,
        values={
            "team_id": team["id"],
            "team_name": (team.get("name") or "")[:200],
            "enterprise_id": ((answer.get("enterprise") or {}).get("id") or "")[:32],
            "app_id": (answer.get("app_id") or "")[:32],
            "bot_user_id": (answer.get("bot_user_id") or "")[:32],
            "bot_token": token,
            "scopes": (answer.get("scope") or "")[:500],
            "channel_id": (webhook.get("channel_id") or "")[:40],
            "channel_name": (webhook.get("channel") or "")[:200],
        },
    )


@transaction.atomic
def _bind(*, link: SlackOAuthState, now: datetime, values: dict) -> InstallResult:
    workspace, user = link.workspace, link.user
    Workspace.objects.select_for_update().get(pk=workspace.pk)
    elsewhere = SlackInstallation.objects.filter(team_id=values["team_id"]).exclude(workspace=workspace)
    if elsewhere.exists():
        raise InstallRefused("team_bound_elsewhere", link=link)
    installation = SlackInstallation.objects.filter(workspace=workspace).first()
    reinstalled = installation is not None
    if installation is None:
        installation = SlackInstallation(workspace=workspace, installed_at=now)
    for name, value in values.items():
        setattr(installation, name, value)
    installation.installed_by = user
    installation.active = True
    installation.deactivated_at = None
    installation.save()
    channel_connected = _connect_channel(installation)
    from slackapp import tasks

    transaction.on_commit(lambda: tasks.directory_sync.delay(str(installation.pk)))
    return InstallResult(installation, reinstalled, channel_connected, link)


def _connect_channel(installation: SlackInstallation) -> bool:
    """Points the workspace's Slack channel at the bot (posts with mentions) — unless it uses an
    incoming webhook someone configured, which stays as it is."""
    if not installation.channel_id:
        return False
    config = ChannelConfig.objects.filter(workspace=installation.workspace, kind=Channel.SLACK).first()
    try:
        if config is None:
            notification_services.channel_config_create(
                workspace=installation.workspace,
                kind=Channel.SLACK,
                bot_token=installation.bot_token,
                channel_id=installation.channel_id,
            )
        elif not config.webhook_url:
            notification_services.channel_config_update(
                config=config, bot_token=installation.bot_token, channel_id=installation.channel_id, active=True
            )
        else:
            return False
    except ValidationError as exc:
        logger.warning("Slack channel not connected for workspace %s: %s", installation.workspace_id, exc)
        return False
    return True


@transaction.atomic
def installation_deactivate(*, team_id: str, reason: str, now: datetime | None = None) -> bool:
    """The app was uninstalled or its tokens revoked: the installation stops, and so does the
    workspace's Slack channel if it posts with this installation's token."""
    installation = SlackInstallation.objects.select_for_update().filter(team_id=team_id, active=True).first()
    if installation is None:
        return False
    installation.active = False
    installation.deactivated_at = now or dj_timezone.now()
    installation.save(update_fields=["active", "deactivated_at", "updated_at"])
    config = ChannelConfig.objects.filter(workspace=installation.workspace, kind=Channel.SLACK, active=True).first()
    if config is not None and config.bot_token == installation.bot_token:
        notification_services.channel_config_update(config=config, active=False)
    logger.info("Slack installation of team %s deactivated: %s", team_id, reason)
    return True
