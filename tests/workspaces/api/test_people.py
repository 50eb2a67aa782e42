import uuid
from datetime import date

import pytest
import time_machine
from django.urls import reverse

from tests.conftest import client_for
from tests.factories import MembershipFactory, PersonFactory
from tests.workspaces.helpers import assert_error, unchanged
from workspaces.models import Person, Role

PERSON_KEYS = {
    "id",
    "name",
    "email",
    "phone",
    "slack_user_id",
    "birth_month",
    "birth_day",
    "birth_year",
    "joined_on",
    "show_age",
    "celebrate_birthday",
    "celebrate_anniversary",
    "language",
    "user",
    "preferred_channels",
    "opted_out_channels",
    "created_at",
    "updated_at",
}


def people_url(workspace) -> str:
    return reverse("workspace-person-list", kwargs={"workspace_id": workspace.id})


def person_url(workspace, person_id) -> str:
    return reverse("workspace-person-detail", kwargs={"workspace_id": workspace.id, "pk": person_id})


def names(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["name"] for row in response.json()["results"]]


# --- create -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_adds_a_person(admin_client, workspace):
    payload = {
        "name": "Client Carla",
        "email": "carla@example.com",
        "phone": "+1 (415) 555-0100",
        "slack_user_id": "U012ABCDEF",
        "birth_month": 2,
        "birth_day": 29,
        "birth_year": 1988,
        "joined_on": "2020-03-01",
        "show_age": True,
        "preferred_channels": ["email", "sms"],
        "opted_out_channels": ["whatsapp"],
    }

    response = admin_client.post(people_url(workspace), payload, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == PERSON_KEYS
    assert body["phone"] == "+14155550100"
    assert body["user"] is None
    assert {k: body[k] for k in payload if k != "phone"} == {k: v for k, v in payload.items() if k != "phone"}
    person = Person.objects.get(pk=body["id"])
    assert person.workspace == workspace
    assert person.phone == "+14155550100"
    assert person.joined_on == date(2020, 3, 1)


@pytest.mark.django_db
def test_minimal_person(owner_client, workspace):
    response = owner_client.post(people_url(workspace), {"name": "Just A Name"}, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["birth_month"] is None
    assert body["birth_year"] is None
    assert body["preferred_channels"] == []
    assert body["show_age"] is False


@pytest.mark.django_db
def test_feb_29_without_a_year_is_fine(owner_client, workspace):
    response = owner_client.post(
        people_url(workspace), {"name": "Leap", "birth_month": 2, "birth_day": 29}, format="json"
    )
    assert response.status_code == 201, response.json()


@pytest.mark.django_db
def test_member_cannot_add_people(member_client, workspace):
    with unchanged():
        response = member_client.post(people_url(workspace), {"name": "Sneaky"}, format="json")
    assert_error(response, 403, "role_required")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field", "code"),
    [
        ({}, "name", "required"),
        ({"name": ""}, "name", "blank"),
        ({"name": 42}, "name", "invalid"),
        ({"name": "x" * 201}, "name", "max_length"),
        ({"name": "P", "email": "not-an-email"}, "email", "invalid"),
        ({"name": "P", "email": None}, "email", "null"),
        ({"name": "P", "phone": "0171 1234567"}, "phone", "invalid_phone"),
        ({"name": "P", "phone": "+1 555"}, "phone", "invalid_phone"),
        ({"name": "P", "phone": "call me"}, "phone", "invalid_phone"),
        ({"name": "P", "phone": 4155550100}, "phone", "invalid"),
        ({"name": "P", "slack_user_id": "@grace"}, "slack_user_id", "invalid_slack_user_id"),
        ({"name": "P", "birth_month": 2, "birth_day": 30}, "birth_day", None),
        ({"name": "P", "birth_month": 4, "birth_day": 31}, "birth_day", None),
        ({"name": "P", "birth_month": 2, "birth_day": 29, "birth_year": 2023}, "birth_day", None),
        ({"name": "P", "birth_month": 13, "birth_day": 1}, "birth_month", "max_value"),
        ({"name": "P", "birth_month": 0, "birth_day": 1}, "birth_month", "min_value"),
        ({"name": "P", "birth_month": "May", "birth_day": 1}, "birth_month", "invalid"),
        ({"name": "P", "birth_month": 5.5, "birth_day": 1}, "birth_month", "invalid"),
        ({"name": "P", "birth_month": 5}, "birth_day", None),
        ({"name": "P", "birth_day": 5}, "birth_month", None),
        ({"name": "P", "birth_year": 1990}, "birth_year", None),
        ({"name": "P", "birth_month": 1, "birth_day": 1, "birth_year": 1800}, "birth_year", "min_value"),
        ({"name": "P", "birth_month": 1, "birth_day": 1, "birth_year": 99999999999}, "birth_year", "max_value"),
        ({"name": "P", "birth_month": 1, "birth_day": 1, "birth_year": 2999}, "birth_year", None),
        ({"name": "P", "joined_on": "yesterday"}, "joined_on", "invalid"),
        ({"name": "P", "joined_on": "2024-02-30"}, "joined_on", "invalid"),
        ({"name": "P", "show_age": "maybe"}, "show_age", "invalid"),
        ({"name": "P", "celebrate_birthday": "loudly"}, "celebrate_birthday", "invalid_choice"),
        ({"name": "P", "celebrate_anniversary": None}, "celebrate_anniversary", "null"),
        ({"name": "P", "preferred_channels": ["pigeon"]}, "preferred_channels", None),
        ({"name": "P", "preferred_channels": "email"}, "preferred_channels", None),
        ({"name": "P", "preferred_channels": ["email", "email"]}, "preferred_channels", None),
        ({"name": "P", "opted_out_channels": [1]}, "opted_out_channels", None),
        ({"name": "P", "preferred_channels": ["sms"], "opted_out_channels": ["sms"]}, "opted_out_channels", None),
    ],
)
def test_create_rejects_bad_input(owner_client, workspace, payload, field, code):
    with unchanged():
        response = owner_client.post(people_url(workspace), payload, format="json")
    assert_error(response, 400, code, field=field)


@pytest.mark.django_db
def test_a_birthday_later_this_year_is_in_the_future(owner, workspace):
    with time_machine.travel(date(2024, 6, 15), tick=False), unchanged():
        response = client_for(owner).post(
            people_url(workspace),
            {"name": "Baby", "birth_month": 6, "birth_day": 16, "birth_year": 2024},
            format="json",
        )
    body = assert_error(response, 400, field="birth_year")
    assert "future" in body["errors"]["birth_year"][0]


@pytest.mark.django_db
def test_a_birthday_today_is_fine(owner, workspace):
    with time_machine.travel(date(2024, 6, 15), tick=False):
        response = client_for(owner).post(
            people_url(workspace),
            {"name": "Newborn", "birth_month": 6, "birth_day": 15, "birth_year": 2024},
            format="json",
        )
    assert response.status_code == 201, response.json()


@pytest.mark.django_db
def test_user_is_read_only(owner_client, workspace, member):
    response = owner_client.post(people_url(workspace), {"name": "Fake", "user": str(member.id)}, format="json")
    assert response.status_code == 201
    assert response.json()["user"] is None


# --- list: search, filters, ordering, pagination ------------------------------------------


@pytest.fixture
def crowd(workspace, member):
    PersonFactory(workspace=workspace, name="Anna", email="anna@corp.example", birth_month=1, birth_day=5)
    PersonFactory(workspace=workspace, name="Bert", birth_month=3, birth_day=2, joined_on=date(2019, 5, 1), user=member)
    PersonFactory(workspace=workspace, name="Cleo", birth_month=3, birth_day=1, joined_on=date(2022, 1, 10))
    PersonFactory(workspace=workspace, name="Dan", birth_month=None, birth_day=None)


@pytest.mark.django_db
@pytest.mark.usefixtures("crowd")
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["Anna", "Bert", "Cleo", "Dan"]),
        ({"search": "ann"}, ["Anna"]),
        ({"search": "corp.example"}, ["Anna"]),
        ({"birth_month": 3}, ["Bert", "Cleo"]),
        ({"birth_month": 3, "birth_day": 1}, ["Cleo"]),
        ({"has_birthday": "false"}, ["Dan"]),
        ({"has_birthday": "true"}, ["Anna", "Bert", "Cleo"]),
        ({"is_member": "true"}, ["Bert"]),
        ({"is_member": "false"}, ["Anna", "Cleo", "Dan"]),
        ({"joined_on_after": "2020-01-01"}, ["Cleo"]),
        ({"joined_on_before": "2020-01-01"}, ["Bert"]),
        ({"joined_on_after": "2019-05-01", "joined_on_before": "2022-01-10"}, ["Bert", "Cleo"]),
        ({"ordering": "-name"}, ["Dan", "Cleo", "Bert", "Anna"]),
        ({"ordering": "birth_month,birth_day", "has_birthday": "true"}, ["Anna", "Cleo", "Bert"]),
        ({"ordering": "-created_at"}, ["Dan", "Cleo", "Bert", "Anna"]),
    ],
)
def test_list_filters(member_client, workspace, params, expected):
    assert names(member_client.get(people_url(workspace), params)) == expected


