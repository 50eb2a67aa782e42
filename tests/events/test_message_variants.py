"""Event messages written outside the digest's planner use the variant their idempotency key chooses
(``notifications.variants.choose`` over the workspace's variants), like the planner's: different
invitations and notices get different variants, and writing a notice again gives the same text."""

import pytest

from events.messages import event_update_notices_write
from events.models import Attendee, Event, Rsvp
from notifications.models import Notification, Template
from notifications.variants import choose
from tests.events.test_rsvp import gathering, invitations, notices
from tests.factories import PersonFactory
from tests.notifications.factories import TemplateFactory

pytestmark = pytest.mark.django_db

LABELS = ("first", "second", "third")


def three_variants(workspace, kind: str) -> list[Template]:
    """The workspace's three email variants of ``kind``, in the renderer's order (creation)."""
    for label in LABELS:
        TemplateFactory(
            workspace=workspace,
            reminder_kind=kind,
            channel="email",
            label=label,
            subject=f"[{label}] {{{{ event.title }}}}",
            body=f"Variant {label} for {{{{ person.name }}}}.",
        )
    return list(Template.objects.filter(workspace=workspace, reminder_kind=kind).order_by("created_at", "id"))


def variant_of(row: Notification) -> str:
    """The label the row's text was written from (its subject says it)."""
    return row.subject.split("]", 1)[0].removeprefix("[")


@pytest.fixture
def big_party(office, django_capture_on_commit_callbacks):
    """A gathering of twelve guests, each reached by email; the workspace has three invitation variants."""
    invitation_variants = three_variants(office.workspace, "event_invitation")
    guests = [office.ana, office.bo, office.cy] + [
        PersonFactory(workspace=office.workspace, name=f"Guest {n:02}", email=f"guest{n}@example.com") for n in range(9)
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = office.owner_client.post(
            office.events_url, gathering(office, attendees=[str(person.pk) for person in guests])
        )
    assert response.status_code == 201, response.content
    return Event.objects.get(pk=response.json()["id"]), invitation_variants


def test_each_invitation_is_the_variant_its_key_chooses(office, big_party):
    event, variants = big_party
    sent = invitations(event.pk)
    assert len(sent) == 12
    for name, row in sent.items():
        chosen = choose(variants, row.idempotency_key)
        assert variant_of(row) == chosen.label
        assert row.body.startswith(f"Variant {chosen.label} for {name}.")
    # Twelve keys all on one variant of three: (1/3)^11.
    assert len({variant_of(row) for row in sent.values()}) > 1


def test_each_change_notice_is_its_keys_variant_and_writing_it_again_gives_the_same_text(
    office, big_party, django_capture_on_commit_callbacks
):
    """GIVEN twelve guests who said yes and three variants of the change notice, WHEN the gathering
    moves, THEN each notice is the variant its key chooses; AND written again (the write retried after
    the rows were lost), every notice has exactly the same subject and body."""
    event, _ = big_party
    variants = three_variants(office.workspace, "event_update")
    Attendee.objects.filter(event=event).update(answer=Rsvp.YES)
    with django_capture_on_commit_callbacks(execute=True):
        moved = office.owner_client.patch(office.event_url(event.pk), {"location": "Garden"})
    assert moved.status_code == 200

    sent = notices(event.pk, "update")
    assert len(sent) == 12
    for name, row in sent.items():
        chosen = choose(variants, row.idempotency_key)
        assert variant_of(row) == chosen.label
        assert row.body.startswith(f"Variant {chosen.label} for {name}.")
    assert len({variant_of(row) for row in sent.values()}) > 1

    written = {row.idempotency_key: (row.subject, row.body) for row in sent.values()}
    Notification.objects.filter(idempotency_key__in=written).delete()
    with django_capture_on_commit_callbacks(execute=True):
        event_update_notices_write(event_id=event.pk, changed_fields=["location"])
    again = {row.idempotency_key: (row.subject, row.body) for row in notices(event.pk, "update").values()}
    assert again == written
