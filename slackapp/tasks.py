"""Thin Celery entry points: the work behind a request Slack needs answered within 3 seconds,
the daily directory sync and the onboarding DMs. They take ids and plain payloads."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone as dj_timezone


def _installation(installation_id: str):
    from slackapp.models import SlackInstallation

    return SlackInstallation.objects.select_related("workspace").filter(pk=installation_id, active=True).first()


@shared_task(name="slackapp.command", ignore_result=True)
def command(installation_id: str, payload: dict) -> None:
    from slackapp import handlers

    installation = _installation(installation_id)
    if installation is not None:
        handlers.command_run(installation, payload)


@shared_task(name="slackapp.interaction", ignore_result=True)
def interaction(installation_id: str, payload: dict) -> None:
    from slackapp import handlers

    installation = _installation(installation_id)
    if installation is None:
        return
    if payload.get("type") == "card_wish":
        from slackapp import cards

        user_id = (payload.get("user") or {}).get("id", "")
        cards.wish_save(installation, user_id=user_id, token=payload.get("token", ""), text=payload.get("text", ""))
    elif payload.get("type") == "settings_saved":
        handlers.home_publish(installation, user_id=(payload.get("user") or {}).get("id", ""))
    elif payload.get("type") == "view_submission":
        user_id = (payload.get("user") or {}).get("id", "")
        handlers.modal_save(installation, user_id=user_id, values=payload["values"])
    else:
        handlers.block_action(installation, payload)


@shared_task(name="slackapp.event", ignore_result=True)
def event(installation_id: str, payload: dict) -> None:
    from slackapp import directory, handlers, install

    installation = _installation(installation_id)
    if installation is None:
        return
    kind = payload.get("type")
    if kind == "app_home_opened" and payload.get("tab", "home") == "home":
        handlers.home_publish(installation, user_id=payload.get("user", ""))
    elif kind == "user_change":
        directory.user_apply(installation, payload.get("user") or {}, now=dj_timezone.now())
    elif kind in ("app_uninstalled", "tokens_revoked"):
        install.installation_deactivate(team_id=installation.team_id, reason=kind)


@shared_task(name="slackapp.directory_sync", ignore_result=True)
def directory_sync(installation_id: str) -> None:
    from slackapp import directory

    installation = _installation(installation_id)
    if installation is not None:
        directory.directory_sync(installation)


@shared_task(name="slackapp.directory_sync_all", ignore_result=True, expires=3600)
def directory_sync_all() -> None:
    """Daily: every active installation's directory, and old event receipts forgotten."""
    from slackapp.models import SlackEventReceipt, SlackInstallation

    SlackEventReceipt.objects.filter(received_at__lt=dj_timezone.now() - timedelta(days=1)).delete()
    for installation_id in SlackInstallation.objects.filter(active=True).values_list("pk", flat=True):
        directory_sync.delay(str(installation_id))


@shared_task(name="slackapp.onboarding_send", ignore_result=True, expires=240)
def onboarding_send(installation_id: str | None = None) -> None:
    """Sends pending consent asks (one installation, or every one: the beat entry)."""
    from slackapp import onboarding
    from slackapp.models import SlackInstallation

    installations = SlackInstallation.objects.select_related("workspace").filter(active=True)
    if installation_id is not None:
        installations = installations.filter(pk=installation_id)
    for installation in installations:
        onboarding.onboarding_send(installation)
