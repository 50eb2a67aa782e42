"""JWT authentication: simplejwt's, with the token version checked and expiry named.

simplejwt's ``JWTAuthentication`` reads the user with a query of its own on every request.
``check_user`` runs simplejwt's checks on a user read some other way, with its messages and
codes (inactive user, revoked token): the API's authentication
(``workspaces.api.authentication``) reads a workspace's caller together with their membership.

Beyond simplejwt's checks, an access token must carry the user's current ``token_version``
(claim ``ver``, see ``accounts.tokens``): a password change, logout everywhere or a
deactivation raises the version, and every access token issued before fails at once. The
version lives on the user row both ways read it, so the check costs no query.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, ExpiredTokenError, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from accounts.tokens import VERSION_CLAIM


class JWTAuthentication(authentication.JWTAuthentication):
    def get_validated_token(self, raw_token):
        """simplejwt's, except that a genuine token past its ``exp`` says so (code ``token_expired``).

        simplejwt answers "Given token not valid for any token type" for a forged token and an
        expired one alike; an expired one has passed the signature check, so the client is told
        to refresh it or log in again.
        """
        expired = False
        for token_class in api_settings.AUTH_TOKEN_CLASSES:
            try:
                token_class(raw_token)
            except TokenError as exc:  # simplejwt below reports the others with its own message
                expired = expired or isinstance(exc, ExpiredTokenError)
            else:
                break
        else:
            if expired:
                raise InvalidToken(
                    {"detail": _("This access token has expired: refresh it or log in again."), "code": "token_expired"}
                )
        return super().get_validated_token(raw_token)

    def get_user(self, validated_token):
        user = super().get_user(validated_token)
        self.check_token_version(user, validated_token)
        return user

    def check_user(self, user, validated_token) -> None:
        """What ``get_user`` checks once it has the user (kept in step with simplejwt's)."""
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(_("The user's password has been changed."), code="password_changed")
        self.check_token_version(user, validated_token)

    @staticmethod
    def check_token_version(user, validated_token) -> None:
        if validated_token.get(VERSION_CLAIM, 0) != user.token_version:
            raise AuthenticationFailed(_("This token has been revoked: log in again."), code="token_revoked")


class JWTScheme(SimpleJWTScheme):
    """The OpenAPI security scheme: drf-spectacular's for simplejwt, for this class and its subclasses."""

    target_class = "accounts.authentication.JWTAuthentication"
    match_subclasses = True
