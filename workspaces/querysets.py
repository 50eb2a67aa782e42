from django.db import models


class WorkspaceQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Workspaces ``user`` belongs to; staff see every workspace."""
        if user.is_staff:
            return self
        return self.filter(memberships__user=user)


class WorkspaceOwnedQuerySet(models.QuerySet):
    """Vocabulary for every model that belongs to one workspace."""

    def for_workspace(self, workspace):
        return self.filter(workspace=workspace)
