from django.db import models
from django.utils import timezone

from workspaces.models import Person
from workspaces.querysets import WorkspaceOwnedQuerySet


class NotificationQuerySet(models.QuerySet):
    def for_workspace(self, workspace):
        return self.filter(workspace=workspace)

    def visible_to(self, user, *, now=None):
        """Leaves out the messages about ``user``'s own celebration while it is being prepared
        (advance alerts before the day): the celebrated person never sees the preparation."""
        mine = Person.objects.filter(user=user).values("pk")
        return self.exclude(about_person__in=mine, secret_until__gt=now or timezone.now())

    def stuck(self, *, pending_before, sending_before):
        """Notifications no worker finished: pending too long, or sending past any time limit."""
        return self.filter(
            models.Q(status="pending", next_attempt_at__lte=pending_before)
            | models.Q(status="sending", updated_at__lte=sending_before)
        )


class ChannelConfigQuerySet(WorkspaceOwnedQuerySet):
    def for_routing(self):
        """Active configs as routing reads them: kind and channel, and whether a bot token is set
        (``ChannelConfig.has_bot``) without decrypting it. Secrets stay deferred."""
        return (
            self.filter(active=True)
            .only("workspace_id", "kind", "active", "channel_id")
            .annotate(bot_token_set=models.Q(bot_token__isnull=False))
        )
