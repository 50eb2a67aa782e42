"""Members' Persons synced from their profiles: the service, ``manage.py sync_birthdays``, the
profile-change trigger, the staff API and the admin action."""

from datetime import date
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests.conftest import client_for
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from tests.workspaces.helpers import assert_error, unchanged
from workspaces.models import Person, Role
from workspaces.sync import person_sync_for_user, person_sync_from_members

pytestmark = pytest.mark.django_db

SYNC_URL = "/api/v1/admin/sync-birthdays"


def add_member(workspace, **profile):
    user = UserFactory(**profile)
    MembershipFactory(workspace=workspace, user=user, role=Role.MEMBER)
    return user


@pytest.fixture
def team():
    """A workspace whose members need each kind of treatment.

    - ``new``: no Person yet (created);
    - ``stale``: a linked Person with an old name and no phone (updated);
    - ``same``: a linked Person matching the profile (unchanged);
    - ``client``: an unlinked Person with the member's email, added as a client (linked);
    - ``blank``: a profile without phone or birthday, a Person with both (unchanged: empty never clears).
    """
    workspace = WorkspaceFactory(slug="team", name="Team")
    new = add_member(
        workspace, first_name="Nina", last_name="New", date_of_birth=date(1990, 3, 4), phone="+14155550101"
    )
    stale = add_member(
        workspace, first_name="Stan", last_name="Stale", date_of_birth=date(1985, 7, 8), slack_user_id="U0STAN"
    )
    PersonFactory(workspace=workspace, user=stale, name="Old Name", email=stale.email, birth_month=1, birth_day=1)
    same = add_member(workspace, first_name="Sam", last_name="Same", date_of_birth=date(1992, 2, 29))
    PersonFactory(
        workspace=workspace,
        user=same,
        name="Sam Same",
        email=same.email,
        birth_month=2,
        birth_day=29,
        birth_year=1992,
    )
    client = add_member(workspace, first_name="Cleo", last_name="Client", email="cleo@example.com")
    PersonFactory(workspace=workspace, name="Cleo (client)", email="CLEO@example.com", birth_month=9, birth_day=9)
    blank = add_member(workspace, first_name="Bea", last_name="Blank")
    PersonFactory(
        workspace=workspace,
        user=blank,
        name="Bea Blank",
        email=blank.email,
        phone="+14155550199",
        birth_month=4,
        birth_day=5,
    )
    return {"workspace": workspace, "new": new, "stale": stale, "same": same, "client": client, "blank": blank}


def person_of(workspace, user) -> Person:
    return Person.objects.get(workspace=workspace, user=user)


# --- the service --------------------------------------------------------------------------


def test_sync_creates_updates_links_and_leaves_the_rest(team):
    workspace = team["workspace"]

    report = person_sync_from_members(workspace=workspace)

    ws = report.workspaces[0]
    assert report.totals == {"workspaces": 1, "created": 1, "updated": 2, "unchanged": 2, "errors": 0}
    assert [change.name for change in ws.created] == ["Nina New"]
    assert {change.name: change.fields for change in ws.updated} == {
        "Stan Stale": ["name", "slack_user_id", "birth_month", "birth_day", "birth_year"],
        "Cleo Client": ["user", "name", "email"],
    }

    nina = person_of(workspace, team["new"])
    assert (nina.name, nina.email, nina.phone, nina.birth_month, nina.birth_day, nina.birth_year, nina.show_age) == (
        "Nina New",
        team["new"].email,
        "+14155550101",
        3,
        4,
        1990,
        False,
    )
    stan = person_of(workspace, team["stale"])
    assert (stan.name, stan.slack_user_id, stan.birth_month, stan.birth_day, stan.birth_year) == (
        "Stan Stale",
        "U0STAN",
        7,
        8,
        1985,
    )
    cleo = person_of(workspace, team["client"])
    assert (cleo.name, cleo.email, cleo.birth_month) == ("Cleo Client", "cleo@example.com", 9)
    assert Person.objects.filter(workspace=workspace).count() == 5  # no duplicate for Cleo
    bea = person_of(workspace, team["blank"])
    assert (bea.phone, bea.birth_month, bea.birth_day) == ("+14155550199", 4, 5)  # empty profile never clears


def test_sync_twice_changes_nothing_the_second_time(team):
    person_sync_from_members(workspace=team["workspace"])
    with unchanged():
        report = person_sync_from_members(workspace=team["workspace"])
    assert report.totals == {"workspaces": 1, "created": 0, "updated": 0, "unchanged": 5, "errors": 0}


def test_dry_run_writes_nothing_and_reports_the_same(team):
    with unchanged():
        dry = person_sync_from_members(workspace=team["workspace"], dry_run=True)
    real = person_sync_from_members(workspace=team["workspace"])
    assert dry.totals == real.totals
    assert dry.as_dict()["workspaces"][0]["created"][0]["person"] is None


