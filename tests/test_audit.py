"""The audit log: entries for workspace data written through the API (with the actor and the
changed fields), secrets masked, scoping per workspace, the ``…/audit/`` endpoint and replay."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from audit.entries import audit_manual_send, audit_notification_failed, bulk_diff
from audit.queries import audit_entries
from audit.retention import audit_entries_prune, audit_retention
from notifications.models import ChannelConfig, Notification
from tests.conftest import client_for
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from tests.notifications.factories import AUTH_TOKEN, NotificationFactory
from workspaces.models import Person, Role

pytestmark = pytest.mark.django_db

WEBHOOK = "https://hooks.slack.com/services/T000/B000/XXXXSECRETabcd"
OTHER_WEBHOOK = "https://hooks.slack.com/services/T000/B000/YYYYSECRETwxyz"


def audit_url(workspace, suffix: str = "") -> str:
    return f"/api/v1/workspaces/{workspace.pk}/audit/{suffix}"


def replay_url(workspace, entry_id) -> str:
    return reverse("workspace-audit-replay", kwargs={"workspace_id": workspace.pk, "pk": entry_id})


def people_url(workspace, pk=None) -> str:
    base = f"/api/v1/workspaces/{workspace.pk}/people/"
    return base if pk is None else f"{base}{pk}/"


def entries(workspace, **filters) -> list[dict]:
    return list(audit_entries().for_workspace(workspace).filter(**filters).order_by("pk"))


@pytest.fixture
def admin(workspace):
    return MembershipFactory(workspace=workspace, role=Role.ADMIN).user


@pytest.fixture
def admin_client(admin):
    return client_for(admin)


@pytest.fixture
def outsider_client(db):
    """The owner of another workspace."""
    outsider = UserFactory()
    MembershipFactory(workspace=WorkspaceFactory(), user=outsider, role=Role.OWNER)
    return client_for(outsider)


# --- what gets recorded -------------------------------------------------------------------


def test_person_create_update_delete_through_the_api_are_audited_with_actor_and_changes(admin_client, admin, workspace):
    created = admin_client.post(
        people_url(workspace),
        {"name": "Carla", "email": "carla@example.com", "phone": "+1 415 555 0100", "birth_month": 2, "birth_day": 29},
        format="json",
    )
    assert created.status_code == 201
    person_id = created.json()["id"]
    updated = admin_client.patch(people_url(workspace, person_id), {"name": "Carla Jones"}, format="json")
    assert updated.status_code == 200
    deleted = admin_client.delete(people_url(workspace, person_id))
    assert deleted.status_code == 204

    body = admin_client.get(audit_url(workspace), {"model": "workspaces.person"}).json()
    assert body["count"] == 3
    delete, update, create = body["results"]  # newest first
    assert [create["action"], update["action"], delete["action"]] == ["create", "update", "delete"]
    for entry in (create, update, delete):
        assert entry["actor"] == {"id": str(admin.pk), "email": admin.email}
        assert entry["object_type"] == "workspaces.person"
        assert entry["object_id"] == person_id
        assert entry["operation"] is None
        assert entry["details"] == {}
    assert create["object_repr"] == "Carla"
    assert create["changes"]["phone"] == [None, "+14155550100"]
    assert create["changes"]["birth_day"] == [None, 29]
    assert "created_at" not in create["changes"]
    assert "id" not in create["changes"]
    assert update["changes"] == {"name": ["Carla", "Carla Jones"]}
    assert update["request_id"] == updated["X-Request-ID"]
    assert update["remote_addr"] == "127.0.0.1"
    assert delete["object_repr"] == "Carla Jones"
    assert set(create) == {
        "id",
        "timestamp",
        "action",
        "operation",
        "actor",
        "object_type",
        "object_id",
        "object_repr",
        "changes",
        "details",
        "request_id",
        "remote_addr",
    }


def test_workspace_members_and_invitations_are_audited(auth_client, user, workspace):
    auth_client.patch(f"/api/v1/workspaces/{workspace.pk}/", {"name": "Renamed"}, format="json")
    auth_client.post(f"/api/v1/workspaces/{workspace.pk}/invitations/", {"email": "new@example.com"}, format="json")

    changes = {e.content_type.model: e for e in entries(workspace, actor=user)}
    assert changes["workspace"].changes["name"][1] == "Renamed"
    invitation = changes["invitation"]
    assert invitation.changes["email"] == [None, "new@example.com"]
    assert "token_hash" not in invitation.changes


def test_channel_secrets_never_appear_in_the_audit_log(auth_client, workspace):
    url = f"/api/v1/workspaces/{workspace.pk}/channels/"
    created = auth_client.post(url, {"kind": "slack", "webhook_url": WEBHOOK}, format="json").json()
    auth_client.patch(f"{url}{created['id']}/", {"webhook_url": OTHER_WEBHOOK}, format="json")
    sms = {"kind": "sms", "account_sid": "AC" + "a1" * 16, "auth_token": AUTH_TOKEN, "from_number": "+14155550100"}
    assert auth_client.post(url, sms, format="json").status_code == 201
    assert ChannelConfig.objects.count() == 2

    response = auth_client.get(audit_url(workspace), {"model": "notifications.channelconfig"})

    text = response.content.decode()
    for secret in (WEBHOOK, OTHER_WEBHOOK, AUTH_TOKEN, "SECRETabcd", "SECRETwxyz", AUTH_TOKEN[-6:]):
        assert secret not in text
    rows = response.json()["results"]
    update = next(row for row in rows if row["action"] == "update")
    assert update["changes"] == {"webhook_url": ["********", "********"]}  # it changed; never what to
    creates = [row for row in rows if row["action"] == "create"]
    assert {row["changes"].get("auth_token", [None, None])[1] for row in creates} == {"********", None}
    stored = str(list(LogEntry.objects.values_list("changes", "serialized_data", "changes_text")))
    assert "SECRET" not in stored
    assert AUTH_TOKEN not in stored


def test_bookkeeping_saves_write_no_entry_and_cost_no_query(workspace, django_assert_num_queries):
    person = PersonFactory(workspace=workspace)
    before = LogEntry.objects.count()
    with django_assert_num_queries(1):  # the UPDATE itself; auditlog does not even read the old row
        person.save(update_fields=["updated_at"])
    assert LogEntry.objects.count() == before


def test_deleting_a_workspace_writes_one_entry_not_one_per_row(auth_client, workspace):
    PersonFactory.create_batch(5, workspace=workspace)
    last = LogEntry.objects.latest("pk").pk
    assert auth_client.delete(f"/api/v1/workspaces/{workspace.pk}/").status_code == 204
    new = LogEntry.objects.filter(pk__gt=last)
    assert [(entry.action, entry.content_type.model) for entry in new] == [(LogEntry.Action.DELETE, "workspace")]


def test_the_actor_is_forgotten_after_the_request(admin_client, workspace):
    admin_client.patch(f"/api/v1/workspaces/{workspace.pk}/", {"name": "By API"}, format="json")
    workspace.refresh_from_db()
    workspace.name = "By a task"
    workspace.save()
    last = LogEntry.objects.latest("pk")
    assert last.changes["name"] == ["By API", "By a task"]
    assert last.actor_id is None
    assert last.cid is None


def test_refused_requests_write_no_entries(member_client, outsider_client, workspace):
    person = PersonFactory(workspace=workspace)
    before = LogEntry.objects.count()
    assert member_client.patch(people_url(workspace, person.pk), {"name": "x"}, format="json").status_code == 403
    assert member_client.delete(people_url(workspace, person.pk)).status_code == 403
    assert outsider_client.patch(people_url(workspace, person.pk), {"name": "x"}, format="json").status_code == 404
    assert outsider_client.post(people_url(workspace), {"name": "x"}, format="json").status_code == 404
    assert LogEntry.objects.count() == before


def test_a_failed_write_leaves_no_entry(admin_client, workspace):
    before = LogEntry.objects.count()
    response = admin_client.post(people_url(workspace), {"name": "x", "phone": "12345"}, format="json")
    assert response.status_code == 400
    assert LogEntry.objects.count() == before


# --- manual operations --------------------------------------------------------------------


def test_audit_manual_send_records_the_operation(auth_client, user, workspace):
    notification = NotificationFactory(workspace=workspace, status="failed")
    entry = audit_manual_send(
        workspace=workspace,
        actor=user,
        action="notification.resend",
        target=notification,
        details={"resend_id": notification.pk, "when": timezone.now().date()},
    )

    row = auth_client.get(audit_url(workspace, f"{entry.pk}/")).json()
    assert row["action"] == "manual"
    assert row["operation"] == "notification.resend"
    assert row["object_type"] == "notifications.notification"
    assert row["object_id"] == str(notification.pk)
    assert row["details"]["resend_id"] == str(notification.pk)
    assert row["changes"] == {}
    assert row["actor"]["email"] == user.email
    filtered = auth_client.get(audit_url(workspace), {"action": "manual", "operation": "notification.resend"})
    assert [r["id"] for r in filtered.json()["results"]] == [entry.pk]


def test_audit_manual_send_defaults_to_the_workspace_and_needs_an_action(workspace):
    entry = audit_manual_send(workspace=workspace, actor=None, action="digest.run_now", details={"created": 3})
    assert (entry.content_type.model, entry.object_pk, entry.actor_id) == ("workspace", str(workspace.pk), None)
    with pytest.raises(ValueError, match="action name"):
        audit_manual_send(workspace=workspace, actor=None, action="")


# --- replay -------------------------------------------------------------------------------


def _entry_about(notification, workspace, user):
    return audit_manual_send(workspace=workspace, actor=user, action="notification.resend", target=notification)


def test_replay_resends_a_failed_notification(auth_client, user, workspace):
    failed = NotificationFactory(workspace=workspace, status="failed")
    entry = _entry_about(failed, workspace, user)

    response = auth_client.post(replay_url(workspace, entry.pk))

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["resent_from"] == str(failed.pk)
    assert body["status"] == "pending"
    assert Notification.objects.get(pk=body["id"]).idempotency_key == f"resend:{failed.pk}:1"
    replayed = LogEntry.objects.latest("pk")
    assert replayed.additional_data["operation"] == "notification.resend"
    assert replayed.additional_data["details"] == {"resend_id": body["id"], "replayed_entry": entry.pk}
    assert replayed.actor_id == user.pk

    again = auth_client.post(replay_url(workspace, entry.pk))
    assert again.status_code == 409
    assert again.json()["code"] == "already_resent"


def test_a_recorded_delivery_failure_is_listed_as_system_and_can_be_replayed(auth_client, workspace):
    failed = NotificationFactory(workspace=workspace, status="failed", channel="sms", recipient="+14155550100")
    entry = audit_notification_failed(notification=failed, status="failed", reason="21211 invalid 'To'")

    rows = auth_client.get(audit_url(workspace), {"action": "system"}).json()["results"]
    assert [(row["id"], row["operation"], row["actor"]) for row in rows] == [(entry.pk, "notification.failed", None)]
    assert rows[0]["details"] == {"status": "failed", "channel": "sms", "error": "21211 invalid 'To'"}
    assert auth_client.get(audit_url(workspace), {"action": "manual"}).json()["count"] == 0

    response = auth_client.post(replay_url(workspace, entry.pk))
    assert response.status_code == 201
    assert response.json()["resent_from"] == str(failed.pk)
    assert auth_client.get(audit_url(workspace), {"action": "manual"}).json()["count"] == 1


def test_replay_of_an_unknown_outcome_works_and_of_a_sent_one_is_409(auth_client, user, workspace):
    unknown = NotificationFactory(workspace=workspace, status="unknown")
    sent = NotificationFactory(workspace=workspace, status="sent")
    assert auth_client.post(replay_url(workspace, _entry_about(unknown, workspace, user).pk)).status_code == 201
    before = Notification.objects.count()
    response = auth_client.post(replay_url(workspace, _entry_about(sent, workspace, user).pk))
    assert response.status_code == 409
    assert response.json()["code"] == "not_resendable"
    assert Notification.objects.count() == before


def test_replay_of_an_entry_about_anything_else_is_404(auth_client, workspace):
    PersonFactory(workspace=workspace)
    person_entry = entries(workspace, content_type__model="person")[0]
    response = auth_client.post(replay_url(workspace, person_entry.pk))
    assert response.status_code == 404
    assert response.json()["code"] == "not_replayable"
    assert auth_client.post(replay_url(workspace, 999_999_999)).status_code == 404


def test_replay_of_a_deleted_notification_is_404(auth_client, user, workspace):
    failed = NotificationFactory(workspace=workspace, status="failed")
    entry = _entry_about(failed, workspace, user)
    failed.delete()
    assert auth_client.post(replay_url(workspace, entry.pk)).status_code == 404


# --- access and scoping -------------------------------------------------------------------


def test_members_get_403(member_client, workspace, user):
    entry = _entry_about(NotificationFactory(workspace=workspace, status="failed"), workspace, user)
    assert member_client.get(audit_url(workspace)).status_code == 403
    assert member_client.get(audit_url(workspace, f"{entry.pk}/")).status_code == 403
    assert member_client.post(replay_url(workspace, entry.pk)).status_code == 403
    assert Notification.objects.count() == 1


def test_another_workspaces_admin_sees_nothing(workspace, user):
    failed = NotificationFactory(workspace=workspace, status="failed")
    entry = _entry_about(failed, workspace, user)
    other = WorkspaceFactory()
    other_admin = MembershipFactory(workspace=other, role=Role.ADMIN).user
    PersonFactory(workspace=other, name="Theirs")
    client = client_for(other_admin)

    assert client.get(audit_url(workspace)).status_code == 404
    assert client.get(audit_url(workspace, f"{entry.pk}/")).status_code == 404
    assert client.post(replay_url(workspace, entry.pk)).status_code == 404
    # In their own workspace, our entries do not exist either.
    own = client.get(audit_url(other)).json()
    assert own["count"] >= 1
    assert all(row["object_repr"] != str(failed) for row in own["results"])
    assert client.get(audit_url(other, f"{entry.pk}/")).status_code == 404
    assert client.post(replay_url(other, entry.pk)).status_code == 404
    assert Notification.objects.count() == 1


def test_staff_read_any_workspace_and_the_admin(staff_user, workspace, client):
    PersonFactory(workspace=workspace, name="Visible In Admin")
    assert client_for(staff_user).get(audit_url(workspace)).status_code == 200
    client.force_login(staff_user)
    page = client.get("/admin/auditlog/logentry/")
    assert page.status_code == 200
    assert "Visible In Admin" in page.content.decode()


# --- listing ------------------------------------------------------------------------------


def test_filters_by_model_action_actor_object_and_dates(auth_client, user, workspace):
    other_actor = MembershipFactory(workspace=workspace, role=Role.ADMIN).user
    person = PersonFactory(workspace=workspace)
    client_for(other_actor).patch(people_url(workspace, person.pk), {"name": "By Other"}, format="json")
    auth_client.patch(people_url(workspace, person.pk), {"name": "By Owner"}, format="json")
    old = LogEntry.objects.filter(actor=other_actor).get()
    old.timestamp = timezone.now() - timedelta(days=10)
    old.save()

    def ids(**params):
        response = auth_client.get(audit_url(workspace), params)
        assert response.status_code == 200, response.json()
        return [row["id"] for row in response.json()["results"]]

    mine = LogEntry.objects.get(actor=user, action=LogEntry.Action.UPDATE).pk
    creation = LogEntry.objects.get(object_pk=str(person.pk), action=LogEntry.Action.CREATE).pk
    assert ids(actor=str(other_actor.pk)) == [old.pk]
    assert ids(action="update") == [mine, old.pk]
    assert ids(action="update", date_from=(timezone.now() - timedelta(days=2)).date().isoformat()) == [mine]
    assert ids(action="update", date_to=(timezone.now() - timedelta(days=5)).date().isoformat()) == [old.pk]
    assert ids(object_id=str(person.pk)) == [mine, creation, old.pk]  # newest first: old was back-dated
    assert ids(model="workspaces.invitation") == []
    assert auth_client.get(audit_url(workspace), {"model": "auth.user"}).status_code == 400
    assert auth_client.get(audit_url(workspace), {"action": "explode"}).status_code == 400


def test_list_is_paginated_and_has_no_n_plus_one(auth_client, workspace, django_assert_max_num_queries):
    for _ in range(30):
        actor = MembershipFactory(workspace=workspace, role=Role.ADMIN).user
        client_for(actor).post(people_url(workspace), {"name": "Someone"}, format="json")
    with django_assert_max_num_queries(6):
        response = auth_client.get(audit_url(workspace), {"page_size": 100})
    body = response.json()
    assert body["count"] >= 60  # each member's join and each person
    assert len(body["results"]) == min(body["count"], 100)
    timestamps = [row["timestamp"] for row in body["results"]]
    assert timestamps == sorted(timestamps, reverse=True)


def test_entries_of_people_imported_list_like_api_changes(auth_client, user, workspace):
    response = auth_client.generic(
        "POST",
        f"/api/v1/workspaces/{workspace.pk}/people/import",
        b"name,email\nImported,imp@example.com\n",
        content_type="text/csv",
    )
    assert response.status_code == 200
    rows = auth_client.get(audit_url(workspace), {"model": "workspaces.person"}).json()["results"]
    assert rows[0]["object_repr"] == "Imported"
    assert rows[0]["changes"]["email"] == [None, "imp@example.com"]
    assert rows[0]["actor"] == {"id": str(user.pk), "email": user.email}
    assert Person.objects.filter(workspace=workspace, name="Imported").exists()


def test_bulk_entries_read_like_those_of_single_saves(workspace):
    """Imports write their entries in bulk; they must say exactly what auditlog says for a save()."""
    import copy
    from datetime import date

    from auditlog.diff import model_instance_diff

    from tests.notifications.factories import ChannelConfigFactory

    def as_lists(diff):
        return {name: list(values) for name, values in (diff or {}).items()}

    person = PersonFactory(
        workspace=workspace, phone="+14155550100", joined_on=date(2020, 1, 2), preferred_channels=["sms"]
    )
    assert bulk_diff(None, person) == as_lists(model_instance_diff(None, person, use_json_for_changes=True))
    before = copy.copy(person)
    person.name, person.birth_year, person.opted_out_channels = "New Name", 1990, ["email"]
    assert bulk_diff(before, person) == as_lists(model_instance_diff(before, person, use_json_for_changes=True))
    assert set(bulk_diff(before, person)) == {"name", "birth_year", "opted_out_channels"}

    config = ChannelConfigFactory(workspace=workspace, webhook_url=WEBHOOK)
    created = bulk_diff(None, config)
    assert created == as_lists(model_instance_diff(None, config, use_json_for_changes=True))
    assert created["webhook_url"] == [None, "********"]


def test_someone_deleting_their_own_account_is_recorded_by_email(workspace):
    """The entries of the rows that go with the account cannot point at the deleted user."""
    from django.db import connection

    from tests.factories import DEFAULT_PASSWORD

    leaver = MembershipFactory(workspace=workspace, role=Role.MEMBER).user
    response = client_for(leaver).delete("/api/v1/users/me", {"password": DEFAULT_PASSWORD}, format="json")
    assert response.status_code == 204

    connection.check_constraints()  # what the commit would check (deferred foreign keys)
    entry = LogEntry.objects.get(action=LogEntry.Action.DELETE, content_type__model="membership")
    assert (entry.actor_id, entry.actor_email) == (None, leaver.email)
    owner = workspace.memberships.get(role=Role.OWNER).user
    row = client_for(owner).get(audit_url(workspace, f"{entry.pk}/")).json()
    assert row["actor"] == {"id": None, "email": leaver.email}


def test_staff_changes_in_the_django_admin_name_the_staff_member(staff_user, workspace, client):
    person = PersonFactory(workspace=workspace, name="Removed By Staff")
    client.force_login(staff_user)
    response = client.post(f"/admin/workspaces/person/{person.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    entry = LogEntry.objects.get(action=LogEntry.Action.DELETE, object_pk=str(person.pk))
    assert entry.actor_id == staff_user.pk
    assert entry.additional_data["workspace_id"] == str(workspace.pk)


def test_reminder_recipients_and_tick_bookkeeping(workspace, django_assert_num_queries):
    from reminders.models import Reminder

    ada = PersonFactory(workspace=workspace, name="Ada")
    reminder = Reminder.objects.create(
        workspace=workspace, kind="one_time", name="Tax deadline", run_at=timezone.now() + timedelta(days=3)
    )
    reminder.recipients.add(ada)
    added = LogEntry.objects.filter(object_pk=str(reminder.pk)).latest("pk")
    assert added.changes == {"recipients": {"type": "m2m", "operation": "add", "objects": ["Ada"]}}
    assert added.additional_data["workspace_id"] == str(workspace.pk)

    last = LogEntry.objects.latest("pk").pk
    reminder.next_run_at = timezone.now()
    with django_assert_num_queries(1):  # what the tick does: no audit read, no audit entry
        reminder.save(update_fields=["next_run_at", "updated_at"])
    assert not LogEntry.objects.filter(pk__gt=last).exists()


@pytest.mark.django_db
def test_manual_run_now_is_audited_with_its_actor(auth_client, workspace, user):
    from auditlog.models import LogEntry

    before = LogEntry.objects.count()
    response = auth_client.post(f"/api/v1/workspaces/{workspace.pk}/run-now", {"date": "2026-05-17"}, format="json")
    assert response.status_code in (200, 201)
    entries = auth_client.get(f"/api/v1/workspaces/{workspace.pk}/audit/").json()["results"]
    manual = [e for e in entries if e["action"] == "manual"]
    assert LogEntry.objects.count() == before + 1
    assert manual
    assert manual[0]["actor"]["email"] == user.email
    dry = auth_client.post(f"/api/v1/workspaces/{workspace.pk}/run-now", {"dry_run": True}, format="json")
    assert dry.status_code == 200
    assert LogEntry.objects.count() == before + 1  # a dry run sends nothing and records nothing


# --- the workspace filter's index (PostgreSQL) ----------------------------------------------

on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="the index exists on PostgreSQL only")


@on_postgresql
def test_the_workspace_filter_compares_text_the_way_the_index_is_built(workspace):
    sql, _ = audit_entries().for_workspace(workspace).query.sql_with_params()
    assert "->>" in sql  # the expression of auditlog_entry_ws_ts_idx (->, jsonb, could not use it)


@on_postgresql
def test_the_audit_list_query_uses_the_workspace_index(workspace, auth_client):
    from django.db import transaction

    other = WorkspaceFactory()
    for index in range(30):
        audit_manual_send(workspace=workspace if index % 3 else other, actor=None, action="digest.run_now")
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'auditlog_entry_ws_ts_idx'")
        (definition,) = cursor.fetchone()
    assert "(additional_data ->> 'workspace_id'::text)" in definition
    assert '"timestamp" DESC, id DESC' in definition

    # The filter is written so that the index applies: only this index can take it as an index
    # condition (on a table this small the planner may still prefer another order for a page,
    # so the check is on the workspace's entries, not on one page of them).
    entries = audit_entries().for_workspace(workspace)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = entries.explain()
    assert "auditlog_entry_ws_ts_idx" in plan, plan
    assert "Index Cond: ((additional_data ->> 'workspace_id'::text)" in plan, plan

    listed = auth_client.get(audit_url(workspace), {"operation": "digest.run_now"}).json()
    assert listed["count"] == 20


# --- retention ----------------------------------------------------------------------------


def _aged(entry: LogEntry, days: int) -> LogEntry:
    LogEntry.objects.filter(pk=entry.pk).update(timestamp=timezone.now() - timedelta(days=days))
    return entry


def test_prune_deletes_entries_older_than_the_retention_in_chunks(workspace, settings):
    settings.AUDIT_RETENTION_DAYS = 30
    old = [_aged(audit_manual_send(workspace=workspace, actor=None, action="digest.run_now"), 31 + n) for n in range(5)]
    recent = _aged(audit_manual_send(workspace=workspace, actor=None, action="digest.run_now"), 29)
    fresh = audit_manual_send(workspace=workspace, actor=None, action="digest.run_now")

    assert audit_entries_prune(dry_run=True) == (5, True)
    assert LogEntry.objects.filter(pk__in=[entry.pk for entry in old]).count() == 5

    assert audit_entries_prune(chunk_size=2) == (5, True)

    assert not LogEntry.objects.filter(pk__in=[entry.pk for entry in old]).exists()
    assert set(LogEntry.objects.filter(pk__in=[recent.pk, fresh.pk]).values_list("pk", flat=True)) == {
        recent.pk,
        fresh.pk,
    }
    assert audit_entries_prune() == (0, True)


def test_prune_stops_between_chunks_at_its_deadline_and_keeps_everything_when_retention_is_off(workspace, settings):
    import time

    for n in range(4):
        _aged(audit_manual_send(workspace=workspace, actor=None, action="digest.run_now"), 400 + n)

    assert audit_entries_prune(chunk_size=1, deadline=time.monotonic() - 1) == (1, False)
    settings.AUDIT_RETENTION_DAYS = 0
    assert audit_retention() is None
    assert audit_entries_prune() == (0, True)
    settings.AUDIT_RETENTION_DAYS = 365  # the default
    assert audit_entries_prune() == (3, True)


def test_a_profile_edit_that_renames_linked_people_is_audited_in_each_workspace(workspace):
    """
    GIVEN a member linked to a person in two workspaces
    WHEN they change their name through PATCH /users/me
    THEN each workspace's audit trail has the rename of its person, by that member
    """
    member = UserFactory(first_name="Ana", last_name="Lima")
    other = WorkspaceFactory()
    people = []
    for place in (workspace, other):
        MembershipFactory(workspace=place, user=member, role=Role.MEMBER)
        people.append(PersonFactory(workspace=place, user=member, name="Ana Lima"))
    response = client_for(member).patch("/api/v1/users/me", {"last_name": "Berg"}, format="json")
    assert response.status_code == 200, response.content

    for place, person in zip((workspace, other), people, strict=True):
        person.refresh_from_db()
        assert person.name == "Ana Berg"
        (entry,) = entries(place, object_pk=str(person.pk), action=LogEntry.Action.UPDATE)
        assert entry.changes["name"] == ["Ana Lima", "Ana Berg"]
        assert entry.actor_id == member.pk
        assert entry.cid == response["X-Request-ID"]
