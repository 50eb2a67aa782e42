"""Calendar feeds end with their owner's rights.

Connected in ``EventsConfig.ready`` to the workspaces app's membership rows (the events app
may listen to the domain apps it builds on; they never import it). A member who leaves or is
removed loses their member feed and the workspace feeds they created; an owner or admin
demoted to member loses the workspace feeds they created. Revoked feeds stay revoked if the
rights come back: a URL that leaked while they were gone must not start working again.
``events.selectors.calendar_feed_owner_entitled`` checks the same rights on every read.
"""

from __future__ import annotations

from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone as dj_timezone

from events.models import CalendarFeed
from workspaces.models import ADMIN_ROLES, Membership, Workspace


def _revoke(*, workspace_id, condition: Q) -> int:
    return (
        CalendarFeed.objects.for_workspace(workspace_id).live().filter(condition).update(revoked_at=dj_timezone.now())
    )


@receiver(post_delete, sender=Membership, dispatch_uid="events.membership_removed")
def membership_removed(sender, instance: Membership, origin=None, **kwargs) -> None:
    if isinstance(origin, Workspace):
        return  # the workspace's feeds go with it
    _revoke(
        workspace_id=instance.workspace_id,
        condition=Q(user_id=instance.user_id) | Q(user__isnull=True, created_by_id=instance.user_id),
    )


@receiver(post_save, sender=Membership, dispatch_uid="events.membership_saved")
def membership_saved(sender, instance: Membership, created: bool, raw: bool = False, **kwargs) -> None:
    if created or raw or instance.role in ADMIN_ROLES:
        return
    _revoke(workspace_id=instance.workspace_id, condition=Q(user__isnull=True, created_by_id=instance.user_id))