@pytest.mark.django_db
@pytest.mark.usefixtures("crowd")
def test_filter_by_user(member_client, workspace, member):
    assert names(member_client.get(people_url(workspace), {"user": str(member.id)})) == ["Bert"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"birth_month": 13}, "birth_month"),
        ({"birth_month": "May"}, "birth_month"),
        ({"user": "not-a-uuid"}, "user"),
        ({"joined_on_after": "someday"}, "joined_on"),
    ],
)
def test_bad_filters_are_400(member_client, workspace, params, field):
    assert_error(member_client.get(people_url(workspace), params), 400, field=field)


@pytest.mark.django_db
def test_pagination(member_client, workspace):
    PersonFactory.create_batch(7, workspace=workspace)

    page = member_client.get(people_url(workspace), {"page_size": 5, "page": 2}).json()

    assert page["count"] == 7
    assert len(page["results"]) == 2
    assert page["previous"]
    assert page["next"] is None
    assert_error(member_client.get(people_url(workspace), {"page": 99}), 404)


@pytest.mark.django_db
def test_list_has_no_n_plus_one(member_client, workspace, django_assert_max_num_queries):
    for _ in range(5):
        MembershipFactory(workspace=workspace)
    for membership in workspace.memberships.all():
        PersonFactory(workspace=workspace, user=membership.user)
    PersonFactory.create_batch(20, workspace=workspace)
    # auth user + membership/workspace + count + page
    with django_assert_max_num_queries(5):
        response = member_client.get(people_url(workspace))
    assert response.json()["count"] == 27