def test_backfill_only_creates_missing_and_leaves_existing_rows(team):
    workspace = team["workspace"]
    stale_before = person_of(workspace, team["stale"])

    report = person_sync_from_members(workspace=workspace, backfill_only=True)

    assert report.totals == {"workspaces": 1, "created": 1, "updated": 1, "unchanged": 3, "errors": 0}
    assert {change.name: change.fields for change in report.workspaces[0].updated} == {"Cleo (client)": ["user"]}
    stale_after = person_of(workspace, team["stale"])
    assert (stale_after.name, stale_after.birth_month, stale_after.updated_at) == (
        "Old Name",
        1,
        stale_before.updated_at,
    )
    assert person_of(workspace, team["client"]).name == "Cleo (client)"
    assert person_of(workspace, team["new"]).name == "Nina New"


def test_all_workspaces_by_default(team):
    other = WorkspaceFactory(slug="other")
    oli = add_member(other, first_name="Oli", last_name="Other")
    report = person_sync_from_members()
    assert {ws.slug for ws in report.workspaces} >= {"team", "other"}
    assert person_of(other, oli).name == "Oli Other"
    assert Person.objects.filter(workspace=team["workspace"], user=team["new"]).exists()


def test_a_name_less_profile_creates_a_person_named_by_email_and_keeps_an_existing_name():
    workspace = WorkspaceFactory()
    nameless = add_member(workspace, first_name="", last_name="")
    person_sync_from_members(workspace=workspace)
    person = person_of(workspace, nameless)
    assert person.name == nameless.email

    person.name = "Named By Admin"
    person.save()
    person_sync_from_members(workspace=workspace)
    assert person_of(workspace, nameless).name == "Named By Admin"


def test_a_birthday_the_model_rejects_is_reported_and_skipped():
    from datetime import timedelta

    from django.utils import timezone

    workspace = WorkspaceFactory()
    # Accounts accept a date of birth up to "today" in UTC+14, which can be tomorrow by the server's date.
    future = add_member(workspace, first_name="Tom", date_of_birth=timezone.localdate() + timedelta(days=1))

    report = person_sync_from_members(workspace=workspace)

    assert report.totals["created"] == 1
    assert report.totals["errors"] == 1
    assert "date_of_birth" in report.workspaces[0].errors[0]["error"]
    assert person_of(workspace, future).birth_month is None


def test_sync_invalidates_the_cached_birthdays(team):
    from workspaces import cache as bb_cache

    before = bb_cache.birthdays_version(team["workspace"].pk)
    person_sync_from_members(workspace=team["workspace"])
    assert bb_cache.birthdays_version(team["workspace"].pk) != before


# --- the command --------------------------------------------------------------------------


def run_command(*args) -> str:
    out = StringIO()
    call_command("sync_birthdays", *args, stdout=out)
    return out.getvalue()


def test_command_prints_what_it_created_updated_and_left(team):
    output = run_command("--workspace", "team")

    assert "Team (team): created 1, updated 2, unchanged 2." in output
    assert "+ created Nina New" in output
    assert "~ updated Stan Stale" in output
    assert "Done: 1 workspace(s), created 1, updated 2, unchanged 2, errors 0." in output
    assert Person.objects.filter(workspace=team["workspace"], user=team["new"]).exists()


def test_command_lists_the_unchanged_with_verbosity_2(team):
    output = run_command("--workspace", "team", "-v", "2")
    assert "= unchanged Sam Same" in output
    assert "= unchanged Bea Blank" in output


def test_command_accepts_the_workspace_id(team):
    output = run_command("--workspace", str(team["workspace"].pk))
    assert "Team (team)" in output


def test_command_dry_run_writes_nothing(team):
    with unchanged():
        output = run_command("--workspace", "team", "--dry-run")
    assert "Team (team): would create 1, would update 2, unchanged 2." in output
    assert "Dry run, nothing written" in output


def test_command_backfill_only(team):
    output = run_command("--workspace", "team", "--backfill-only")
    assert "created 1, updated 1, unchanged 3" in output
    assert person_of(team["workspace"], team["stale"]).name == "Old Name"


def test_command_every_workspace(team):
    WorkspaceFactory(slug="empty-one", name="Empty")
    output = run_command()
    assert "Team (team): created 1" in output
    assert "Empty (empty-one): created 0, updated 0, unchanged 0." in output


def test_command_unknown_workspace():
    with pytest.raises(CommandError, match="No workspace"):
        run_command("--workspace", "nope")


# --- the profile-change trigger -------------------------------------------------------------


