"""The preferences page every message links to: which workspace writes to the person, on which
channels, in which language; unsubscribing per channel or from everything, and RFC 8058's
one-click POST for ``List-Unsubscribe``.

Clients have no account: the signed link (``workspaces.preferences``) is the key. Changes go
through ``workspaces.services`` into the same ``opted_out_channels`` the API and Twilio's STOP
use, and are audited.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods

from pages.common import language_for, message_page, page, throttled, too_many_requests
from workspaces import services
from workspaces.models import Channel
from workspaces.preferences import person_for_preferences_token, reachable_channels

CHANNEL_LABELS = {
    Channel.EMAIL: _("Email"),
    Channel.SMS: _("Text message (SMS)"),
    Channel.WHATSAPP: _("WhatsApp"),
    Channel.SLACK: _("Slack"),
}
ONE_CLICK_BODY = "List-Unsubscribe=One-Click"


class PreferencesForm(forms.Form):
    receive = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    language = forms.ChoiceField(label=_("Language"), required=False)

    def __init__(self, *args, offered: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["receive"].choices = [
            (channel, f"{CHANNEL_LABELS[channel]} ({address})" if address else CHANNEL_LABELS[channel])
            for channel, address in offered
        ]
        self.fields["language"].choices = [("", _("The workspace's language")), *settings.LANGUAGES]


def _bad_link(request, language: str):
    return message_page(
        request,
        title=_("This link does not work"),
        message=_("The link is incomplete or was replaced by a newer one. Use the link in the latest message."),
        status=404,
        language=language,
    )


def _lookup(request, person_id, token):
    person = person_for_preferences_token(person_id=person_id, token=token)
    language = language_for(person=person, workspace=person.workspace if person else None, request=request)
    return person, language


@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request, person_id, token: str):
    person, language = _lookup(request, person_id, token)
    if wait := throttled(request, bucket="preferences"):
        return too_many_requests(request, wait, language=language)
    if person is None:
        return _bad_link(request, language)
    offered = reachable_channels(person)
    opted_out = set(person.opted_out_channels or [])
    initial = {"receive": [c for c, _address in offered if c not in opted_out], "language": person.language}
    status = 200
    if request.method == "POST":
        form = PreferencesForm(request.POST, offered=offered)
        if form.is_valid():
            if "unsubscribe_all" in request.POST:
                services.person_unsubscribe(person=person)
            else:
                services.person_preferences_update(
                    person=person,
                    receive=set(form.cleaned_data["receive"]),
                    offered={channel for channel, _address in offered},
                    language=form.cleaned_data["language"],
                )
            response = HttpResponseRedirect(f"{request.path}?saved=1")
            response.status_code = 303
            return response
        status = 400
    else:
        form = PreferencesForm(initial=initial, offered=offered)
    context = {
        "workspace_name": person.workspace.name,
        "name": person.name,
        "form": form,
        "all_off": bool(offered) and all(channel in opted_out for channel, _address in offered),
        "saved": request.GET.get("saved") == "1" and request.method != "POST",
    }
    return page(request, "pages/preferences.html", context, status=status, language=language)


@csrf_exempt  # RFC 8058: mail providers POST here without a session; the signed link is the key
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, person_id, token: str):
    """One click from the mail client (POST ``List-Unsubscribe=One-Click``); a browser GET asks to confirm."""
    person, language = _lookup(request, person_id, token)
    if wait := throttled(request, bucket="unsubscribe"):
        return too_many_requests(request, wait, language=language)
    channel = request.GET.get("channel", Channel.EMAIL)
    if person is None or channel not in CHANNEL_LABELS:
        if request.method == "POST" and request.POST.get("List-Unsubscribe") == "One-Click":
            return HttpResponse("This unsubscribe link does not work.\n", status=404, content_type="text/plain")
        return _bad_link(request, language)
    if request.method == "POST":
        services.person_unsubscribe(person=person, channel=channel)
        if request.POST.get("List-Unsubscribe") == "One-Click":
            return HttpResponse("Unsubscribed.\n", content_type="text/plain")
        return message_page(
            request,
            title=_("You are unsubscribed"),
            message=_("%(workspace)s will not send you messages by %(channel)s any more.")
            % {"workspace": person.workspace.name, "channel": CHANNEL_LABELS[channel]},
            status=200,
            language=language,
            workspace_name=person.workspace.name,
            link_url=request.path.removesuffix("/unsubscribe"),
            link_text=_("All my preferences"),
        )
    context = {"workspace_name": person.workspace.name, "channel_label": CHANNEL_LABELS[channel]}
    return page(request, "pages/unsubscribe.html", context, language=language)