# --- show_age privacy ---------------------------------------------------------------------


@pytest.fixture
def private_person(workspace):
    return PersonFactory(workspace=workspace, name="Private", birth_month=4, birth_day=1, birth_year=1970)


@pytest.mark.django_db
def test_hidden_birth_year_is_null_for_other_members(member_client, workspace, private_person):
    listed = member_client.get(people_url(workspace)).json()["results"][0]
    detailed = member_client.get(person_url(workspace, private_person.id)).json()

    for body in (listed, detailed):
        assert body["birth_year"] is None
        assert (body["birth_month"], body["birth_day"]) == (4, 1)
    assert "1970" not in member_client.get(people_url(workspace)).content.decode()


@pytest.mark.django_db
def test_birth_year_is_shown_when_the_person_allows_it(member_client, workspace, private_person):
    private_person.show_age = True
    private_person.save()
    assert member_client.get(person_url(workspace, private_person.id)).json()["birth_year"] == 1970


@pytest.mark.django_db
def test_admins_staff_and_the_person_see_the_birth_year(
    owner_client, admin_client, staff_client, workspace, member, private_person
):
    private_person.user = member
    private_person.save()
    self_client = client_for(member)

    for client in (owner_client, admin_client, staff_client, self_client):
        assert client.get(person_url(workspace, private_person.id)).json()["birth_year"] == 1970


@pytest.mark.django_db
def test_birth_year_cannot_be_probed_through_filters_or_ordering(member_client, workspace, private_person):
    PersonFactory(workspace=workspace, name="Zed", birth_month=4, birth_day=1, birth_year=2001)
    by_year = names(member_client.get(people_url(workspace), {"ordering": "birth_year"}))
    by_year_desc = names(member_client.get(people_url(workspace), {"ordering": "-birth_year"}))
    filtered = names(member_client.get(people_url(workspace), {"birth_year": 1970}))
    assert by_year == by_year_desc == filtered == ["Private", "Zed"]


# --- update / delete ----------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_updates_a_person(admin_client, workspace, person):
    response = admin_client.patch(
        person_url(workspace, person.id), {"phone": "+44 20 7946 0958", "show_age": True}, format="json"
    )
    assert response.status_code == 200, response.json()
    person.refresh_from_db()
    assert (person.phone, person.show_age) == ("+442079460958", True)


