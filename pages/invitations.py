"""The member invitation page at ``/invitations/<token>``: who invites you where, and joining.

Someone without an account signs up there (the email is the invited one and cannot be
changed; following the link proves the mailbox); someone with an account confirms with
their password. Used, revoked and expired invitations, and bad links, get a page saying so.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.core.exceptions import ValidationError
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from accounts.models import User
from birthdaybuddy.errors import ApplicationError
from pages.common import language_for, message_page, page, throttled, too_many_requests
from workspaces import invitations
from workspaces.models import InvitationStatus, Role
from workspaces.selectors import invitation_for_token

CLOSED = {
    InvitationStatus.ACCEPTED: (_("This invitation was already used"), _("You can sign in to the workspace.")),
    InvitationStatus.REVOKED: (
        _("This invitation was withdrawn"),
        _("Ask the person who invited you to send a new one."),
    ),
    InvitationStatus.EXPIRED: (
        _("This invitation has expired"),
        _("Ask the person who invited you to send a new one."),
    ),
}
ROLE_LABELS = {Role.OWNER: _("Owner"), Role.ADMIN: _("Admin"), Role.MEMBER: _("Member")}
ERROR_STATUS = {"invitation_used": 410, "invitation_revoked": 410, "invitation_expired": 410, "invalid_token": 404}


class SignUpForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )


class SignInForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


def _bad_link(request, language: str):
    return message_page(
        request,
        title=_("This link does not work"),
        message=_(
            "The invitation link is incomplete. Open the whole link from the email, or ask for a new invitation."
        ),
        status=404,
        language=language,
    )


@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def invitation(request, token: str):
    found = invitation_for_token(token=token)
    language = language_for(workspace=found.workspace if found else None, request=request)
    scope = "auth_ip" if request.method == "POST" else "pages"
    if wait := throttled(request, scope, bucket="invitation"):
        return too_many_requests(request, wait, language=language)
    if found is None:
        return _bad_link(request, language)
    status = found.status_at(dj_timezone.now())
    if status != InvitationStatus.PENDING:
        title, message = CLOSED[status]
        return message_page(
            request, title=title, message=message, status=410, language=language, workspace_name=found.workspace.name
        )
    existing = User.objects.filter(email__iexact=found.email, is_active=True).first()
    form_class = SignInForm if existing else SignUpForm
    form = form_class(request.POST if request.method == "POST" else None)
    http_status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                _join(request, token=token, email=found.email, existing=existing, form=form)
            except ValidationError as exc:
                _add_errors(form, exc)
            except ApplicationError as exc:
                if exc.code in ERROR_STATUS:
                    return message_page(
                        request,
                        title=_("This invitation cannot be used"),
                        message=exc.message,
                        status=ERROR_STATUS[exc.code],
                        language=language,
                    )
                form.add_error(None, exc.message)
            else:
                return message_page(
                    request,
                    title=_("Welcome to %(workspace)s") % {"workspace": found.workspace.name},
                    message=_("You are a member now. Sign in with your email address and password."),
                    status=200,
                    language=language,
                    workspace_name=found.workspace.name,
                )
        http_status = 400
    context = {
        "workspace_name": found.workspace.name,
        "invitation": found,
        "inviter": found.invited_by.get_full_name() if found.invited_by else "",
        "role": ROLE_LABELS.get(found.role, found.role),
        "existing": existing is not None,
        "form": form,
        "password_help": password_validators_help_text_html() if existing is None else "",
    }
    return page(request, "pages/invitation.html", context, status=http_status, language=language)


def _join(request, *, token: str, email: str, existing: User | None, form: forms.Form) -> None:
    if existing is None:
        invitations.invitation_signup(
            token=token,
            password=form.cleaned_data["password"],
            first_name=form.cleaned_data["first_name"],
            last_name=form.cleaned_data["last_name"],
        )
        return
    user = authenticate(request, email=email, password=form.cleaned_data["password"])
    if user is None:
        raise ValidationError({"password": [_("This password is not right.")]})
    if not user.is_verified:
        raise ValidationError(
            {"password": [_("Confirm your email address first (the code we emailed you), then open this link again.")]}
        )
    invitations.invitation_accept(token=token, user=user)


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for field, errors in exc.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)
