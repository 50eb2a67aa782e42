"""Appointment confirmations use the variant their idempotency key chooses among the workspace's
variants (``notifications.variants.choose``): different recipients get different variants, and
writing a confirmation again gives exactly the same text."""

import pytest
from django.utils import timezone

from notifications.models import Notification, Template
from notifications.variants import choose
from reminders.appointments import appointment_messages_after_create
from reminders.models import Reminder
from tests.conftest import client_for
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from tests.notifications.factories import TemplateFactory
from tests.reminders.test_appointments import NEXT_YEAR, START_LOCAL, _messages
from workspaces.models import Role

pytestmark = pytest.mark.django_db

LABELS = ("first", "second", "third")


@pytest.fixture
def workspace():
    return WorkspaceFactory(name="Tax & Co", timezone="Europe/Berlin", locale="en")


@pytest.fixture
def variants(workspace):
    """The workspace's three email variants of the appointment message, in the renderer's order (creation)."""
    for label in LABELS:
        TemplateFactory(
            workspace=workspace,
            reminder_kind="appointment",
            channel="email",
            label=label,
            subject=f"[{label}] {{{{ appointment.title }}}}",
            body=f"Variant {label} for {{{{ person.name }}}}: {{{{ change }}}}.",
        )
    return list(Template.objects.filter(workspace=workspace).order_by("created_at", "id"))


def test_each_confirmation_is_its_keys_variant_and_writing_it_again_gives_the_same_text(
    workspace, variants, django_capture_on_commit_callbacks
):
    """GIVEN twelve clients and three variants of the appointment message, WHEN the appointment is
    booked, THEN each confirmation is the variant its key chooses; AND written again (the write retried
    after the rows were lost), every confirmation has exactly the same subject and body."""
    owner = UserFactory()
    MembershipFactory(workspace=workspace, user=owner, role=Role.OWNER)
    clients = [
        PersonFactory(workspace=workspace, name=f"Client {n:02}", email=f"client{n}@example.com", phone="")
        for n in range(12)
    ]
    body = {
        "kind": "one_time",
        "name": "Annual review",
        "at": f"{NEXT_YEAR}-03-09T09:00",
        "recipients": [str(person.pk) for person in clients],
        "channels": ["email"],
        "template": "Tomorrow: your annual review.",
        "appointment": {"starts_at": START_LOCAL, "duration_minutes": 45},
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(owner).post(f"/api/v1/workspaces/{workspace.pk}/reminders/", body, format="json")
    assert response.status_code == 201, response.content

    sent = _messages(response.json()["id"], "0")
    assert len(sent) == 12
    for name, row in sent.items():
        chosen = choose(variants, row.idempotency_key)
        assert row.subject == f"[{chosen.label}] Annual review"
        assert row.body.startswith(f"Variant {chosen.label} for {name}: confirmed.")
    # Twelve keys all on one variant of three: (1/3)^11.
    assert len({row.subject for row in sent.values()}) > 1

    written = {row.idempotency_key: (row.subject, row.body) for row in sent.values()}
    Notification.objects.filter(idempotency_key__in=written).delete()
    reminder = Reminder.objects.select_related("workspace").get(pk=response.json()["id"])
    with django_capture_on_commit_callbacks(execute=True):
        appointment_messages_after_create(reminder=reminder, now=timezone.now())
    again = {row.idempotency_key: (row.subject, row.body) for row in _messages(reminder.pk, "0").values()}
    assert again == written
