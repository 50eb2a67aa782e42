"""Sessions end when a password changes, whichever way it changes.

Services revoke tokens themselves (reset, logout everywhere, deactivation, deletion); a
password can also be set from the Django admin, ``manage.py changepassword`` or
``bootstrap_admin``. Django marks a pending password change on the instance until the save
has finished (``AbstractBaseUser.save`` clears ``_password`` after ``post_save``), so this
receiver sees every one of them and ends the user's sign-ins.
"""

from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.tokens import user_tokens_revoke


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts.password_changed")
def password_changed(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if created or raw or getattr(instance, "_password", None) is None:
        return
    user_tokens_revoke(user=instance)
