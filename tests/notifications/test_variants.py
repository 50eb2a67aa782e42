"""Message variants: the stable choice from the idempotency key, a workspace's variants through the API,
and a variant's picture on Slack (an image attachment) and in the HTML part of an email."""

import email
import hashlib
import subprocess
import sys
from email import policy

import pytest
from django.conf import settings

from notifications.models import Template
from notifications.services import notification_deliver, notification_resend
from notifications.variants import choose, variant_index
from tests.conftest import client_for
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.notifications.factories import ChannelConfigFactory, NotificationFactory, TemplateFactory

KEYS = [f"{n:08x}-reminder:20260610T0900:greeting-birthday:email:{n * 7919:024x}" for n in range(400)]


def test_the_choice_is_sha256_of_the_key_modulo_the_number_of_variants():
    for key in KEYS[:50]:
        for count in (2, 3, 5):
            expected = int(hashlib.sha256(key.encode()).hexdigest()[:16], 16) % count
            assert variant_index(key, count) == expected
    assert variant_index("", 5) == 0  # previews: the first variant
    assert variant_index(KEYS[0], 1) == 0
    with pytest.raises(ValueError, match="no variant"):
        variant_index(KEYS[0], 0)


def test_another_process_with_another_hash_seed_chooses_the_same_variants():
    code = (
        "import sys; from notifications.variants import variant_index; "
        "keys = sys.stdin.read().split(); print(' '.join(str(variant_index(k, 5)) for k in keys))"
    )
    for seed in ("1", "2"):
        done = subprocess.run(
            [sys.executable, "-c", code],
            input="\n".join(KEYS),
            capture_output=True,
            text=True,
            check=True,
            cwd=settings.BASE_DIR,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
        )
        assert done.stdout.split() == [str(variant_index(key, 5)) for key in KEYS]


@pytest.mark.parametrize("count", [2, 3, 4, 5])
def test_over_many_keys_every_variant_is_chosen_about_evenly(count):
    chosen = [choose(list(range(count)), key) for key in KEYS]
    shares = [chosen.count(index) / len(KEYS) for index in range(count)]
    assert all(share > 0.5 / count for share in shares), shares


# --- the API ------------------------------------------------------------------------------------


def templates_url(workspace):
    return f"/api/v1/workspaces/{workspace.pk}/templates/"


@pytest.mark.django_db
def test_a_workspace_keeps_several_labelled_variants_of_one_kind_and_channel(auth_client, workspace):
    base = {"reminder_kind": "personal_greeting", "channel": "slack", "body": "Hi {{ person.name }}"}
    first = auth_client.post(templates_url(workspace), {**base, "label": "plain"}, format="json")
    second = auth_client.post(
        templates_url(workspace),
        {**base, "label": "cake", "image_url": "https://cdn.example.com/cake.png", "image_alt": "A cake"},
        format="json",
    )
    assert (first.status_code, second.status_code) == (201, 201), second.json()
    assert second.json()["image_url"] == "https://cdn.example.com/cake.png"

    again = auth_client.post(templates_url(workspace), {**base, "label": "cake"}, format="json")
    assert again.status_code == 400
    assert "label" in again.json()["errors"]
    assert Template.objects.filter(workspace=workspace).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.example.com/cake.png",
        "javascript:alert(1)",
        "data:image/png;base64,iVBORw0KGgo=",
        "https://",
        "https://user:secret@cdn.example.com/cake.png",
        "https://cdn.example.com/a cake.png",
        "//cdn.example.com/cake.png",
    ],
)
def test_a_picture_address_other_than_https_is_refused_and_nothing_is_written(auth_client, workspace, url):
    payload = {"reminder_kind": "personal_greeting", "channel": "email", "body": "Hi", "image_url": url}

    response = auth_client.post(templates_url(workspace), payload, format="json")

    assert response.status_code == 400
    assert "https://" in response.json()["errors"]["image_url"][0]
    assert not Template.objects.exists()


