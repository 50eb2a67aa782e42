"""A gathering's comment thread: members through the API, guests from their page (by person);
authors edit and delete their own, organisers hide and delete any."""

import pytest
from auditlog.models import LogEntry

from birthdaybuddy.errors import PermissionDeniedError
from gatherings import thread
from gatherings.models import Comment
from tests.gatherings.factories import GatheringFactory

pytestmark = pytest.mark.django_db


def _post(party, client, body="See you there!", event=None):
    data = {"event": str((event or party.event).id), "body": body}
    return client.post(f"{party.api}/comments/", data, format="json")


def test_members_comment_and_edit_their_own(party):
    response = _post(party, party.other_client)
    assert response.status_code == 201, response.content
    comment = response.json()
    assert comment["author_user"] == str(party.other_member.id)
    url = f"{party.api}/comments/{comment['id']}/"
    response = party.other_client.patch(url, {"body": "See you at 8"}, format="json")
    assert response.status_code == 200
    assert response.json()["body"] == "See you at 8"
    assert response.json()["edited_at"] is not None
    # Someone else, even the host, cannot edit it.
    response = party.host_client.patch(url, {"body": "Changed"}, format="json")
    assert (response.status_code, response.json()["code"]) == (403, "not_the_author")
    assert Comment.objects.get(pk=comment["id"]).body == "See you at 8"


@pytest.mark.parametrize("body", ["", "   ", "x" * 2001])
def test_empty_or_long_comments_are_refused(party, body):
    response = _post(party, party.other_client, body=body)
    assert response.status_code == 400
    assert "body" in response.json()["errors"]
    assert Comment.objects.count() == 0


def test_a_comment_on_an_event_of_another_workspace_is_refused(party):
    response = _post(party, party.other_client, event=GatheringFactory())
    assert response.status_code == 400
    assert "event" in response.json()["errors"]
    assert Comment.objects.count() == 0


def test_organisers_hide_and_delete_comments_and_members_no_longer_see_hidden_ones(party):
    guest_comment = thread.comment_post(event=party.event, body="Spam spam", person=party.ana)
    url = f"{party.api}/comments/{guest_comment.id}/"
    assert party.other_client.post(f"{url}hide/").status_code == 403
    response = party.host_client.post(f"{url}hide/")
    assert response.status_code == 200
    assert response.json()["hidden"] is True
    listed = party.other_client.get(f"{party.api}/comments/", {"event": str(party.event.id)}).json()["results"]
    assert listed == []
    listed = party.host_client.get(f"{party.api}/comments/", {"event": str(party.event.id)}).json()["results"]
    assert [row["author_name"] for row in listed] == ["Ana Lima"]
    assert party.owner_client.delete(url).status_code == 204
    assert not Comment.objects.filter(pk=guest_comment.id).exists()
    operations = set(LogEntry.objects.values_list("additional_data__operation", flat=True))
    assert {"comment.post", "comment.hide", "comment.delete"} <= operations


def test_guests_edit_and_delete_only_their_own(party):
    comment = thread.comment_post(event=party.event, body="I'll be late", person=party.ana)
    with pytest.raises(PermissionDeniedError):
        thread.comment_edit(comment=comment, body="Hacked", person=party.bo)
    with pytest.raises(PermissionDeniedError):
        thread.comment_delete(comment=comment, person=party.bo)
    thread.comment_edit(comment=comment, body="I'll be on time", person=party.ana)
    comment.refresh_from_db()
    assert comment.body == "I'll be on time"
    thread.comment_delete(comment=comment, person=party.ana)
    assert Comment.objects.count() == 0


def test_a_member_s_email_is_never_shown_as_their_name(party):
    party.other_member.first_name = ""
    party.other_member.last_name = ""
    party.other_member.save()
    body = _post(party, party.other_client).json()
    assert body["author_name"] == "Organiser"
    assert party.other_member.email not in str(body)
