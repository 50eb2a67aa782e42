"""A calendar feed works only while its owner keeps the rights it needs."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from events.models import CalendarFeed
from tests.events.test_calendar_feeds import create_feed, fetch
from workspaces.models import Membership, Role

pytestmark = pytest.mark.django_db


def members_url(office) -> str:
    return f"/api/v1/workspaces/{office.workspace.id}/members/"


def membership(office, user) -> Membership:
    return Membership.objects.get(workspace=office.workspace, user=user)


def test_a_removed_admins_workspace_feed_stops_at_once(office):
    """
    GIVEN an admin who created the workspace feed (every event's notes, every birthday)
    WHEN an owner removes them from the workspace
    THEN the feed answers 404, and stays revoked
    """
    _, token = create_feed(office.admin_client, office, scope="workspace")
    assert fetch(APIClient(), token).status_code == 200
    response = office.owner_client.delete(f"{members_url(office)}{membership(office, office.admin).pk}/")
    assert response.status_code == 204, response.content
    assert fetch(APIClient(), token).status_code == 404
    assert CalendarFeed.objects.get().revoked_at is not None


def test_a_demoted_admins_workspace_feed_stops_and_does_not_come_back(office):
    _, token = create_feed(office.admin_client, office, scope="workspace")
    url = f"{members_url(office)}{membership(office, office.admin).pk}/"
    assert office.owner_client.patch(url, {"role": "member"}, format="json").status_code == 200
    assert fetch(APIClient(), token).status_code == 404
    assert office.owner_client.patch(url, {"role": "admin"}, format="json").status_code == 200
    assert fetch(APIClient(), token).status_code == 404  # a URL that leaked meanwhile stays dead


def test_a_member_who_leaves_loses_their_feed(office):
    _, token = create_feed(office.member_client, office, scope="member")
    assert fetch(APIClient(), token).status_code == 200
    response = office.member_client.delete(f"{members_url(office)}{membership(office, office.member).pk}/")
    assert response.status_code == 204, response.content
    assert fetch(APIClient(), token).status_code == 404


def test_rights_lost_any_other_way_are_checked_on_every_read(office):
    _, workspace_token = create_feed(office.admin_client, office, scope="workspace")
    _, member_token = create_feed(office.member_client, office, scope="member")
    # Written without signals (a bulk change, a database fix): the read itself still checks.
    Membership.objects.filter(workspace=office.workspace, user=office.admin).update(role=Role.MEMBER)
    assert fetch(APIClient(), workspace_token).status_code == 404
    User.objects.filter(pk=office.member.pk).update(is_active=False)
    assert fetch(APIClient(), member_token).status_code == 404


def test_other_feeds_keep_working(office):
    _, owner_token = create_feed(office.owner_client, office, scope="workspace")
    _, admin_token = create_feed(office.admin_client, office, scope="workspace")
    url = f"{members_url(office)}{membership(office, office.admin).pk}/"
    assert office.owner_client.patch(url, {"role": "member"}, format="json").status_code == 200
    assert fetch(APIClient(), admin_token).status_code == 404
    assert fetch(APIClient(), owner_token).status_code == 200
