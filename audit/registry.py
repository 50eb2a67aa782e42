"""Which models are audited, and how; their registration with auditlog.

- **Which models, how** (:data:`AUDITED`): registered from ``AuditConfig.ready`` by label, so
  the apps that own the models need no change (and this app imports none of them). Timestamps
  and derived bookkeeping (``next_run_at``) are left out of the changes; token hashes are left
  out; channel secrets are masked as a whole (:func:`mask_secret`).
- **Workspace scope**: every entry carries ``additional_data["workspace_id"]``, read from the
  object itself (auditlog's ``get_additional_data`` hook, attached at registration), so an
  entry is scoped the same whether the API, the admin, a task or a command made it. It is
  a JSON key, filterable in SQL (``AuditEntryQuerySet.for_workspace``), and not a foreign
  key: the trail outlives what it describes.
- **Quiet bookkeeping**: a save that only touches excluded fields (the tick advancing
  ``next_run_at``) neither writes an entry nor costs auditlog's extra SELECT; deleting a
  workspace (:data:`CASCADE_ROOT`) writes one entry for the workspace, not one per cascaded row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auditlog.models import LogEntry
from auditlog.receivers import log_delete, log_update
from auditlog.registry import auditlog
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ObjectDoesNotExist
from django.db import models
from django.db.models.signals import post_delete, pre_delete, pre_save

from audit.context import fill_from_request, note_user_deletion
from audit.names import MASK, TIMESTAMPS, WORKSPACE_KEY

# Deleting one of these writes one entry for it, none for the rows deleted with it.
CASCADE_ROOT = "workspaces.Workspace"


@dataclass(frozen=True)
class Audited:
    """How one model is audited. ``workspace``: the attribute path from an object to its workspace id."""

    label: str
    workspace: str = "workspace_id"
    exclude: tuple[str, ...] = TIMESTAMPS
    mask: tuple[str, ...] = ()
    m2m: tuple[str, ...] = ()


AUDITED: tuple[Audited, ...] = (
    Audited("workspaces.Workspace", workspace="pk"),
    Audited("workspaces.Membership"),
    Audited("workspaces.Invitation", exclude=(*TIMESTAMPS, "token_hash")),
    Audited("workspaces.Person", exclude=(*TIMESTAMPS, "preferences_key")),
    Audited("notifications.ChannelConfig", mask=("webhook_url", "bot_token", "auth_token")),
    Audited("notifications.Template"),
    Audited(
        "reminders.Reminder",
        exclude=(*TIMESTAMPS, "next_run_at", "next_occurrence_at", "last_run_at"),
        m2m=("recipients",),
    ),
    Audited("events.Event", exclude=(*TIMESTAMPS, "sequence")),
    Audited("events.Attendee", workspace="event.workspace_id", exclude=(*TIMESTAMPS, "rsvp_token_hash")),
    Audited("events.CalendarFeed", exclude=(*TIMESTAMPS, "token_hash")),
    Audited("slackapp.SlackInstallation", exclude=(*TIMESTAMPS, "installed_at"), mask=("bot_token",)),
    # The advance alerts' settings; never the cards' wishes (the team's words to one person).
    Audited("cards.PrepSettings", m2m=("chosen",)),
)

# What the audit view can filter by: the audited models, and Notification (manual sends target it).
MODEL_LABELS: tuple[str, ...] = (*sorted(spec.label.lower() for spec in AUDITED), "notifications.notification")

_ignored_on_update: dict[type[models.Model], frozenset[str]] = {}


# --- registration ---------------------------------------------------------------------------


def mask_secret(value: str) -> str | None:
    """auditlog's mask: a secret is shown as set, cleared or unset, never even partly."""
    if value in (None, "None"):
        return None
    return MASK if value else ""


def workspace_id_of(instance: models.Model, path: str) -> str | None:
    value: Any = instance
    try:
        for part in path.split("."):
            value = getattr(value, part)
            if value is None:
                return None
    except ObjectDoesNotExist:
        return None
    return str(value)


def _attach_additional_data(model: type[models.Model], path: str) -> None:
    """Gives the model auditlog's ``get_additional_data`` hook (keeping one it already has)."""
    existing: Any = getattr(model, "get_additional_data", None)
    if getattr(existing, "workspace_path", None) is not None:
        existing = existing.wraps
    own = existing

    def get_additional_data(self) -> dict:
        data = dict(own(self) or {}) if own is not None else {}
        data.setdefault(WORKSPACE_KEY, workspace_id_of(self, path))
        return data

    hook: Any = get_additional_data
    hook.workspace_path = path
    hook.wraps = own
    setattr(model, "get_additional_data", hook)  # noqa: B010 (a model of another app, given a method)


def _log_update(sender, instance, update_fields=None, **kwargs) -> None:
    """auditlog's update receiver, skipped for saves that only touch excluded fields."""
    if update_fields is not None and set(update_fields) <= _ignored_on_update.get(sender, frozenset()):
        return
    log_update(sender, instance=instance, update_fields=update_fields, **kwargs)


def _log_delete(sender, instance, origin=None, **kwargs) -> None:
    """auditlog's delete receiver, skipped for rows deleted because their workspace was."""
    root = apps.get_model(CASCADE_ROOT)
    if isinstance(origin, root) and not isinstance(instance, root):
        return
    log_delete(sender, instance=instance, origin=origin, **kwargs)


def _swap_receiver(signal, model: type[models.Model], original, replacement) -> None:
    uid = auditlog._dispatch_uid(signal, original)
    if not signal.disconnect(sender=model, dispatch_uid=uid):
        raise ImproperlyConfigured(f"auditlog did not connect {original.__name__} for {model._meta.label}")
    signal.connect(replacement, sender=model, weak=False, dispatch_uid=f"bb-audit-{replacement.__name__}-{uid}")


def register_audited_models() -> list[type[models.Model]]:
    """Registers :data:`AUDITED` with auditlog (models of apps not installed are skipped)."""
    registered = []
    for spec in AUDITED:
        try:
            model = apps.get_model(spec.label)
        except LookupError:
            continue
        fields = {field.name for field in model._meta.get_fields()}
        # Only the model's own columns: auditlog would otherwise list reverse relations on create.
        tracked = [
            field.name
            for field in model._meta.concrete_fields
            if not field.primary_key and field.name not in spec.exclude
        ]
        auditlog.unregister(model)
        auditlog.register(
            model,
            include_fields=tracked,
            mask_fields=[name for name in spec.mask if name in fields],
            m2m_fields=[name for name in spec.m2m if name in fields],
        )
        _swap_receiver(pre_save, model, log_update, _log_update)
        _swap_receiver(post_delete, model, log_delete, _log_delete)
        _ignored_on_update[model] = frozenset(spec.exclude) | {
            field.attname for field in model._meta.concrete_fields if field.name in spec.exclude
        }
        _attach_additional_data(model, spec.workspace)
        registered.append(model)
    pre_save.connect(fill_from_request, sender=LogEntry, dispatch_uid="bb-audit-fill-from-request")
    pre_delete.connect(note_user_deletion, sender=settings.AUTH_USER_MODEL, dispatch_uid="bb-audit-user-deleted")
    return registered
