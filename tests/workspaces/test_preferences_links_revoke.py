"""Revoking a person's preferences links, from the API (workspace owner/admin) and the admin (staff):
every earlier link opens the "this link does not work" page, new messages carry a new working link,
and each revocation is in the audit trail."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.test import Client
from django.utils import timezone

from notifications.models import Notification
from reminders import services as reminder_services
from scheduling.services import reminder_send_now
from tests.conftest import client_for
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from tests.pages.conftest import BROWSER_ACCEPT
from workspaces.models import Person, Role
from workspaces.preferences import REVOKE_OPERATION, preferences_url

pytestmark = pytest.mark.django_db
BASE = "https://buddy.example.test"


@pytest.fixture
def carla(settings) -> Person:
    settings.PUBLIC_BASE_URL = BASE
    return PersonFactory(workspace=WorkspaceFactory(name="Tax & Co"), name="Carla Client", email="carla@example.com")


def _url(carla: Person) -> str:
    return f"/api/v1/workspaces/{carla.workspace_id}/people/{carla.pk}/revoke-preferences-links/"


def _page(link: str):
    return Client(HTTP_ACCEPT=BROWSER_ACCEPT).get(link.removeprefix(BASE))


def _revocations(carla: Person) -> list[LogEntry]:
    return list(
        LogEntry.objects.filter(object_pk=str(carla.pk), additional_data__operation=REVOKE_OPERATION).order_by("pk")
    )


def _message_link(carla: Person) -> str:
    """The preferences link of a message written to Carla now (a one-time reminder sent by hand)."""
    reminder = reminder_services.reminder_create(
        workspace=carla.workspace,
        data={
            "kind": "one_time",
            "name": "Documents due",
            "run_at": timezone.now() + timedelta(days=2),
            "recipients": [carla.pk],
            "channels": ["email"],
            "message": "Please send your documents.",
        },
    )
    before = set(Notification.objects.filter(person=carla).values_list("pk", flat=True))
    reminder_send_now(reminder=reminder)
    notification = Notification.objects.filter(person=carla).exclude(pk__in=before).get()
    assert notification.preferences_url in notification.body
    return notification.preferences_url


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_a_workspace_admin_revokes_the_links_and_new_messages_carry_a_new_one(carla, role):
    admin = UserFactory()
    MembershipFactory(workspace=carla.workspace, user=admin, role=role)
    old = _message_link(carla)
    assert _page(old).status_code == 200

    response = client_for(admin).post(_url(carla))

    assert response.status_code == 204, response.content
    page = _page(old)
    assert page.status_code == 404
    assert "This link does not work" in page.content.decode()
    new = _message_link(carla)
    assert new != old
    assert _page(new).status_code == 200
    [entry] = _revocations(carla)
    assert entry.actor == admin
    assert entry.additional_data["workspace_id"] == str(carla.workspace_id)


def test_a_plain_member_may_not_revoke(carla):
    member = UserFactory()
    MembershipFactory(workspace=carla.workspace, user=member, role=Role.MEMBER)
    link = preferences_url(carla)

    response = client_for(member).post(_url(carla))

    assert response.status_code == 403
    assert _page(link).status_code == 200
    assert _revocations(carla) == []


def test_another_workspaces_admin_gets_404_and_nothing_changes(carla):
    outsider = UserFactory()
    MembershipFactory(workspace=WorkspaceFactory(), user=outsider, role=Role.OWNER)
    link = preferences_url(carla)

    assert client_for(outsider).post(_url(carla)).status_code == 404
    assert _page(link).status_code == 200
    assert _revocations(carla) == []


@pytest.fixture
def staff_browser(db) -> Client:
    client = Client()
    client.force_login(UserFactory(email="support@example.com", is_staff=True, is_superuser=True))
    return client


def test_the_admin_action_confirms_for_several_people_then_revokes_each(carla, staff_browser):
    bo = PersonFactory(workspace=carla.workspace, name="Bo Client", email="bo@example.com")
    links = {person.pk: preferences_url(person) for person in (carla, bo)}
    post = {"action": "revoke_preferences_links", "_selected_action": [str(carla.pk), str(bo.pk)]}

    confirm = staff_browser.post("/admin/workspaces/person/", post)
    assert confirm.status_code == 200
    assert "Revoke preferences links" in confirm.content.decode()
    assert all(_page(link).status_code == 200 for link in links.values()), "the confirmation page changes nothing"

    done = staff_browser.post("/admin/workspaces/person/", {**post, "confirmed": "yes"}, follow=True)

    text = done.content.decode()
    assert "Carla Client (Tax &amp; Co): earlier preferences links revoked." in text
    assert "Bo Client (Tax &amp; Co): earlier preferences links revoked." in text
    assert all(_page(link).status_code == 404 for link in links.values())
    [entry] = _revocations(carla)
    assert entry.additional_data["details"]["origin"] == "admin"
    assert _page(preferences_url(Person.objects.get(pk=carla.pk))).status_code == 200
