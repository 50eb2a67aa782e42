"""English and German: pages and emails follow the person's language, else the workspace's locale; every
string of the shipped page and email templates is marked for translation and translated into German."""

import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail

from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from tests.pages.conftest import BROWSER_ACCEPT
from workspaces import invitations
from workspaces.models import Role

BASE = Path(settings.BASE_DIR)
TEMPLATES = sorted(
    [
        *BASE.glob("pages/templates/pages/*.html"),
        *BASE.glob("templates/email/*.html"),
        *BASE.glob("templates/accounts/email/*"),
        *BASE.glob("templates/notifications/email/*"),
        *BASE.glob("workspaces/templates/workspaces/email/*"),
    ]
)
# The shipped message templates (Jinja, with Django's translation tags: notifications/translation.py).
# Variants 2, 3, … of a kind sit in numbered folders: templates/messages/<kind>/<n>/<channel>.txt.
MESSAGE_TEMPLATES = sorted([*BASE.glob("templates/messages/*/*.txt"), *BASE.glob("templates/messages/*/*/*.txt")])


def message_kind(path: Path) -> str:
    return path.relative_to(BASE / "templates/messages").parts[0]


# Names, not words to translate.
ALLOWED = {"BirthdayBuddy", "UTC"}
PO = BASE / "locale/de/LC_MESSAGES/django.po"
MO = BASE / "locale/de/LC_MESSAGES/django.mo"


def unmarked_text(source: str) -> list[str]:
    """Words a reader would see that no ``translate``/``blocktranslate`` tag covers."""
    visible_attributes = re.findall(r"""\b(?:title|alt|placeholder|aria-label)="([^"{]*)\"""", source)
    text = re.sub(r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}", " ", source, flags=re.S)
    text = re.sub(r"{#.*?#}", " ", text, flags=re.S)
    text = re.sub(r"{%.*?%}|{{.*?}}", " ", text, flags=re.S)
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S | re.I)
    text = re.sub(r"<[^>]*>|&[a-z#0-9]+;", " ", text)
    words = re.findall(r"[^\W\d_]{2,}", " ".join([text, *visible_attributes]))
    return [word for word in words if word not in ALLOWED]


def test_the_check_finds_an_unmarked_string():
    assert unmarked_text('<p>{% translate "Marked" %}</p><p>Not marked</p>') == ["Not", "marked"]
    assert unmarked_text('<a title="Open it" href="{{ url }}">{{ label }}</a>') == ["Open", "it"]
    assert unmarked_text("{% blocktranslate %}Hello {{ name }}{% endblocktranslate %} — BirthdayBuddy") == []


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: str(path.relative_to(BASE)))
def test_every_string_of_the_shipped_templates_is_marked_for_translation(path):
    assert unmarked_text(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", MESSAGE_TEMPLATES, ids=lambda path: str(path.relative_to(BASE)))
def test_every_string_of_the_shipped_message_templates_is_marked_for_translation(path):
    # "Subject:" is the file format's marker of the email subject, not text of the message.
    source = path.read_text(encoding="utf-8").removeprefix("Subject:")
    assert unmarked_text(source) == []


def test_the_message_check_finds_an_unmarked_string():
    assert unmarked_text("{% if x %}🎂 Today: {{ names }}{% endif %}") == ["Today"]
    assert unmarked_text('🎂 {% translate "Today:" %} {{ names | join(", ") }}') == []


@pytest.mark.parametrize("path", MESSAGE_TEMPLATES, ids=lambda path: str(path.relative_to(BASE)))
def test_every_message_template_renders_in_german_with_no_english_left(path):
    """Rendered with the sample data in German: none of the English text of the template is left."""
    from notifications.rendering import render_source, sample_context, split_subject

    subject, body = split_subject(path.read_text(encoding="utf-8"))
    context = sample_context(workspace_name="Lima", reminder_kind=message_kind(path))
    english = render_source(subject=subject, body=body, channel=path.stem, context=context, language="en")
    german = render_source(subject=subject, body=body, channel=path.stem, context=context, language="de")
    words = {"Hello", "Today", "invites", "Reminder", "changed", "cancelled", "Happy", "birthday", "years", "When"}
    for english_text, german_text in ((english.body, german.body), (english.subject, german.subject)):
        left = {word for word in words if re.search(rf"\b{word}\b", english_text) and word in german_text}
        assert left == set(), german_text


def test_the_german_catalogue_is_complete_and_compiled(tmp_path):
    text = PO.read_text(encoding="utf-8")
    assert "#, fuzzy" not in text
    entries = re.split(r"\n\n", text)[1:]
    # An empty msgstr not continued on the next line ('msgstr ""' then '"…"' is a wrapped one).
    untranslated = [entry for entry in entries if re.search(r'msgstr(\[\d\])? ""$(?!\n")', entry, flags=re.M)]
    assert untranslated == []
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(PO)], check=True)
    assert compiled.read_bytes() == MO.read_bytes(), "run msgfmt again: django.mo is older than django.po"


@pytest.mark.django_db
def test_the_rsvp_page_speaks_the_workspaces_locale_and_the_persons_own_language(browser, invited):
    invited.event.workspace.locale = "de-AT"
    invited.event.workspace.save()

    response = browser.get(invited.url)
    html = response.content.decode()
    assert response["Content-Language"] == "de"
    assert '<html lang="de">' in html
    assert "Mittwoch, 3. Juli 2030 · 18:00 \N{EN DASH} 22:00" in html
    assert "Ich komme" in html
    assert "Zeit in Europe/Berlin" in html

    invited.attendee.person.language = "en"
    invited.attendee.person.save()
    html = browser.get(invited.url).content.decode()
    assert '<html lang="en">' in html
    assert "Going" in html


@pytest.mark.django_db
def test_a_page_without_a_workspace_follows_the_browser(client, db):
    german = client.get("/account/forgot", HTTP_ACCEPT=BROWSER_ACCEPT, HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    assert "Passwort vergessen?" in german.content.decode()
    english = client.get("/account/forgot", HTTP_ACCEPT=BROWSER_ACCEPT, HTTP_ACCEPT_LANGUAGE="fr-FR")
    assert "Forgot your password?" in english.content.decode()


@pytest.mark.django_db
def test_an_invitation_to_a_german_workspace_is_written_in_german(django_capture_on_commit_callbacks):
    workspace = WorkspaceFactory(name="Lima & Co", locale="de")
    owner = UserFactory(first_name="Olga", last_name="Owner")
    MembershipFactory(workspace=workspace, user=owner, role=Role.OWNER)
    with django_capture_on_commit_callbacks(execute=True):
        invitations.invitation_create(workspace=workspace, email="ina@example.com", role="member", invited_by=owner)

    (message,) = mail.outbox
    assert message.subject == "Olga Owner hat Sie zu Lima & Co auf BirthdayBuddy eingeladen"
    assert "als Mitglied" in message.body
    html = (
        message.alternatives[0][0]
        if hasattr(message.alternatives[0], "__getitem__")
        else message.alternatives[0].content
    )
    assert "Einladung annehmen" in html
    assert '<html lang="de">' in html
