from django.db import models


class ReminderQuerySet(models.QuerySet):
    def for_workspace(self, workspace):
        return self.filter(workspace=workspace)

    def active(self):
        return self.filter(active=True)

    def due(self, *, at):
        """Active reminders whose next run is at or before ``at`` (served by ``reminder_due_idx``)."""
        return self.filter(active=True, next_run_at__lte=at)
