"""JWTs: issuing a pair, rotating a refresh token (one winner, reuse revokes the chain), revoking.

- Every sign-in starts a :class:`~accounts.models.TokenFamily`; its refresh tokens carry the
  family's id (claim ``fam``). Only the family's ``current_jti`` can be refreshed. The
  rotation locks the family row, so concurrent refreshes with one token have one winner.
  A refresh with a token of the chain that was already rotated (a copy in someone else's
  hands, or the losers of such a race) revokes the family: its current refresh token is
  blacklisted and the user's access tokens stop working at once.
- Access tokens carry the user's ``token_version`` (claim ``ver``), checked against the
  user row on every request (``accounts.authentication``: the row is read anyway, so the
  check costs nothing). :func:`user_tokens_revoke` raises the version and ends every
  family: password change or reset, logout everywhere, deactivation, deletion.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone as dj_timezone
from rest_framework_simplejwt import tokens as jwt_tokens
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.models import TokenFamily, User
from birthdaybuddy.errors import ApplicationError

FAMILY_CLAIM = "fam"
VERSION_CLAIM = "ver"

REVOKED_REUSE = "reuse"
REVOKED_LOGOUT = "logout"
REVOKED_ALL = "revoked"


class TokenRejected(ApplicationError):
    """The refresh token cannot be used (expired, revoked, reused, or its account is gone)."""

    status_code = 401


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str

    def as_dict(self) -> dict[str, str]:
        return {"access": self.access, "refresh": self.refresh}


class AccessToken(jwt_tokens.AccessToken):
    """simplejwt's access token, carrying the user's ``token_version``."""

    @classmethod
    def for_user(cls, user):
        token = super().for_user(user)
        token[VERSION_CLAIM] = user.token_version
        return token


class RefreshToken(jwt_tokens.RefreshToken):
    """simplejwt's refresh token; the access tokens made from it carry ``token_version``."""

    access_token_class = AccessToken

    @classmethod
    def for_user(cls, user):
        token = super().for_user(user)
        token[VERSION_CLAIM] = user.token_version
        return token


class _ChainRefreshToken(RefreshToken):
    """A refresh token whose signature, expiry and type are checked, but not the blacklist:
    for a token of a family, the family row decides (a rotated token is evidence of reuse)."""

    def check_blacklist(self) -> None:
        if FAMILY_CLAIM not in self.payload:
            super().check_blacklist()


def _pair(*, refresh: RefreshToken, user: User) -> TokenPair:
    access = refresh.access_token
    access[VERSION_CLAIM] = user.token_version
    return TokenPair(access=str(access), refresh=str(refresh))


@transaction.atomic
def token_pair_issue(*, user: User, now: datetime | None = None) -> TokenPair:
    """A new sign-in: a new family, its first refresh token and an access token."""
    refresh = RefreshToken.for_user(user)  # also records the OutstandingToken
    family = TokenFamily.objects.create(
        user=user, current_jti=refresh[api_settings.JTI_CLAIM], created_at=now or dj_timezone.now()
    )
    refresh[FAMILY_CLAIM] = str(family.pk)
    return _pair(refresh=refresh, user=user)


def _reject(message: str, code: str) -> TokenRejected:
    return TokenRejected(message, code=code)


def token_refresh(*, raw: str, now: datetime | None = None) -> TokenPair:
    """Rotates ``raw``: a new pair, and ``raw`` stops working.

    Not one atomic block around the whole call: a detected reuse revokes the family (and
    commits that) even though the call then fails.
    """
    now = now or dj_timezone.now()
    try:
        token = _ChainRefreshToken(raw)
    except TokenError as exc:
        raise _reject(str(exc.args[0]) if exc.args else "Token is invalid.", "token_not_valid") from exc
    with transaction.atomic():
        pair, error = _rotate(token=token, now=now)
    if error is not None:
        raise error
    return pair


