"""The endpoints Slack calls: the OAuth redirect (a page for a person), slash commands,
interactivity and the Events API (signed; answered at once, the work queued to Celery)."""

from __future__ import annotations

import json
import logging

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from birthdaybuddy.i18n import language_of
from cards import blocks as card_blocks
from slackapp import cards as slack_cards
from slackapp import handlers, install, settings_modal, tasks
from slackapp.models import SlackEventReceipt, SlackInstallation, SlackOAuthState
from slackapp.people import person_for_account, person_for_slack_user, speaking_to
from slackapp.verification import is_from_slack

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024


def _unauthorized() -> JsonResponse:
    return JsonResponse({"error": "invalid_signature", "detail": "Not a valid request from Slack."}, status=401)


def _bad_request(detail: str) -> JsonResponse:
    return JsonResponse({"error": "invalid_request", "detail": detail}, status=400)


def _ephemeral(text: str | Promise) -> JsonResponse:
    return JsonResponse({"response_type": "ephemeral", "text": str(text)})


def _object(value) -> dict:
    return value if isinstance(value, dict) else {}


def _installation_for(team_id) -> SlackInstallation | None:
    if not isinstance(team_id, str) or not team_id or len(team_id) > 32:
        return None
    return SlackInstallation.objects.filter(team_id=team_id, active=True).first()


# No workspace, so no one's language is known: the default language (Slack sends no Accept-Language).
NOT_INSTALLED = gettext_lazy(
    "BirthdayBuddy is not connected to this Slack workspace. "
    "Ask a BirthdayBuddy admin to add it to Slack from the workspace's settings."
)


@csrf_exempt
@require_POST
def commands(request: HttpRequest) -> HttpResponse:
    if len(request.body) > MAX_BODY or not is_from_slack(request):
        return _unauthorized()
    payload = {
        key: request.POST.get(key, "")
        for key in ("team_id", "user_id", "text", "trigger_id", "response_url", "command")
    }
    installation = _installation_for(payload["team_id"])
    if installation is None:
        return _ephemeral(NOT_INSTALLED)
    if (payload["text"] or "").strip().lower() == "help":
        with speaking_to(installation, person_for_slack_user(installation, payload["user_id"])):
            return _ephemeral(handlers.help_text())  # nothing to write: answered at once
    tasks.command.delay(str(installation.pk), payload)
    return HttpResponse(status=200)


@csrf_exempt
@require_POST
def interactivity(request: HttpRequest) -> HttpResponse:
    if len(request.body) > MAX_BODY or not is_from_slack(request):
        return _unauthorized()
    try:
        payload = json.loads(request.POST.get("payload", ""))
    except ValueError:
        return _bad_request("payload must be JSON.")
    if not isinstance(payload, dict):
        return _bad_request("payload must be a JSON object.")
    user = _object(payload.get("user"))
    installation = _installation_for(_object(payload.get("team")).get("id") or user.get("team_id"))
    if installation is None:
        return _ephemeral(NOT_INSTALLED)
    kind = payload.get("type")
    user_id = user.get("id") if isinstance(user.get("id"), str) else ""
    if kind == "view_submission":
        view = _object(payload.get("view"))
        if view.get("callback_id") == card_blocks.WISH_MODAL:
            return _card_wish_submitted(installation, user_id=user_id or "", view=view)
        if view.get("callback_id") == settings_modal.SETTINGS_MODAL:
            return _settings_submitted(installation, user_id=user_id or "", view=view)
        if view.get("callback_id") != "birthday_profile":
            return HttpResponse(status=200)
        with speaking_to(installation, person_for_slack_user(installation, user_id or "")):
            values = handlers.modal_values(view)
        if "errors" in values:
            return JsonResponse({"response_action": "errors", "errors": values["errors"]})
        values = {key: (value.isoformat() if hasattr(value, "isoformat") else value) for key, value in values.items()}
        tasks.interaction.delay(str(installation.pk), {"type": kind, "user": {"id": user_id}, "values": values})
        return HttpResponse(status=200)
    if kind == "block_actions":
        listed = payload.get("actions")
        actions = [
            {"action_id": str(action.get("action_id", ""))[:64], "value": str(action.get("value") or "")[:500]}
            for action in (listed if isinstance(listed, list) else [])
            if isinstance(action, dict)
        ]
        view = _object(payload.get("view"))
        tasks.interaction.delay(
            str(installation.pk),
            {
                "type": kind,
                "user": {"id": user_id},
                "actions": actions,
                "trigger_id": str(payload.get("trigger_id") or "")[:200],
                "response_url": str(payload.get("response_url") or "")[:500],
                "view": {"type": view.get("type", "")},
            },
        )
    return HttpResponse(status=200)


def _card_wish_submitted(installation: SlackInstallation, *, user_id: str, view: dict) -> HttpResponse:
    """The group card's modal: refusals and a bad text shown in the modal at once, the wish saved in Celery."""
    with speaking_to(installation, person_for_slack_user(installation, user_id)):
        errors = slack_cards.wish_submission_errors(installation, user_id=user_id, view=view)
    if errors:
        return JsonResponse({"response_action": "errors", "errors": errors})
    token, text = slack_cards.wish_values(view)
    tasks.interaction.delay(
        str(installation.pk), {"type": "card_wish", "user": {"id": user_id}, "token": token, "text": text}
    )
    return HttpResponse(status=200)


