from django.db import models


class NotificationQuerySet(models.QuerySet):
    def for_workspace(self, workspace):
        return self.filter(workspace=workspace)

    def stuck(self, *, pending_before, sending_before):
        """Notifications no worker finished: pending too long, or sending past any time limit."""
        return self.filter(
            models.Q(status="pending", next_attempt_at__lte=pending_before)
            | models.Q(status="sending", updated_at__lte=sending_before)
        )