def _rotate(*, token: RefreshToken, now: datetime) -> tuple[TokenPair | None, TokenRejected | None]:
    jti = token[api_settings.JTI_CLAIM]
    user_id = token.payload.get(api_settings.USER_ID_CLAIM)
    family_id = token.payload.get(FAMILY_CLAIM)
    family = None
    if family_id is not None:
        try:
            family = TokenFamily.objects.select_for_update().filter(pk=uuid.UUID(str(family_id))).first()
        except ValueError:
            family = None
        if family is None or str(family.user_id) != str(user_id):
            return None, _reject("Token is invalid.", "token_not_valid")
        if family.revoked_at is not None:
            return None, _reject("This sign-in has ended: log in again.", "token_revoked")
        if family.current_jti != jti:
            _family_revoke(family=family, reason=REVOKED_REUSE, now=now)
            user_token_version_bump(user_id=family.user_id)
            return None, _reject(
                "This refresh token was already used: the sign-in it belongs to is revoked. Log in again.",
                "token_reused",
            )
    else:
        # Issued before token families existed: one use, decided by the blacklist under a row lock.
        outstanding = OutstandingToken.objects.select_for_update().filter(jti=jti).order_by().first()
        if outstanding is None or BlacklistedToken.objects.filter(token=outstanding).exists():
            return None, _reject("Token is blacklisted", "token_not_valid")
    user = User.objects.filter(pk=user_id).first()
    if user is None or not api_settings.USER_AUTHENTICATION_RULE(user):
        return None, _reject("No active account found for the given token.", "no_active_account")

    _blacklist_jtis([jti])
    if family is None:
        return token_pair_issue(user=user, now=now), None
    token.set_jti()
    token.set_exp(from_time=now)
    token.set_iat(at_time=now)
    token[VERSION_CLAIM] = user.token_version
    token.outstand()
    family.current_jti = token[api_settings.JTI_CLAIM]
    family.rotated_at = now
    family.save(update_fields=["current_jti", "rotated_at"])
    return _pair(refresh=token, user=user), None


def _blacklist_jtis(jtis) -> None:
    outstanding = list(OutstandingToken.objects.filter(jti__in=list(jtis)).only("pk"))
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=row) for row in outstanding], ignore_conflicts=True)


def _family_revoke(*, family: TokenFamily, reason: str, now: datetime) -> None:
    TokenFamily.objects.filter(pk=family.pk, revoked_at__isnull=True).update(revoked_at=now, revoked_reason=reason)
    _blacklist_jtis([family.current_jti])


@transaction.atomic
def token_logout(*, token: RefreshToken, now: datetime | None = None) -> None:
    """Ends the sign-in ``token`` belongs to (the token and its whole family)."""
    now = now or dj_timezone.now()
    token.blacklist()
    family_id = token.payload.get(FAMILY_CLAIM)
    if family_id is None:
        return
    try:
        family = TokenFamily.objects.select_for_update().filter(pk=uuid.UUID(str(family_id))).first()
    except ValueError:
        return
    if family is not None:
        _family_revoke(family=family, reason=REVOKED_LOGOUT, now=now)


def user_token_version_bump(*, user_id) -> None:
    """Every access token issued to the user so far stops working (their next request is a 401)."""
    User.objects.filter(pk=user_id).update(token_version=F("token_version") + 1)


@transaction.atomic
def user_tokens_revoke(*, user: User, now: datetime | None = None) -> int:
    """Ends every sign-in of ``user``: all refresh tokens blacklisted, all access tokens invalid.

    Returns how many refresh tokens were blacklisted.
    """
    now = now or dj_timezone.now()
    TokenFamily.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now, revoked_reason=REVOKED_ALL)
    outstanding = list(
        OutstandingToken.objects.filter(user=user, expires_at__gt=now, blacklistedtoken__isnull=True).only("pk")
    )
    BlacklistedToken.objects.bulk_create([BlacklistedToken(token=row) for row in outstanding], ignore_conflicts=True)
    user_token_version_bump(user_id=user.pk)
    user.token_version = User.objects.filter(pk=user.pk).values_list("token_version", flat=True).first() or 0
    return len(outstanding)
