from django.db import models


class ReminderQuerySet(models.QuerySet):
    def for_workspace(self, workspace):
        return self.filter(workspace=workspace)

    def active(self):
        return self.filter(active=True)

    def due(self, *, at):
        """Active reminders whose next run is at or before ``at`` (served by ``reminder_due_idx``)."""
        return self.filter(active=True, next_run_at__lte=at)

    def for_event(self, event):
        return self.filter(event=event)

    def with_recipients(self):
        from workspaces.models import Person

        return self.prefetch_related(models.Prefetch("recipients", queryset=Person.objects.only("id")))
