"""``manage.py seed_demo``: the demo workspace, idempotently."""

from datetime import datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from tests.factories import UserFactory
from workspaces.models import Membership, Person, Role, Workspace

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(settings):
    settings.ADMIN_EMAIL = ""
    return UserFactory(email="boss@example.com", is_staff=True, is_superuser=True)


def _seed(**options) -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out, **options)
    return out.getvalue()


def test_seeds_the_demo_workspace_owned_by_the_admin(admin_user):
    output = _seed()

    workspace = Workspace.objects.get(slug="demo")
    assert workspace.name == "Demo Team"
    assert workspace.timezone == "Europe/Berlin"
    assert Membership.objects.get(workspace=workspace, user=admin_user).role == Role.OWNER
    demo_people = Person.objects.for_workspace(workspace).exclude(user=admin_user)
    assert demo_people.count() == 8
    assert "created" in output
    assert "8 demo people added" in output


def test_birthdays_cover_today_in_the_workspace_zone_feb_29_and_the_year(admin_user):
    _seed()
    people = Person.objects.filter(workspace__slug="demo").exclude(user=admin_user)
    today = datetime.now(tz=ZoneInfo("Europe/Berlin")).date()

    assert people.filter(birth_month=today.month, birth_day=today.day).exists()
    assert people.filter(birth_month=2, birth_day=29).exists()
    assert len({person.birth_month for person in people}) >= 7
    assert people.filter(joined_on__isnull=False).count() >= 3
    for person in people:
        person.full_clean()  # every seeded row passes the model's own validation


def test_running_again_changes_nothing(admin_user):
    _seed()
    before = sorted(Person.objects.values_list("id", "name", "updated_at"))

    output = _seed()

    assert Workspace.objects.filter(slug="demo").count() == 1
    assert Membership.objects.filter(workspace__slug="demo").count() == 1
    assert sorted(Person.objects.values_list("id", "name", "updated_at")) == before
    assert "already there; 0 demo people added" in output


def test_a_deleted_demo_person_is_restored(admin_user):
    _seed()
    Person.objects.get(email="jonas.weber@example.com").delete()

    assert "1 demo person added" in _seed()
    assert Person.objects.filter(email="jonas.weber@example.com").count() == 1


def test_owner_can_be_chosen(admin_user):
    other = UserFactory(email="other-owner@example.com")
    _seed(owner="Other-Owner@example.com")
    workspace = Workspace.objects.get(slug="demo")
    assert Membership.objects.get(workspace=workspace, role=Role.OWNER).user == other


def test_without_a_superuser_it_says_what_to_do(settings):
    settings.ADMIN_EMAIL = ""
    with pytest.raises(CommandError, match="bootstrap_admin"):
        _seed()
    assert not Workspace.objects.exists()


def test_unknown_owner_is_an_error(admin_user):
    with pytest.raises(CommandError, match=r"nobody@example\.com"):
        _seed(owner="nobody@example.com")
