"""A gathering's plan for a guest at /rsvp/<token>/plan: checklist, shared costs, comments;
forms without JavaScript, CSRF, no inline script or style; one guest never reaches another event."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from events.models import Attendee
from events.tokens import attendee_rsvp_token_issue
from gatherings import checklist, services, thread
from gatherings.models import Comment, EventFile, Task
from tests.factories import PersonFactory
from tests.gatherings.factories import GatheringFactory
from tests.pages.conftest import csrf_token_of

pytestmark = pytest.mark.django_db


def plan_url(invited) -> str:
    return f"/rsvp/{invited.token}/plan"


def post(browser, invited, path: str, data: dict | None = None):
    page = browser.get(plan_url(invited))
    return browser.post(f"{plan_url(invited)}{path}", {"csrfmiddlewaretoken": csrf_token_of(page), **(data or {})})


def test_the_rsvp_page_links_to_the_plan(browser, invited):
    html = browser.get(invited.url).content.decode()
    assert f'href="/rsvp/{invited.token}/plan"' in html


def test_the_plan_shows_the_checklist_the_costs_and_the_comments(browser, invited):
    bo = PersonFactory(workspace=invited.event.workspace, name="Bo Berg")
    Attendee.objects.create(event=invited.event, person=bo)
    checklist.task_create(event=invited.event, data={"title": "Chairs"})
    services.expense_create(
        event=invited.event,
        actor=None,
        data={
            "description": "Wine",
            "amount": "30.00",
            "paid_by": str(bo.id),
            "participants": [{"person": str(invited.attendee.person_id)}, {"person": str(bo.id)}],
        },
    )
    thread.comment_post(event=invited.event, body="Can't wait <b>!</b>", person=bo)
    response = browser.get(plan_url(invited))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Chairs" in html
    assert "You owe 15.00 EUR." in html
    assert "Ana Lima pays Bo Berg 15.00 EUR" in html
    assert "Can&#x27;t wait &lt;b&gt;!&lt;/b&gt;" in html  # escaped, never markup
    assert "<style" not in html
    assert " style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert "no-store" in response["Cache-Control"]


def test_a_guest_brings_something_signs_up_and_comments(browser, invited):
    response = post(browser, invited, "/bring", {"title": "A salad"})
    assert response.status_code == 303
    task = Task.objects.get(title="A salad")
    assert (task.kind, task.assignee_id, task.created_by_guest_id) == (
        "bring",
        invited.attendee.person_id,
        invited.attendee.person_id,
    )
    open_item = checklist.task_create(event=invited.event, data={"title": "Ice"})
    assert post(browser, invited, f"/tasks/{open_item.id}/sign-up").status_code == 303
    open_item.refresh_from_db()
    assert open_item.assignee_id == invited.attendee.person_id

    assert post(browser, invited, "/comments", {"body": "See you!"}).status_code == 303
    comment = Comment.objects.get()
    assert comment.author_person_id == invited.attendee.person_id
    html = browser.get(plan_url(invited)).content.decode()
    assert "See you!" in html
    assert "Ana Lima" in html
    assert post(browser, invited, f"/comments/{comment.id}/delete").status_code == 303
    assert Comment.objects.count() == 0


@pytest.mark.parametrize(("path", "data"), [("/bring", {"title": ""}), ("/comments", {"body": "  "})])
def test_empty_forms_are_answered_with_the_page_and_nothing_is_written(browser, invited, path, data):
    response = post(browser, invited, path, data)
    assert response.status_code == 400
    assert 'class="errorlist"' in response.content.decode()
    assert Task.objects.count() == 0
    assert Comment.objects.count() == 0


def test_forms_need_the_csrf_token(browser, invited):
    response = browser.post(f"{plan_url(invited)}/comments", {"body": "Hi"})
    assert response.status_code == 403
    assert Comment.objects.count() == 0


def test_a_guest_never_reaches_another_event_s_items(browser, invited):
    other = GatheringFactory(workspace=invited.event.workspace, title="Secret retreat")
    stranger = PersonFactory(workspace=invited.event.workspace, name="Zed Stranger")
    Attendee.objects.create(event=other, person=stranger)
    other_task = checklist.task_create(event=other, data={"title": "Secret item"})
    other_comment = thread.comment_post(event=other, body="Secret words", person=stranger)

    html = browser.get(plan_url(invited)).content.decode()
    assert "Secret" not in html
    assert post(browser, invited, f"/tasks/{other_task.id}/sign-up").status_code == 404
    assert post(browser, invited, f"/comments/{other_comment.id}/delete").status_code == 404
    other_task.refresh_from_db()
    assert other_task.assignee_id is None
    assert Comment.objects.filter(pk=other_comment.pk).exists()


def test_another_guest_s_comment_cannot_be_deleted(browser, invited):
    bo = PersonFactory(workspace=invited.event.workspace)
    Attendee.objects.create(event=invited.event, person=bo)
    comment = thread.comment_post(event=invited.event, body="Mine", person=bo)
    assert post(browser, invited, f"/comments/{comment.id}/delete").status_code == 404
    assert Comment.objects.filter(pk=comment.pk).exists()


def test_a_taken_item_is_refused_with_a_page(browser, invited):
    bo = PersonFactory(workspace=invited.event.workspace)
    Attendee.objects.create(event=invited.event, person=bo)
    task = checklist.task_create(event=invited.event, data={"title": "Cake", "assignee": str(bo.id)})
    response = post(browser, invited, f"/tasks/{task.id}/sign-up")
    assert response.status_code == 409
    task.refresh_from_db()
    assert task.assignee_id == bo.id


@pytest.mark.parametrize("token", ["x" * 43, "not-a-token", "a"])
def test_bad_links_get_a_friendly_404(browser, invited, token):
    response = browser.get(f"/rsvp/{token}/plan")
    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()


def test_a_cancelled_gathering_s_plan_is_gone(browser, invited):
    from events.services import event_cancel

    event_cancel(event=invited.event)
    assert browser.get(plan_url(invited)).status_code == 410


def test_a_revoked_link_cannot_comment(browser, invited):
    page = browser.get(plan_url(invited))
    attendee_rsvp_token_issue(attendee=invited.attendee)  # the link was replaced
    response = browser.post(f"{plan_url(invited)}/comments", {"csrfmiddlewaretoken": csrf_token_of(page), "body": "x"})
    assert response.status_code == 404
    assert Comment.objects.count() == 0


def test_the_plan_is_in_german_for_a_german_guest(browser, invited):
    person = invited.attendee.person
    person.language = "de"
    person.save()
    html = browser.get(plan_url(invited)).content.decode()
    assert "Checkliste" in html
    assert "Gemeinsame Kosten" in html


def test_a_guest_uploads_a_photo_and_sees_it_without_its_location(browser, invited, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    image = io.BytesIO()
    exif = Image.Exif()
    exif.get_ifd(0x8825)[2] = (52.0, 31.0, 12.0)
    Image.new("RGB", (64, 48), (10, 120, 10)).save(image, format="JPEG", exif=exif)
    page = browser.get(plan_url(invited))
    response = browser.post(
        f"{plan_url(invited)}/files",
        {"csrfmiddlewaretoken": csrf_token_of(page), "file": SimpleUploadedFile("me.jpg", image.getvalue())},
    )
    assert response.status_code == 303
    record = EventFile.objects.get()
    assert record.uploaded_by_person_id == invited.attendee.person_id
    with record.file.open("rb") as stored, Image.open(stored) as saved:
        assert not saved.getexif().get_ifd(0x8825)
    html = browser.get(plan_url(invited)).content.decode()
    thumbnail = re.search(r'<img src="(/gathering-files/[^"]+)"', html)
    assert thumbnail is not None
    assert browser.get(thumbnail.group(1)).status_code == 200


def test_a_guest_upload_of_the_wrong_type_is_answered_with_the_page(browser, invited, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    page = browser.get(plan_url(invited))
    response = browser.post(
        f"{plan_url(invited)}/files",
        {"csrfmiddlewaretoken": csrf_token_of(page), "file": SimpleUploadedFile("a.jpg", b"<svg onload=x>")},
    )
    assert response.status_code == 400
    assert "Upload a photo" in response.content.decode()
    assert EventFile.objects.count() == 0


def test_a_guest_edits_their_own_comment_only(browser, invited):
    mine = thread.comment_post(event=invited.event, body="Arriving at 7", person=invited.attendee.person)
    bo = PersonFactory(workspace=invited.event.workspace)
    Attendee.objects.create(event=invited.event, person=bo)
    theirs = thread.comment_post(event=invited.event, body="Bo's words", person=bo)
    assert post(browser, invited, f"/comments/{mine.id}/edit", {"body": "Arriving at 8"}).status_code == 303
    mine.refresh_from_db()
    assert (mine.body, mine.edited_at is not None) == ("Arriving at 8", True)
    assert post(browser, invited, f"/comments/{theirs.id}/edit", {"body": "Changed"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.body == "Bo's words"
    assert post(browser, invited, f"/comments/{mine.id}/edit", {"body": ""}).status_code == 400
    mine.refresh_from_db()
    assert mine.body == "Arriving at 8"
