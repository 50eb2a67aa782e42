"""The admin site: named BirthdayBuddy, "View site" at the API docs, and its index grouped by task.

Django lists the admin by app (Accounts, Auditlog, Axes, Django Celery Beat, Token
Blacklist, …), which tells a support person nothing about where to look. The index and the
side bar here group the models by what staff do with them; the tables the libraries bring
along (groups, the token blacklist, beat's schedule tables, axes' logs) sit in one
"Plumbing" group, folded away. A model no group names (one registered later) lands in
Plumbing too, so it is never hidden. An app's own page (``/admin/<app>/``) stays Django's.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.urls import NoReverseMatch, reverse

PLUMBING = "plumbing"

# (key, title, model labels in display order). Labels are "app_label.ModelName".
GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "deliveries",
        "Deliveries",
        (
            "notifications.Notification",
            "notifications.DeliveryAttempt",
            "notifications.ChannelConfig",
            "notifications.Template",
            "notifications.InboundContact",
            "auditlog.LogEntry",
        ),
    ),
    (
        "tenants",
        "Tenants and people",
        ("workspaces.Workspace", "workspaces.Person", "workspaces.Membership", "workspaces.Invitation"),
    ),
    (
        "events_reminders",
        "Events and reminders",
        ("reminders.Reminder", "events.Event", "events.Attendee", "events.CalendarFeed"),
    ),
    (
        "schedules",
        "Schedules",
        ("scheduling.JobRun", "scheduling.Occurrence", "django_celery_beat.PeriodicTask"),
    ),
    (
        "accounts_group",
        "Accounts",
        ("accounts.User", "accounts.EmailVerification", "axes.AccessAttempt"),
    ),
)
PLUMBING_TITLE = "Plumbing"


class BirthdayBuddyAdminSite(admin.AdminSite):
    site_header = "BirthdayBuddy administration"
    site_title = "BirthdayBuddy admin"
    index_title = "Run the service"
    site_url = "/api/docs/"  # the service has no home page

    def get_app_list(self, request, app_label=None):
        app_list = super().get_app_list(request, app_label)
        if app_label is not None:
            return app_list
        return grouped_app_list(app_list, extra=self._extra_entries(request))

    def _extra_entries(self, request) -> dict[str, list[dict]]:
        """Pages that are no model's changelist but belong to a group (the delivery dashboard)."""
        if not request.user.has_perm("notifications.view_notification"):
            return {}
        try:
            url = reverse("admin:notifications_dashboard", current_app=self.name)
        except NoReverseMatch:
            return {}
        entry = {
            "name": "Delivery dashboard",
            "object_name": "DeliveryDashboard",
            "admin_url": url,
            "add_url": None,
            "view_only": True,
            "perms": {"view": True},
        }
        return {"deliveries": [entry]}


def grouped_app_list(app_list: list[dict], *, extra: dict[str, list[dict]] | None = None) -> list[dict]:
    """Django's per-app list regrouped by task; Plumbing last and folded; empty groups left out."""
    models = {}
    for app in app_list:
        for model in app["models"]:
            label = f"{app['app_label']}.{model['object_name']}"
            models[label] = model
    groups = []
    placed: set[str] = set()
    for key, title, labels in GROUPS:
        entries = list((extra or {}).get(key, []))
        for label in labels:
            if label in models:
                entries.append(models[label])
                placed.add(label)
        if entries:
            groups.append(_group(key, title, entries))
    rest = [model for label, model in models.items() if label not in placed]
    if rest:
        groups.append({**_group(PLUMBING, PLUMBING_TITLE, rest), "collapsed": True})
    return groups


def _group(key: str, title: str, models: list[dict]) -> dict:
    return {
        "name": title,
        "app_label": key,
        "app_url": "",
        "has_module_perms": True,
        "models": models,
        "collapsed": False,
    }


class BirthdayBuddyAdminConfig(AdminConfig):
    default_site = "birthdaybuddy.admin_site.BirthdayBuddyAdminSite"