@pytest.mark.django_db
def test_changing_a_variants_picture_to_http_is_refused(auth_client, workspace):
    template = TemplateFactory(workspace=workspace, image_url="https://cdn.example.com/a.png")
    response = auth_client.patch(
        f"{templates_url(workspace)}{template.pk}/", {"image_url": "http://cdn.example.com/a.png"}, format="json"
    )
    assert response.status_code == 400
    template.refresh_from_db()
    assert template.image_url == "https://cdn.example.com/a.png"


@pytest.mark.django_db
def test_variants_stay_in_their_workspace():
    mine, theirs = WorkspaceFactory(), WorkspaceFactory()
    outsider = UserFactory()
    MembershipFactory(workspace=theirs, user=outsider, role="owner")
    variant = TemplateFactory(workspace=mine, label="mine")
    client = client_for(outsider)
    assert client.get(f"{templates_url(mine)}{variant.pk}/").status_code == 404
    assert client.get(templates_url(theirs)).json()["results"] == []


# --- delivery -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_slack_shows_the_picture_as_an_attachment_and_keeps_the_text(fake_slack):
    config = ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url)
    notification = NotificationFactory(
        workspace=config.workspace,
        body="🎂 Happy birthday, <@U1>!",
        image_url="https://cdn.example.com/cake.png",
        image_alt="A cake",
    )

    assert notification_deliver(notification_id=notification.pk) == "sent"

    [received] = fake_slack.received
    assert received.body["text"] == "🎂 Happy birthday, <@U1>!"
    assert received.body["attachments"] == [{"image_url": "https://cdn.example.com/cake.png", "fallback": "A cake"}]


@pytest.mark.django_db
def test_slack_without_a_picture_sends_no_attachment(fake_slack):
    config = ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url)
    notification = NotificationFactory(workspace=config.workspace, body="Hi")
    assert notification_deliver(notification_id=notification.pk) == "sent"
    [received] = fake_slack.received
    assert "attachments" not in received.body


@pytest.mark.django_db
def test_email_shows_the_picture_with_its_alt_text_in_the_html_part(smtp_server):
    config = ChannelConfigFactory(kind="email", webhook_url=None, from_name="Acme")
    notification = NotificationFactory(
        workspace=config.workspace,
        channel="email",
        recipient="ana@example.com",
        subject="Happy birthday, Ana!",
        body="Dear Ana,",
        image_url="https://cdn.example.com/cake.png?size=2&v=1",
        image_alt='A "cake"',
    )

    assert notification_deliver(notification_id=notification.pk) == "sent"

    [envelope] = smtp_server.messages
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    html = message.get_body(preferencelist=("html",)).get_content()
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert '<img src="https://cdn.example.com/cake.png?size=2&amp;v=1" alt="A &quot;cake&quot;"' in html
    assert "cdn.example.com" not in text


@pytest.mark.django_db
def test_a_resend_sends_the_same_text_and_picture():
    original = NotificationFactory(
        status="failed", body="Cake for Ana", image_url="https://cdn.example.com/cake.png", image_alt="A cake"
    )

    copy = notification_resend(notification=original)

    assert (copy.body, copy.image_url, copy.image_alt) == ("Cake for Ana", "https://cdn.example.com/cake.png", "A cake")


@pytest.mark.django_db
@pytest.mark.parametrize("blocks_show_it", [True, False])
def test_with_block_kit_the_picture_is_attached_unless_the_blocks_already_show_it(fake_slack, blocks_show_it):
    url = "https://cdn.example.com/cake.png"
    image_block = {"type": "image", "image_url": url, "alt_text": "A cake"}
    text_block = {"type": "section", "text": {"type": "mrkdwn", "text": "Hi"}}
    config = ChannelConfigFactory(kind="slack", webhook_url=fake_slack.webhook_url)
    notification = NotificationFactory(
        workspace=config.workspace,
        body="Hi",
        blocks=[text_block, image_block] if blocks_show_it else [text_block],
        image_url=url,
        image_alt="A cake",
    )

    assert notification_deliver(notification_id=notification.pk) == "sent"

    [received] = fake_slack.received
    assert received.body["blocks"][0] == text_block
    assert ("attachments" in received.body) is not blocks_show_it
