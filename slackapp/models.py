import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone as dj_timezone
from encrypted_fields.fields import EncryptedCharField

from workspaces.querysets import WorkspaceOwnedQuerySet


class SlackInstallation(models.Model):
    """The Slack app installed in one Slack team, bound to exactly one workspace.

    A team is bound to one workspace and a workspace to one team. The bot token is encrypted
    at rest like the channels' secrets (Fernet). An uninstall or a revoked token deactivates
    the row; a reinstall into the same workspace updates it.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.OneToOneField(
        "workspaces.Workspace", on_delete=models.CASCADE, related_name="slack_installation"
    )
    team_id = models.CharField(max_length=32, unique=True)
    team_name = models.CharField(max_length=200, blank=True)
    enterprise_id = models.CharField(max_length=32, blank=True)
    app_id = models.CharField(max_length=32, blank=True)
    bot_user_id = models.CharField(max_length=32, blank=True)
    bot_token = EncryptedCharField(max_length=200)
    scopes = models.CharField(max_length=500, blank=True)
    channel_id = models.CharField(max_length=40, blank=True, help_text="The channel chosen at install.")
    channel_name = models.CharField(max_length=200, blank=True)
    installed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    active = models.BooleanField(default=True)
    installed_at = models.DateTimeField(default=dj_timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    last_directory_sync_at = models.DateTimeField(null=True, blank=True)

    objects = WorkspaceOwnedQuerySet.as_manager()

    class Meta:
        ordering = ("team_name",)

    def __str__(self) -> str:
        return f"Slack {self.team_name or self.team_id} → {self.workspace_id}"


class SlackOAuthState(models.Model):
    """One "Add to Slack" link: its state parameter (only the SHA-256 is kept), who started it, for
    which workspace, until when. It is used at most once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    state_hash = models.CharField(max_length=64, unique=True)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=dj_timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    objects = WorkspaceOwnedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Slack install link for {self.workspace_id}"


class SlackEventReceipt(models.Model):
    """A Slack event already taken in (by ``event_id``): Slack's retries of it change nothing."""

    event_id = models.CharField(max_length=64, primary_key=True)
    team_id = models.CharField(max_length=32)
    received_at = models.DateTimeField(default=dj_timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.event_id
