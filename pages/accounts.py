"""Pages behind the account emails: choose a new password, confirm an email address, ask for a reset link.

Each GET only shows; the change happens on the form's POST, through ``accounts.services``
(the same rules as the API). Credential posts are throttled per client IP at the API's
``auth_ip`` rate.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from accounts import registration, services
from accounts.models import User
from birthdaybuddy.errors import ApplicationError
from pages.common import language_for, message_page, page, throttled, too_many_requests

AUTH_SCOPE = "auth_ip"


def _throttle(request, bucket: str, language: str):
    scope = AUTH_SCOPE if request.method == "POST" else "pages"
    if wait := throttled(request, scope, bucket=bucket):
        return too_many_requests(request, wait, language=language)
    return None


def _reset_link_invalid(request, language: str):
    return message_page(
        request,
        title=_("This link has expired"),
        message=_(
            "This password reset link is invalid, already used or expired (links work once, for an hour). "
            "Ask for a new one."
        ),
        status=410,
        language=language,
        link_url="/account/forgot",
        link_text=_("Send me a new link"),
    )


@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def password_reset(request, uid: str, token: str):
    language = language_for(request=request)
    if response := _throttle(request, "password-reset", language):
        return response
    user = services.password_reset_user(uid=uid, token=token)
    if user is None:
        return _reset_link_invalid(request, language)
    form = SetPasswordForm(user, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.password_reset_confirm(uid=uid, token=token, new_password=form.cleaned_data["new_password1"])
            except ApplicationError:
                return _reset_link_invalid(request, language)
            except ValidationError as exc:
                form.add_error("new_password1", exc.error_dict.get("new_password", exc.error_list))
            else:
                return message_page(
                    request,
                    title=_("Your password is changed"),
                    message=_(
                        "Sign in with your new password. Everywhere you were signed in before, you are signed out now."
                    ),
                    status=200,
                    language=language,
                )
        status = 400
    return page(
        request, "pages/password_reset.html", {"form": form, "email": user.email}, status=status, language=language
    )


class ForgotPasswordForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=User._meta.get_field("email").max_length)


@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def password_forgot(request):
    language = language_for(request=request)
    if response := _throttle(request, "password-forgot", language):
        return response
    form = ForgotPasswordForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            services.password_reset_request(email=form.cleaned_data["email"])
            return message_page(
                request,
                title=_("Check your inbox"),
                message=_("If an account uses this address, we have sent it a link to choose a new password."),
                status=200,
                language=language,
            )
        return page(request, "pages/password_forgot.html", {"form": form}, status=400, language=language)
    return page(request, "pages/password_forgot.html", {"form": form}, language=language)


VERIFY_ERRORS = {
    "code_expired": (410, _("This link has expired"), _("Ask for a new code in the app, then use the newest email.")),
    "too_many_attempts": (
        410,
        _("This code no longer works"),
        _("It was tried too often. Ask for a new code in the app."),
    ),
}


@csrf_protect
@require_http_methods(["GET", "HEAD", "POST"])
def email_verify(request, token: str):
    language = language_for(request=request)
    if response := _throttle(request, "email-verify", language):
        return response
    link = registration.verification_link_read(token)
    if link is None:
        return message_page(
            request,
            title=_("This link does not work"),
            message=_(
                "The link is incomplete or too old. Enter the code from the email in the app, or ask for a new one."
            ),
            status=400,
            language=language,
        )
    email, code = link
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is not None and user.is_verified:
        return message_page(
            request,
            title=_("Your email address is confirmed"),
            message=_("It was already confirmed. You can sign in."),
            status=200,
            language=language,
        )
    if request.method == "POST":
        try:
            registration.user_verify(email=email, code=code)
        except ApplicationError as exc:
            status, title, message = VERIFY_ERRORS.get(
                exc.code,
                (
                    400,
                    _("This link does not work"),
                    _("A newer code was sent, or the account is gone. Use the newest email."),
                ),
            )
            return message_page(request, title=title, message=message, status=status, language=language)
        return message_page(
            request,
            title=_("Your email address is confirmed"),
            message=_("Thank you. You can sign in now."),
            status=200,
            language=language,
        )
    return page(request, "pages/email_verify.html", {"email": email}, language=language)
