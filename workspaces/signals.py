"""Keeps cached birthdays in step with writes (cache invalidation only, no business flow).

Connected in ``WorkspacesConfig.ready``: a Person, Membership or Workspace saved or deleted
invalidates the workspace's cached birthdays (``workspaces.cache.birthdays_bump``); a user's
profile saved, those of every workspace they are in. The people
following their member's profile is a step the account services run
(``workspaces.account.profile_changed``, registered with ``accounts.lifecycle``).
"""

from __future__ import annotations

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from workspaces import cache as bb_cache
from workspaces.account import user_workspace_ids
from workspaces.models import Membership, Person, Workspace
from workspaces.sync import PROFILE_TO_PERSON


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
    # Cache only: the people following the profile is the account services' step
    # (workspaces.account.profile_changed). A save touching no profile field changes nothing shown.
    if created or raw:
        return
    if update_fields is not None and not set(update_fields) & PROFILE_TO_PERSON.keys():
        return
    bb_cache.birthdays_bump(user_workspace_ids(instance))
