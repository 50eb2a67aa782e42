from django.db import models
from django.db.models import OuterRef, Subquery
from django.utils import timezone as dj_timezone


class WorkspaceQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Workspaces ``user`` belongs to; staff see every workspace."""
        if user.is_staff:
            return self
        return self.filter(memberships__user=user)

    def with_role_of(self, user):
        """Annotates ``caller_role``: ``user``'s role in each workspace (``None`` if not a member)."""
        from workspaces.models import Membership

        role = Membership.objects.filter(workspace=OuterRef("pk"), user=user).values("role")[:1]
        return self.annotate(caller_role=Subquery(role))


class WorkspaceOwnedQuerySet(models.QuerySet):
    """Vocabulary for every model that belongs to one workspace."""

    def for_workspace(self, workspace):
        return self.filter(workspace=workspace)


class MembershipQuerySet(WorkspaceOwnedQuerySet):
    def owners(self):
        from workspaces.models import Role

        return self.filter(role=Role.OWNER)


class InvitationQuerySet(WorkspaceOwnedQuerySet):
    def pending(self, *, now=None):
        now = now or dj_timezone.now()
        return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)

    def with_status(self, status: str, *, now=None):
        now = now or dj_timezone.now()
        if status == "pending":
            return self.pending(now=now)
        if status == "accepted":
            return self.filter(accepted_at__isnull=False)
        if status == "revoked":
            return self.filter(accepted_at__isnull=True, revoked_at__isnull=False)
        if status == "expired":
            return self.filter(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__lte=now)
        return self.none()


def may_be_celebrated(person) -> bool:
    """``PersonQuerySet.celebrated`` for a person already read: the same rule, without a query."""
    return person.consent != "declined" and person.slack_deactivated_at is None


class PersonQuerySet(WorkspaceOwnedQuerySet):
    def with_birthday(self):
        return self.filter(birth_month__isnull=False, birth_day__isnull=False)

    def celebrated(self):
        """People who may be celebrated: not declined, not deactivated in Slack (:func:`may_be_celebrated`)."""
        return self.exclude(consent="declined").filter(slack_deactivated_at__isnull=True)

    def members(self):
        """People linked to a user account."""
        return self.filter(user__isnull=False)
