from django.db import models
from django.db.models import Count, Q, Sum


class JobRunQuerySet(models.QuerySet):
    def for_workspace(self, workspace):
        """Manual runs of ``workspace`` and ticks that handled one of its reminders.

        Annotates the figures that concern this workspace only (``ws_due``, ``ws_created``,
        ``ws_missed``): a tick's totals span every workspace and are not shown to tenants.
        """
        mine = Q(occurrences__reminder__workspace=workspace)
        return self.filter(Q(workspace=workspace) | Q(pk__in=self.model.objects.filter(mine).values("pk"))).annotate(
            ws_due=Count("occurrences", filter=mine),
            ws_created=Sum("occurrences__notifications", filter=mine),
            ws_missed=Count("occurrences", filter=mine & Q(occurrences__outcome="missed")),
        )