@pytest.mark.django_db
def test_partial_birthday_update_keeps_the_stored_month(owner_client, workspace, person):
    response = owner_client.patch(person_url(workspace, person.id), {"birth_day": 31}, format="json")
    assert response.status_code == 200, response.json()
    assert (response.json()["birth_month"], response.json()["birth_day"]) == (12, 31)


@pytest.mark.django_db
def test_partial_update_that_makes_feb_30_is_400(owner_client, workspace):
    person = PersonFactory(workspace=workspace, birth_month=1, birth_day=30)
    with unchanged():
        response = owner_client.patch(person_url(workspace, person.id), {"birth_month": 2}, format="json")
    assert_error(response, 400, field="birth_day")


@pytest.mark.django_db
def test_clearing_the_birthday_needs_the_year_cleared_too(owner_client, workspace, person):
    with unchanged():
        bad = owner_client.patch(
            person_url(workspace, person.id), {"birth_month": None, "birth_day": None}, format="json"
        )
    good = owner_client.patch(
        person_url(workspace, person.id), {"birth_month": None, "birth_day": None, "birth_year": None}, format="json"
    )
    assert_error(bad, 400, field="birth_year")
    assert good.status_code == 200


@pytest.mark.django_db
def test_member_edits_their_own_person(member_client, workspace, member):
    mine = PersonFactory(workspace=workspace, user=member, birth_month=7, birth_day=7, birth_year=1990)

    response = member_client.patch(
        person_url(workspace, mine.id), {"show_age": True, "opted_out_channels": ["sms"]}, format="json"
    )

    assert response.status_code == 200, response.json()
    mine.refresh_from_db()
    assert mine.show_age is True
    assert mine.opted_out_channels == ["sms"]


@pytest.mark.django_db
def test_member_cannot_edit_others_or_their_start_date(member_client, workspace, member, person):
    mine = PersonFactory(workspace=workspace, user=member)
    with unchanged():
        others = member_client.patch(person_url(workspace, person.id), {"name": "Renamed"}, format="json")
        joined = member_client.patch(person_url(workspace, mine.id), {"joined_on": "2001-01-01"}, format="json")
        delete = member_client.delete(person_url(workspace, mine.id))
    assert_error(others, 403, "role_required")
    assert_error(joined, 403, "role_required")
    assert_error(delete, 403, "role_required")


@pytest.mark.django_db
def test_put_is_not_offered(owner_client, workspace, person):
    with unchanged():
        response = owner_client.put(person_url(workspace, person.id), {"name": "X"}, format="json")
    assert_error(response, 405)


@pytest.mark.django_db
def test_admin_deletes_a_person(admin_client, workspace, person):
    assert admin_client.delete(person_url(workspace, person.id)).status_code == 204
    assert not Person.objects.filter(pk=person.pk).exists()


@pytest.mark.django_db
def test_person_of_another_workspace_is_404(owner_client, workspace, other_workspace):
    foreign = Person.objects.get(workspace=other_workspace)
    with unchanged():
        responses = [
            owner_client.get(person_url(workspace, foreign.id)),
            owner_client.patch(person_url(workspace, foreign.id), {"name": "Mine"}, format="json"),
            owner_client.delete(person_url(workspace, foreign.id)),
        ]
    for response in responses:
        assert_error(response, 404, "not_found")


@pytest.mark.django_db
def test_unknown_and_malformed_person_ids_are_404(owner_client, workspace):
    with unchanged():
        missing = owner_client.patch(person_url(workspace, uuid.uuid4()), {"name": "X"}, format="json")
        malformed = owner_client.delete(f"{people_url(workspace)}12345/")
    assert_error(missing, 404, "not_found")
    assert_error(malformed, 404)


@pytest.mark.django_db
def test_update_rejects_bad_input(owner_client, workspace, person):
    with unchanged():
        for payload in ({"phone": "nope"}, {"email": "@"}, {"name": None}, {"preferred_channels": ["fax"]}):
            assert_error(owner_client.patch(person_url(workspace, person.id), payload, format="json"), 400)


@pytest.mark.django_db
def test_staff_may_write_in_any_workspace(staff_client, workspace):
    response = staff_client.post(people_url(workspace), {"name": "Fixed by support"}, format="json")
    assert response.status_code == 201


@pytest.mark.django_db
def test_owner_role_counts_as_admin(workspace):
    owner_two = MembershipFactory(workspace=workspace, role=Role.OWNER).user
    response = client_for(owner_two).post(people_url(workspace), {"name": "By owner"}, format="json")
    assert response.status_code == 201