def test_profile_patch_updates_the_members_persons_in_every_workspace(team):
    stale = team["stale"]
    second = WorkspaceFactory()
    MembershipFactory(workspace=second, user=stale)
    PersonFactory(workspace=second, user=stale, name="Stan S.", email=stale.email, phone="+14155550188")

    response = client_for(stale).patch(
        reverse("users-me"), {"date_of_birth": "1986-12-24", "slack_user_id": "U0NEW"}, format="json"
    )

    assert response.status_code == 200, response.json()
    for workspace in (team["workspace"], second):
        person = person_of(workspace, stale)
        assert (person.birth_month, person.birth_day, person.birth_year, person.slack_user_id) == (
            12,
            24,
            1986,
            "U0NEW",
        )
    # only the fields that changed are copied: the admin's names stay
    assert person_of(team["workspace"], stale).name == "Old Name"
    assert person_of(second, stale).name == "Stan S."
    assert person_of(second, stale).phone == "+14155550188"


def test_profile_patch_does_not_clear_a_persons_field(team):
    blank = team["blank"]
    response = client_for(blank).patch(reverse("users-me"), {"phone": ""}, format="json")
    assert response.status_code == 200, response.json()
    assert person_of(team["workspace"], blank).phone == "+14155550199"


def test_profile_patch_does_not_recreate_a_deleted_person(team):
    """An admin may have deleted a member's Person on purpose; only sync_birthdays brings it back."""
    new = team["new"]
    response = client_for(new).patch(reverse("users-me"), {"first_name": "Nora"}, format="json")
    assert response.status_code == 200
    assert not Person.objects.filter(user=new).exists()


def test_saves_without_profile_fields_do_not_sync(team, django_assert_num_queries):
    stale = team["stale"]
    with django_assert_num_queries(1):
        stale.save(update_fields=["last_login"])
    assert person_of(team["workspace"], stale).name == "Old Name"


def test_person_sync_for_user_reports_changes(team):
    stale = team["stale"]
    stale.first_name = "Stanley"
    changes = person_sync_for_user(user=stale, changed_fields={"first_name"})
    assert [(change.name, change.fields) for change in changes] == [("Stanley Stale", ["name"])]
    assert person_sync_for_user(user=stale, changed_fields={"timezone"}) == []


# --- the staff API ------------------------------------------------------------------------


def test_staff_sync_api_reports_json(staff_client, team):
    response = staff_client.post(SYNC_URL, {"workspace": str(team["workspace"].pk)}, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["dry_run"] is False
    assert body["backfill_only"] is False
    assert body["totals"] == {"workspaces": 1, "created": 1, "updated": 2, "unchanged": 2, "errors": 0}
    ws = body["workspaces"][0]
    assert (ws["id"], ws["slug"], ws["name"]) == (str(team["workspace"].pk), "team", "Team")
    created = ws["created"][0]
    assert created["name"] == "Nina New"
    assert created["person"] == str(person_of(team["workspace"], team["new"]).pk)
    assert created["user"] == str(team["new"].pk)


def test_staff_sync_api_dry_run_and_backfill(staff_client, team):
    with unchanged():
        dry = staff_client.post(SYNC_URL, {"dry_run": True}, format="json")
    assert dry.status_code == 200
    assert dry.json()["dry_run"] is True
    assert dry.json()["totals"]["created"] >= 1

    backfill = staff_client.post(SYNC_URL, {"backfill_only": True, "workspace": str(team["workspace"].pk)})
    assert backfill.json()["totals"] == {"workspaces": 1, "created": 1, "updated": 1, "unchanged": 3, "errors": 0}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"workspace": "00000000-0000-0000-0000-000000000000"}, "workspace"),
        ({"workspace": "not-a-uuid"}, "workspace"),
        ({"dry_run": "perhaps"}, "dry_run"),
    ],
)
def test_staff_sync_api_rejects_bad_input(staff_client, team, payload, field):
    with unchanged():
        response = staff_client.post(SYNC_URL, payload, format="json")
    assert_error(response, 400, field=field)


def test_sync_api_is_staff_only(api_client, team):
    owner = UserFactory()
    MembershipFactory(workspace=team["workspace"], user=owner, role=Role.OWNER)
    with unchanged():
        assert_error(client_for(owner).post(SYNC_URL, {}, format="json"), 403)
        assert_error(api_client.post(SYNC_URL, {}, format="json"), 401)


# --- the admin action ---------------------------------------------------------------------


def test_admin_action_syncs_the_selected_workspaces(client, staff_user, team):
    client.force_login(staff_user)
    other = WorkspaceFactory(slug="untouched")
    lonely = add_member(other, first_name="Lone")

    response = client.post(
        reverse("admin:workspaces_workspace_changelist"),
        {"action": "sync_birthdays", "_selected_action": [str(team["workspace"].pk)]},
        follow=True,
    )

    assert response.status_code == 200
    text = response.content.decode()
    assert "Team: created 1, updated 2, unchanged 2." in text
    assert Person.objects.filter(workspace=team["workspace"], user=team["new"]).exists()
    assert not Person.objects.filter(user=lonely).exists()
