"""Keeps derived data in step with writes: cached birthdays and members' Persons.

Connected in ``WorkspacesConfig.ready``. Receivers stay small and call the cache helpers
or the sync service; no business flow lives here.

- Person, Membership, Workspace saved or deleted: the workspace's cached birthdays are
  invalidated (``workspaces.cache.birthdays_bump``).
- A user's profile saved: the Persons linked to them in all their workspaces are updated
  from it (``workspaces.sync.person_sync_for_user``; a member without a Person gets one
  only from ``sync_birthdays``), and those workspaces' birthdays invalidated.
  Saves that touch no profile field (a login's ``last_login``, a password change) do nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from workspaces import cache as bb_cache
from workspaces.models import Membership, Person, Workspace
from workspaces.sync import PROFILE_TO_PERSON, person_sync_for_user


@receiver(post_save, sender=Person, dispatch_uid="workspaces.person_saved")
@receiver(post_delete, sender=Person, dispatch_uid="workspaces.person_deleted")
def person_changed(sender, instance: Person, origin=None, **kwargs) -> None:
    if isinstance(origin, Workspace):
        return  # the whole workspace is going: one bump for it, not one per person
    bb_cache.birthdays_bump(instance.workspace_id)


@receiver(post_save, sender=Membership, dispatch_uid="workspaces.membership_saved")
@receiver(post_delete, sender=Membership, dispatch_uid="workspaces.membership_deleted")
def membership_changed(sender, instance: Membership, origin=None, **kwargs) -> None:
    if isinstance(origin, Workspace):
        return
    bb_cache.birthdays_bump(instance.workspace_id)


@receiver(post_save, sender=Workspace, dispatch_uid="workspaces.workspace_saved")
def workspace_saved(sender, instance: Workspace, **kwargs) -> None:
    bb_cache.birthdays_bump(instance.pk)


@receiver(post_delete, sender=Workspace, dispatch_uid="workspaces.workspace_deleted")
def workspace_deleted(sender, instance: Workspace, **kwargs) -> None:
    bb_cache.birthdays_forget(instance.pk)


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="workspaces.user_saved")
def user_saved(sender, instance, created: bool, raw: bool = False, update_fields=None, **kwargs) -> None:
    if created or raw:
        return  # a new account belongs to no workspace yet
    changed = None if update_fields is None else set(update_fields) & PROFILE_TO_PERSON.keys()
    if changed is not None and not changed:
        return
    person_sync_for_user(user=instance, changed_fields=changed)
    workspace_ids = set(Membership.objects.filter(user=instance).values_list("workspace_id", flat=True))
    workspace_ids |= set(Person.objects.filter(user=instance).values_list("workspace_id", flat=True))
    bb_cache.birthdays_bump(workspace_ids)
