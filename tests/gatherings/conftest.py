"""A gathering of the Lima & Co workspace: an owner, a member who hosts, four guests."""

from dataclasses import dataclass

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from events.models import Attendee, Event
from tests.conftest import client_for
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from tests.gatherings.factories import GatheringFactory
from workspaces.models import Person, Role, Workspace


@dataclass
class Party:
    workspace: Workspace
    owner: User
    host: User
    other_member: User
    event: Event
    host_person: Person
    ana: Person
    bo: Person
    cy: Person
    outsider: Person  # of the workspace, not invited
    owner_client: APIClient
    host_client: APIClient
    other_client: APIClient

    @property
    def api(self) -> str:
        return f"/api/v1/workspaces/{self.workspace.id}"

    @property
    def costs_url(self) -> str:
        return f"{self.api}/events/{self.event.id}/costs"


@pytest.fixture
def party(db) -> Party:
    workspace = WorkspaceFactory(name="Lima & Co", slug="lima-co", timezone="Europe/Berlin")
    owner, host, other = UserFactory(), UserFactory(), UserFactory()
    MembershipFactory(workspace=workspace, user=owner, role=Role.OWNER)
    MembershipFactory(workspace=workspace, user=host, role=Role.MEMBER)
    MembershipFactory(workspace=workspace, user=other, role=Role.MEMBER)
    event = GatheringFactory(workspace=workspace, title="Summer party", host=host)
    host_person = PersonFactory(workspace=workspace, name="Hana Host", user=host)
    guests = [PersonFactory(workspace=workspace, name=name) for name in ("Ana Lima", "Bo Berg", "Cy Chen")]
    for guest in guests:
        Attendee.objects.create(event=event, person=guest)
    return Party(
        workspace=workspace,
        owner=owner,
        host=host,
        other_member=other,
        event=event,
        host_person=host_person,
        ana=guests[0],
        bo=guests[1],
        cy=guests[2],
        outsider=PersonFactory(workspace=workspace, name="Olga Outside"),
        owner_client=client_for(owner),
        host_client=client_for(host),
        other_client=client_for(other),
    )
