"""Which of the shipped languages (``LANGUAGES``) a workspace's locale or a person's language means."""

from __future__ import annotations

from django.conf import settings
from django.utils import translation


def supported_language(code: str | None) -> str | None:
    """``code`` ("de-AT", "de", "en-US") as one of ``LANGUAGES``, or None."""
    if not code or not isinstance(code, str):
        return None
    try:
        return translation.get_supported_language_variant(code.replace("_", "-").lower())
    except LookupError:
        return None


def language_of(*, person=None, workspace=None) -> str:
    """The person's own language if set, else the workspace's locale, else the default (English)."""
    for code in (getattr(person, "language", ""), getattr(workspace, "locale", "")):
        if language := supported_language(code):
            return language
    return settings.LANGUAGE_CODE