def _settings_submitted(installation: SlackInstallation, *, user_id: str, view: dict) -> HttpResponse:
    """The settings modal: saved in the request (the services' refusals are the modal's errors, in
    the submitter's language), then the submitter's App Home is published again in Celery."""
    with speaking_to(installation, person_for_slack_user(installation, user_id)):
        errors = settings_modal.settings_submit(installation, user_id=user_id, view=view)
    if errors:
        return JsonResponse({"response_action": "errors", "errors": errors})
    tasks.interaction.delay(str(installation.pk), {"type": "settings_saved", "user": {"id": user_id}})
    return HttpResponse(status=200)


EVENT_TYPES = frozenset({"app_home_opened", "user_change", "app_uninstalled", "tokens_revoked"})


@csrf_exempt
@require_POST
def events(request: HttpRequest) -> HttpResponse:
    if len(request.body) > MAX_BODY or not is_from_slack(request):
        return _unauthorized()
    try:
        body = json.loads(request.body)
    except ValueError:
        return _bad_request("The body must be JSON.")
    if not isinstance(body, dict):
        return _bad_request("The body must be a JSON object.")
    if body.get("type") == "url_verification":
        return JsonResponse({"challenge": str(body.get("challenge", ""))[:200]})
    if body.get("type") != "event_callback":
        return HttpResponse(status=200)
    event = _object(body.get("event"))
    event_id = body.get("event_id")
    installation = _installation_for(body.get("team_id"))
    if installation is None or event.get("type") not in EVENT_TYPES:
        return HttpResponse(status=200)  # not ours to act on: acknowledged so Slack stops retrying
    if not isinstance(event_id, str) or not 1 <= len(event_id) <= 64:
        return _bad_request("event_id is missing.")
    try:
        with transaction.atomic():
            SlackEventReceipt.objects.create(event_id=event_id, team_id=installation.team_id)
    except IntegrityError:
        return HttpResponse(status=200)  # a retry of an event already taken in
    tasks.event.delay(str(installation.pk), event)
    return HttpResponse(status=200)


OUTCOMES = {
    "installed": (
        gettext_lazy("BirthdayBuddy is in Slack"),
        gettext_lazy("The app is installed. Members can now use the slash command and the app's Home tab."),
    ),
    "reinstalled": (
        gettext_lazy("BirthdayBuddy is in Slack"),
        gettext_lazy("The app was installed again; its settings are up to date."),
    ),
    "cancelled": (
        gettext_lazy("Installation cancelled"),
        gettext_lazy("Nothing was installed. You can start again from the workspace's settings."),
    ),
    "invalid_state": (
        gettext_lazy("This link does not work"),
        gettext_lazy("This installation link is not valid. Start again from the workspace's settings."),
    ),
    "used_state": (
        gettext_lazy("This link was already used"),
        gettext_lazy("Each installation link works once. Start again from the workspace's settings."),
    ),
    "expired_state": (
        gettext_lazy("This link has expired"),
        gettext_lazy("Installation links work for a few minutes. Start again from the workspace's settings."),
    ),
    "not_admin": (
        gettext_lazy("Only admins can install"),
        gettext_lazy("The person who started this installation is no longer an admin of the workspace."),
    ),
    "exchange_failed": (
        gettext_lazy("Slack did not confirm the installation"),
        gettext_lazy("Slack did not accept the installation. Please try again."),
    ),
    "team_bound_elsewhere": (
        gettext_lazy("This Slack workspace is already connected"),
        gettext_lazy("This Slack workspace is connected to another BirthdayBuddy workspace. Remove it there first."),
    ),
}


def _admin_language(link: SlackOAuthState | None) -> str:
    """The language of the admin who started the install link: their own in its workspace, else the
    workspace's; before a link is known valid, the browser's."""
    if link is None:
        return translation.get_language()
    return language_of(person=person_for_account(link.workspace, link.user), workspace=link.workspace)


def _outcome_page(
    request: HttpRequest, outcome: str, *, status: int, link: SlackOAuthState | None = None, channel: str = ""
) -> HttpResponse:
    """A page in the language of the admin installing (known once the link was valid), else the
    browser's; ``channel``: where celebrations will be posted, when the install connected one."""
    title, message = OUTCOMES[outcome]
    workspace = link.workspace if link is not None else None
    with translation.override(_admin_language(link)):
        detail = _("Celebrations will be posted in %(channel)s.") % {"channel": channel} if channel else ""
        return render(
            request,
            "pages/message.html",
            {
                "title": str(title),
                "message": str(message),
                "detail": str(detail),
                "workspace_name": workspace.name if workspace is not None else "",
            },
            status=status,
        )


@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state", "")
    if request.GET.get("error"):
        try:
            link = install.install_cancel(state=state)
        except install.InstallRefused as exc:
            return _outcome_page(request, exc.code, status=400, link=exc.link)
        return _outcome_page(request, "cancelled", status=200, link=link)
    try:
        result = install.install_complete(state=state, code=request.GET.get("code", ""))
    except install.InstallRefused as exc:
        status = 409 if exc.code == "team_bound_elsewhere" else 400
        return _outcome_page(request, exc.code, status=status, link=exc.link)
    installation = result.installation
    return _outcome_page(
        request,
        "reinstalled" if result.reinstalled else "installed",
        status=200,
        link=result.link,
        channel=(installation.channel_name or installation.channel_id) if result.channel_connected else "",
    )
