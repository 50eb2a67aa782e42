"""Messages to people carry their preferences link; the email becomes multipart with real links,
RSVP buttons, List-Unsubscribe and RFC 8058's one-click header, checked with a real MIME parser."""

import re
from email import message_from_bytes, policy

import pytest

from notifications.person_links import with_preferences_link
from notifications.providers.base import Message
from notifications.providers.email import EmailProvider
from tests.factories import PersonFactory, WorkspaceFactory
from workspaces.preferences import preferences_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def person(db, settings):
    settings.PUBLIC_BASE_URL = "https://buddy.example.test"
    return PersonFactory(workspace=WorkspaceFactory(name="Lima & Co"), email="ana@example.com")


def sent(body: str, subject: str = "You're invited: Summer dinner", **links):
    provider = EmailProvider(from_name="Lima & Co", reply_to="", rate_key=None, rate_per_second=None)
    message = provider.build(
        Message(
            notification_id="6f1c2a3b-0000-4000-8000-000000000001",
            channel="email",
            recipient="ana@example.com",
            body=body,
            subject=subject,
            workspace_name="Lima & Co",
            **links,
        )
    )
    return message_from_bytes(message.message().as_bytes(), policy=policy.default)


def test_a_message_to_a_person_ends_with_their_preferences_link(person):
    body = with_preferences_link(body="Hello Ana", person=person, channel="email")

    assert body.startswith("Hello Ana\n\n— Your message preferences, or unsubscribe: ")
    assert body.endswith(preferences_url(person))
    assert with_preferences_link(body="Hello", person=None, channel="slack") == "Hello"


def test_the_email_is_multipart_with_list_unsubscribe_one_click(person):
    body = with_preferences_link(body="Hello Ana,\nsee you soon.", person=person, channel="email")
    parsed = sent(body, preferences_url=preferences_url(person))

    assert parsed.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in parsed.iter_parts()] == ["text/plain", "text/html"]
    link = preferences_url(person)
    assert str(parsed["List-Unsubscribe"]).strip() == f"<{link}/unsubscribe?channel=email>"  # may be folded
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html = parsed.get_body(("html",)).get_content()
    assert f'<a href="{link}"' in html
    assert '<meta name="viewport"' in html
    assert "overflow-wrap:anywhere" in html, "long links wrap instead of widening the mail"


def test_an_email_without_a_person_link_has_no_unsubscribe_header(person):
    parsed = sent("A digest for the team channel.")
    assert parsed["List-Unsubscribe"] is None


def test_links_come_from_the_message_not_from_its_text(person):
    """Text that merely looks like a link (a workspace's own template can write anything) makes
    neither an unsubscribe header nor buttons."""
    lookalike = "https://buddy.example.test/rsvp/" + "T" * 43
    parsed = sent(f"Answer here: {lookalike}\n\n— unsubscribe: {preferences_url(person)}")
    assert parsed["List-Unsubscribe"] is None
    assert "?answer=yes" not in parsed.get_body(("html",)).get_content()


def test_an_invitation_email_gets_rsvp_buttons_that_only_preselect(person):
    rsvp = "https://buddy.example.test/rsvp/" + "T" * 43
    parsed = sent(f"Will you come? Answer here:\n{rsvp}", rsvp_url=rsvp)
    html = parsed.get_body(("html",)).get_content()

    for answer in ("yes", "maybe", "no"):
        assert f'href="{rsvp}?answer={answer}"' in html
    assert re.search(r">Going</a>", html)
    assert f'<a href="{rsvp}"' in html
