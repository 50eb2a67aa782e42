import pytest

from notifications.models import MessageKind
from notifications.rendering import default_source, render_message, render_source, slack_mention, template_errors
from tests.notifications.factories import TemplateFactory
from workspaces.models import Channel

DIGEST = {
    "date": "2026-11-22",
    "date_display": "Sunday 22 November",
    "birthdays": [
        {"name": "Ana", "mention": slack_mention("U01"), "age": 30},
        {"name": "Bo", "mention": "Bo", "age": None},
    ],
    "anniversaries": [{"name": "Cy", "mention": "Cy", "years": 5}],
}


@pytest.mark.django_db
def test_default_slack_digest_has_mentions_and_anniversaries(workspace):
    rendered = render_message(workspace=workspace, reminder_kind="birthday_digest", channel="slack", context=DIGEST)
    assert rendered.body == "🎂 Today: <@U01>, Bo · 🎉 5 years: Cy"
    assert rendered.subject == ""


@pytest.mark.django_db
def test_default_email_digest_has_subject_and_respects_hidden_age(workspace):
    rendered = render_message(workspace=workspace, reminder_kind="birthday_digest", channel="email", context=DIGEST)
    assert rendered.subject == f"Birthdays and anniversaries today at {workspace.name}"
    assert "Ana turns 30" in rendered.body
    assert "- 🎂 Bo\n" in rendered.body  # no age given (hidden): none shown
    assert "Cy: 5 years with us" in rendered.body


@pytest.mark.parametrize("kind", MessageKind.values)
@pytest.mark.parametrize("channel", Channel.values)
def test_every_kind_and_channel_ships_a_default_that_renders(kind, channel):
    subject, body = default_source(reminder_kind=kind, channel=channel)
    assert not template_errors(reminder_kind=kind, channel=channel, subject=subject, body=body)


@pytest.mark.django_db
def test_workspace_override_wins(workspace):
    TemplateFactory(workspace=workspace, body="Party: {{ birthdays | map(attribute='name') | join(' & ') }}")
    rendered = render_message(workspace=workspace, reminder_kind="birthday_digest", channel="slack", context=DIGEST)
    assert rendered.body == "Party: Ana & Bo"


@pytest.mark.django_db
def test_override_failing_at_send_time_falls_back_to_the_default(workspace):
    # Saved without validation (as if data changed shape): delivery must not lose the message.
    TemplateFactory(workspace=workspace, body="{{ birthdays[0].name.upper() + 1 }}")
    rendered = render_message(workspace=workspace, reminder_kind="birthday_digest", channel="slack", context=DIGEST)
    assert rendered.body.startswith("🎂 Today:")


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__ }}",
        "{{ workspace.__class__.__init__.__globals__ }}",
        "{{ settings }}",
        "{{ settings.SECRET_KEY }}",
        "{{ config }}{{ request }}{{ self.__init__ }}",
        "{{ lipsum }}{{ cycler }}{{ joiner }}",
    ],
)
def test_sandbox_exposes_nothing_but_the_data(source):
    rendered = render_source(subject="", body=source + "x", channel="slack", context={"workspace": {"name": "A"}})
    assert rendered.body == "x"


def test_sandbox_refuses_mutation_and_huge_ranges():
    errors = template_errors(reminder_kind="one_time", channel="slack", subject="", body="{{ birthdays.append(1) }}")
    assert "unsafe" in errors["body"][0]
    errors = template_errors(reminder_kind="one_time", channel="slack", subject="", body="{{ range(10**6)|length }}")
    assert "range" in errors["body"][0]


def test_model_objects_never_reach_the_template(django_user_model):
    user = django_user_model(email="x@example.com", password="secret-hash")  # unsaved; has attributes galore
    rendered = render_source(subject="", body="{{ user.password }}|{{ user }}", channel="slack", context={"user": user})
    assert "secret-hash" not in rendered.body
    assert rendered.body == "|x@example.com"


def test_output_is_capped_per_channel():
    rendered = render_source(
        subject="", body="{% for i in range(900) %}0123456789{% endfor %}", channel="sms", context={}
    )
    assert len(rendered.body) == 1_600
    assert rendered.body.endswith("…")


def test_syntax_error_names_the_line():
    errors = template_errors(reminder_kind="birthday_digest", channel="slack", subject="", body="ok\n{% if %}")
    assert errors["body"][0].startswith("Line 2:")
    errors = template_errors(reminder_kind="birthday_digest", channel="email", subject="{{ oops", body="fine")
    assert "subject" in errors
    assert "body" not in errors


def test_unknown_kind_and_channel_are_rejected():
    errors = template_errors(reminder_kind="nope", channel="fax", subject="", body="x")
    assert set(errors) == {"reminder_kind", "channel"}


@pytest.mark.django_db
@pytest.mark.parametrize("channel", Channel.values)
def test_personal_greeting_for_a_birthday_and_an_anniversary(workspace, channel):
    birthday = render_message(
        workspace=workspace,
        reminder_kind="personal_greeting",
        channel=channel,
        context={"person": {"name": "Ana Lima", "mention": slack_mention("U01"), "age": 30}},
    )
    anniversary = render_message(
        workspace=workspace,
        reminder_kind="personal_greeting",
        channel=channel,
        context={"person": {"name": "Cy Diaz", "mention": "Cy Diaz", "years": 5}},
    )
    assert "birthday" in (birthday.subject + birthday.body).lower()
    assert "5-year work anniversary" in anniversary.body or "5 years" in anniversary.body
    if channel == "slack":
        assert "<@U01>" in birthday.body


@pytest.mark.parametrize("language", ["en", "de"])
@pytest.mark.parametrize("kind", MessageKind.values)
@pytest.mark.parametrize("channel", Channel.values)
def test_shipped_templates_render_the_same_outside_the_sandbox(kind, channel, language):
    """The shipped templates render without the sandbox (they are the project's own code); every
    variant gives the text the sandbox gives, so nothing in them relies on what it refuses."""
    from notifications.rendering import default_variants, sample_context

    context = sample_context(workspace_name="Ana & <Bo>", reminder_kind=kind)
    for subject, body in default_variants(reminder_kind=kind, channel=channel):
        sandboxed = render_source(subject=subject, body=body, channel=channel, context=context, language=language)
        trusted = render_source(
            subject=subject, body=body, channel=channel, context=context, language=language, trusted=True
        )
        assert trusted == sandboxed
        assert trusted.body


def test_trusted_rendering_still_cuts_at_the_channels_length():
    huge = {"message": "x" * 5_000}
    rendered = render_source(subject="", body="{{ message }}", channel="sms", context=huge, trusted=True)
    sandboxed = render_source(subject="", body="{{ message }}", channel="sms", context=huge)
    assert rendered.body == sandboxed.body
    assert len(rendered.body) < 5_000
    assert rendered.body.endswith("…")


@pytest.mark.django_db
def test_a_workspace_template_never_renders_outside_the_sandbox(workspace):
    TemplateFactory(workspace=workspace, reminder_kind="personal_greeting", channel="email", body="{{ 'x' * 1000000 }}")
    rendered = render_message(
        workspace=workspace,
        reminder_kind="personal_greeting",
        channel="email",
        context={"person": {"name": "Ana"}},
    )
    assert rendered.failure.startswith("template_limit_exceeded: body")
