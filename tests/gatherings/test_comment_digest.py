"""New comments go out as one digest per participant per run: others' comments only, hidden ones
left out, once (a second run writes nothing), through the outbox with opt-outs recorded."""

from datetime import UTC, datetime, timedelta

import pytest

from events.models import Attendee, Rsvp
from gatherings import digest, thread
from gatherings.models import Comment
from notifications.models import Notification, NotificationStatus
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def answered(party):
    """Ana and Bo said yes (reachable by email), Cy said no; the host's person has an email too."""
    for person, answer in ((party.ana, Rsvp.YES), (party.bo, Rsvp.YES), (party.cy, Rsvp.NO)):
        person.email = f"{person.name.split()[0].lower()}@example.com"
        person.save()
        Attendee.objects.filter(event=party.event, person=person).update(answer=answer)
    party.host_person.email = "hana@example.com"
    party.host_person.save()
    return party


def test_three_comments_make_one_message_per_participant(answered):
    party = answered
    thread.comment_post(event=party.event, body="Who brings ice?", person=party.ana, now=NOW)
    thread.comment_post(event=party.event, body="Me!", person=party.bo, now=NOW)
    thread.comment_post(event=party.event, body="Great, thanks", user=party.host, now=NOW)

    assert digest.comment_digest_write(now=NOW + timedelta(minutes=15)) == 3
    messages = {n.recipient: n for n in Notification.objects.all()}
    # Cy said no: nothing for Cy. Each gets the others' comments, never their own.
    assert set(messages) == {"ana@example.com", "bo@example.com", "hana@example.com"}
    ana = messages["ana@example.com"]
    assert "2 new comments on Summer party" in ana.subject
    assert "Who brings ice?" not in ana.body
    assert "Bo Berg: Me!" in ana.body
    assert "Great, thanks" in ana.body
    assert "Who brings ice?" in messages["hana@example.com"].body
    assert Comment.objects.filter(digested_at__isnull=True).count() == 0

    # A second run finds nothing new and writes nothing.
    assert digest.comment_digest_write(now=NOW + timedelta(minutes=30)) == 0
    assert Notification.objects.count() == 3


def test_hidden_comments_are_left_out_and_a_later_comment_makes_a_new_digest(answered):
    party = answered
    spam = thread.comment_post(event=party.event, body="Buy cheap watches", person=party.bo, now=NOW)
    thread.comment_hide(comment=spam, hidden=True, actor=party.host)
    assert digest.comment_digest_write(now=NOW + timedelta(minutes=1)) == 0
    thread.comment_post(event=party.event, body="Bring a jumper", person=party.bo, now=NOW + timedelta(minutes=2))
    assert digest.comment_digest_write(now=NOW + timedelta(minutes=3)) == 2
    bodies = " ".join(Notification.objects.values_list("body", flat=True))
    assert "Bring a jumper" in bodies
    assert "cheap watches" not in bodies


def test_a_participant_no_channel_reaches_gets_a_skipped_message_with_the_reason(answered):
    party = answered
    party.ana.opted_out_channels = ["email"]
    party.ana.save()
    thread.comment_post(event=party.event, body="Hello", person=party.bo, now=NOW)
    digest.comment_digest_write(now=NOW + timedelta(minutes=1))
    skipped = Notification.objects.get(person=party.ana)
    assert skipped.status == NotificationStatus.SKIPPED
    assert skipped.last_error.startswith("opted_out")


def test_the_digest_is_in_the_participant_s_language(answered):
    party = answered
    party.ana.language = "de"
    party.ana.save()
    thread.comment_post(event=party.event, body="Hallo", person=party.bo, now=NOW)
    digest.comment_digest_write(now=NOW + timedelta(minutes=1))
    assert "1 neuer Kommentar zu Summer party" in Notification.objects.get(person=party.ana).subject


def test_comments_of_a_workspace_stay_in_its_messages(answered):
    party = answered
    outsider = PersonFactory(name="Zed", email="zed@example.com")
    thread.comment_post(event=party.event, body="Secret plan", person=party.bo, now=NOW)
    digest.comment_digest_write(now=NOW + timedelta(minutes=1))
    assert not Notification.objects.filter(person=outsider).exists()
    assert set(Notification.objects.values_list("workspace_id", flat=True)) == {party.workspace.id}
