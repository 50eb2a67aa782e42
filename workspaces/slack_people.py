"""Writes a person's Slack-side state: consent, the profile read from Slack's directory.

Beside ``services.py`` (same rules: validation with ``full_clean``, every change audited by
the audit trail's model registration). Dates themselves go through ``services.person_update``.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone as dj_timezone

from workspaces.models import Consent, Person

PROFILE_FIELDS = ("slack_user_id", "slack_display_name", "timezone", "slack_deactivated_at", "email", "name")


@transaction.atomic
def person_consent_set(*, person: Person, consent: str) -> Person:
    """Records the person's own answer (``active`` or ``declined``) or an admin's ask (``pending``)."""
    if consent not in Consent.values:
        raise ValueError(f"Unknown consent {consent!r}")
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.consent != consent:
        person.consent = consent
        person.save(update_fields=["consent", "updated_at"])
    return person


@transaction.atomic
def person_consent_request(*, person: Person) -> bool:
    """Marks the person to be asked (``pending``, not yet asked). A person who declined, or who
    has already answered or been asked, is left alone: False."""
    changed = (
        Person.objects.filter(pk=person.pk, consent=Consent.ACTIVE, consent_asked_at__isnull=True)
        .exclude(birth_month__isnull=False)
        .update(consent=Consent.PENDING, updated_at=dj_timezone.now())
    )
    return bool(changed)


def person_consent_claim_ask(*, person_id, now: datetime) -> bool:
    """Claims the right to send the ask to a pending person (one conditional UPDATE): True once."""
    return bool(
        Person.objects.filter(pk=person_id, consent=Consent.PENDING, consent_asked_at__isnull=True).update(
            consent_asked_at=now
        )
    )


def person_consent_release_ask(*, person_id) -> None:
    """The ask could not be sent: it may be tried again."""
    Person.objects.filter(pk=person_id, consent=Consent.PENDING).update(consent_asked_at=None)


@transaction.atomic
def person_slack_profile_update(*, person: Person, **fields) -> Person:
    """Fills what Slack's directory says about the person (only the fields given; unchanged ones
    are not written, so a daily sync of an unchanged directory writes nothing)."""
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"Not a Slack profile field: {sorted(unknown)}")
    person = Person.objects.select_for_update().get(pk=person.pk)
    changed = [name for name, value in fields.items() if getattr(person, name) != value]
    if not changed:
        return person
    for name in changed:
        setattr(person, name, fields[name])
    person.full_clean()
    person.save(update_fields=[*changed, "updated_at"])
    return person
