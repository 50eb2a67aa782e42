"""Every write of the cards app: the workspace's prep settings and the wishes on a card.

Wishes come from two doors, the wish page (``pages``) and the Slack modal (``slackapp``); both
call :func:`wish_save` (and :func:`wish_check` to show the form), so the refusals are the same:

- the celebrated person, another workspace's person, a non-teammate: ``not_found`` — worded
  like a bad link, so the celebrated person never learns that a card exists;
- the workspace turned cards off: ``cards_off``;
- before the prep window (the alert's day) or once the day has begun: ``not_open`` / ``closed``.

A writer sees and may change their own wish until the day; nobody reads anyone else's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone as dj_timezone

from cards.links import CardRef
from cards.models import MAX_ALERT_DAYS, MAX_WISH_LENGTH, AlertRecipients, Card, CardKind, PrepSettings, Wish
from workspaces.models import Membership, Person, Workspace

NOT_FOUND = "not_found"
CARDS_OFF = "cards_off"
NOT_OPEN = "not_open"
CLOSED = "closed"


def prep_settings_of(workspace: Workspace) -> PrepSettings:
    """The workspace's settings (unsaved defaults — alerts and cards off — when it has none)."""
    found = PrepSettings.objects.filter(workspace=workspace).first()
    return found if found is not None else PrepSettings(workspace=workspace)


def teammates(workspace_id) -> QuerySet[Person]:
    """People of the workspace who are its members (an account with a membership) or in its Slack team."""
    is_member = Membership.objects.filter(workspace_id=OuterRef("workspace_id"), user_id=OuterRef("user_id"))
    people = Person.objects.filter(workspace_id=workspace_id)
    return people.filter(Exists(is_member)) | people.exclude(slack_user_id="")


@transaction.atomic
def prep_settings_update(*, workspace: Workspace, data: dict) -> PrepSettings:
    """Changes the settings given in ``data``; every value is checked together, nothing is saved on error."""
    settings = prep_settings_of(workspace)
    errors: dict[str, list[str]] = {}
    if "alert_days" in data:
        days = data["alert_days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= MAX_ALERT_DAYS:
            errors["alert_days"] = [f"A whole number from 0 (no alerts) to {MAX_ALERT_DAYS}."]
        else:
            settings.alert_days = days
    if "alert_recipients" in data:
        if data["alert_recipients"] not in AlertRecipients.values:
            errors["alert_recipients"] = [f"One of: {', '.join(AlertRecipients.values)}."]
        else:
            settings.alert_recipients = data["alert_recipients"]
    if "group_card" in data:
        settings.group_card = bool(data["group_card"])
    chosen = None
    if "chosen" in data:
        ids = {str(value) for value in data["chosen"]}
        is_member = Membership.objects.filter(workspace=workspace, user_id=OuterRef("user_id"))
        chosen = list(Person.objects.filter(workspace=workspace, pk__in=ids).filter(Exists(is_member)))
        unknown = ids - {str(person.pk) for person in chosen}
        if unknown:
            errors["chosen"] = [f"Not a member of this workspace: {', '.join(sorted(unknown))}."]
    if settings.group_card and settings.alert_days == 0 and "alert_days" not in errors:
        errors["group_card"] = ["The group card's prep window starts with the advance alert: set alert_days first."]
    if errors:
        raise ValidationError(errors)
    settings.updated_at = dj_timezone.now()
    settings.save()
    if chosen is not None:
        settings.chosen.set(chosen)
    return settings


@dataclass(frozen=True, slots=True)
class WishDoor:
    """What a writer may see while the card is open: the celebration and their own wish."""

    ref: CardRef
    person: Person
    author: Person
    opens: date
    own_text: str


def wish_check(*, ref: CardRef, author: Person | None, today: date) -> WishDoor:
    """Whether ``author`` may write on ``ref``'s card ``today``; raises ``ValidationError`` with the refusal's code."""
    if author is None or author.workspace_id != ref.workspace_id or author.pk == ref.person_id:
        raise ValidationError("This card is not open to you.", code=NOT_FOUND)
    if ref.kind not in CardKind.values or not teammates(ref.workspace_id).filter(pk=author.pk).exists():
        raise ValidationError("This card is not open to you.", code=NOT_FOUND)
    person = Person.objects.filter(workspace_id=ref.workspace_id, pk=ref.person_id).select_related("workspace").first()
    if person is None:
        raise ValidationError("This card is not open to you.", code=NOT_FOUND)
    settings = prep_settings_of(person.workspace)
    if not settings.group_card or settings.alert_days == 0:
        raise ValidationError("This workspace does not collect group cards any more.", code=CARDS_OFF)
    if today >= ref.day:
        raise ValidationError("The card was delivered; wishes are closed.", code=CLOSED)
    opens = ref.day - timedelta(days=settings.alert_days)
    if today < opens:
        raise ValidationError("The card is not open yet.", code=NOT_OPEN)
    own = Wish.objects.filter(card__person=person, card__kind=ref.kind, card__day=ref.day, author=author).first()
    return WishDoor(ref=ref, person=person, author=author, opens=opens, own_text=own.text if own else "")


def clean_wish_text(text) -> str:
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        raise ValidationError({"text": ["Write a wish."]})
    if len(text) > MAX_WISH_LENGTH:
        raise ValidationError({"text": [f"At most {MAX_WISH_LENGTH} characters (this one has {len(text)})."]})
    return text


@transaction.atomic
def wish_save(*, ref: CardRef, author: Person | None, text, today: date) -> Wish:
    """Adds ``author``'s wish to the card (created with its first wish), or replaces their earlier one."""
    door = wish_check(ref=ref, author=author, today=today)
    text = clean_wish_text(text)
    card, _created = Card.objects.get_or_create(
        person=door.person, kind=ref.kind, day=ref.day, defaults={"workspace_id": ref.workspace_id}
    )
    now = dj_timezone.now()
    wish, created = Wish.objects.select_for_update().get_or_create(
        card=card,
        author=door.author,
        defaults={"workspace_id": ref.workspace_id, "text": text, "created_at": now, "updated_at": now},
    )
    if not created and wish.text != text:
        wish.text = text
        wish.updated_at = now
        wish.save(update_fields=["text", "updated_at"])
    return wish
