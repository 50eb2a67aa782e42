"""The group card's wish page: the link in an emailed advance alert opens it.

The signed link (``cards.links``) names the celebration and the alert's recipient, who writes
(and may change) their own wish until the day begins; the card's other wishes are never shown.
Every refusal comes from ``cards.services``: to the celebrated person, another workspace's
person or anyone the card is not open to, the page looks like any bad link (404) — it never
says that a card exists. A GET changes nothing.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from birthdaybuddy.i18n import day_text
from cards import services
from cards.links import card_ref_from_token
from cards.models import MAX_WISH_LENGTH, CardKind
from pages.common import language_for, message_page, page, throttled, too_many_requests
from workspaces.birthdays import workspace_today
from workspaces.models import Person


class WishForm(forms.Form):
    text = forms.CharField(
        label=_("Your wish"),
        max_length=MAX_WISH_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Only the celebrated person and, on the day, the team read it. You can change it until then."),
    )


REFUSALS = {
    services.CLOSED: (
        410,
        _("The card was delivered"),
        _("The team's wishes were delivered on the day; the card takes no more."),
    ),
    services.NOT_OPEN: (409, _("The card is not open yet"), _("You can add your wishes from the day of the alert.")),
    services.CARDS_OFF: (410, _("No group card"), _("This workspace does not collect group cards any more.")),
}


def _bad_link(request, language: str):
    return message_page(
        request,
        title=str(_("This link does not work")),
        message=str(_("The link is incomplete or no longer valid.")),
        status=404,
        language=language,
    )


@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def wish(request, token: str):
    found = card_ref_from_token(token)
    author = None
    if found is not None and found[1] is not None:
        author = (
            Person.objects.select_related("workspace").filter(pk=found[1], workspace_id=found[0].workspace_id).first()
        )
    language = language_for(person=author, workspace=author.workspace if author else None, request=request)
    if wait := throttled(request, bucket="card-wish"):
        return too_many_requests(request, wait, language=language)
    if found is None or author is None:
        return _bad_link(request, language)
    ref = found[0]
    today = workspace_today(author.workspace)
    try:
        door = services.wish_check(ref=ref, author=author, today=today)
    except ValidationError as exc:
        return _refused(request, exc, language)
    status = 200
    if request.method == "POST":
        form = WishForm(request.POST)
        if form.is_valid():
            try:
                services.wish_save(ref=ref, author=author, text=form.cleaned_data["text"], today=today)
            except ValidationError as exc:
                if exc.code in REFUSALS or exc.code == services.NOT_FOUND:
                    return _refused(request, exc, language)
                form.add_error(None, exc)
            else:
                response = HttpResponseRedirect(f"{request.path}?saved=1")
                response.status_code = 303
                return response
        status = 400
    else:
        form = WishForm(initial={"text": door.own_text})
    context = {
        "workspace_name": author.workspace.name,
        "name": door.person.name,
        "birthday": ref.kind == CardKind.BIRTHDAY,
        "day": day_text(ref.day),
        "form": form,
        "written": bool(door.own_text),
        "saved": request.GET.get("saved") == "1" and request.method != "POST",
    }
    return page(request, "pages/card_wish.html", context, status=status, language=language)


def _refused(request, exc: ValidationError, language: str):
    if exc.code not in REFUSALS:
        return _bad_link(request, language)
    status, title, message = REFUSALS[exc.code]
    return message_page(request, title=str(title), message=str(message), status=status, language=language)
