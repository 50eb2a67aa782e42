"""A gathering's plan for a guest, at ``/rsvp/<token>/plan``: the checklist, the shared costs and
the comment thread, reached with the guest's own RSVP link.

The token names the guest (their attendee row) and so the one event they may see: every item
a form names (a task, a comment) is looked up inside that event, so a guest of one gathering
never reaches another's. A GET never writes; each form posts to its own URL and is answered
with a redirect back to the plan (303), or with the plan and the form's errors (400). The
writes are the gatherings services, as for members.
"""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone as dj_timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_http_methods

from birthdaybuddy.errors import ApplicationError
from events import selectors as event_selectors
from events.models import Attendee, EventKind
from events.rsvp import event_is_over
from gatherings import checklist, files, ledger, thread
from gatherings.models import Comment, EventFile, Expense, FileKind, Task, TaskKind
from gatherings.selectors import event_costs
from pages.common import language_for, message_page, page, throttled, too_many_requests

COMMENT_MAX = thread.MAX_BODY


class BringForm(forms.Form):
    title = forms.CharField(
        label=_("I'll bring …"),
        max_length=checklist.MAX_TITLE,
        strip=True,
        error_messages={"required": _("Say what you will bring.")},
        widget=forms.TextInput(attrs={"maxlength": checklist.MAX_TITLE, "autocomplete": "off"}),
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Your comment"),
        max_length=COMMENT_MAX,
        strip=True,
        error_messages={"required": _("Write something.")},
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": COMMENT_MAX}),
    )


def _say(request, *, title: Any, message: Any, status: int, language: str, **extra: Any):
    """A message page; ``title`` and ``message`` are lazy translations, rendered in ``language``."""
    return message_page(request, title=title, message=message, status=status, language=language, **extra)


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("Add a photo or a PDF"),
        error_messages={"required": _("Choose a file."), "empty": _("The file is empty.")},
        widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/gif,image/webp,application/pdf"}),
    )


def _guest(request, token: str):
    """``(attendee, language, refusal)``: the guest, or the page that says why not."""
    attendee = event_selectors.attendee_for_rsvp_token(token=token)
    workspace = attendee.event.workspace if attendee else None
    language = language_for(person=attendee.person if attendee else None, workspace=workspace, request=request)
    if wait := throttled(request, "rsvp", bucket="plan"):
        return None, language, too_many_requests(request, wait, language=language)
    if attendee is None or attendee.event.kind != EventKind.GATHERING:
        return None, language, _not_found(request, language)
    if attendee.event.is_cancelled:
        refusal = _say(
            request,
            title=_("This event was cancelled"),
            message=_("There is nothing more to plan for it."),
            status=410,
            language=language,
        )
        return None, language, refusal
    return attendee, language, None


def _not_found(request, language: str):
    return _say(
        request,
        title=_("This link does not work"),
        message=_(
            "The link is incomplete, or it was replaced by a newer one. Open the whole link from the "
            "latest invitation, or ask the organiser to send it again."
        ),
        status=404,
        language=language,
    )


def _plan_url(token: str) -> str:
    return reverse("gathering-plan", kwargs={"token": token})


def _back(token: str, anchor: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(f"{_plan_url(token)}?saved=1#{anchor}")
    response.status_code = 303  # see other: a reload does not post again
    return response


def _context(attendee: Attendee, token: str, **forms_given) -> dict:
    event = attendee.event
    summary = event_costs(event=event)
    expenses = (
        Expense.objects.filter(event=event)
        .select_related("paid_by")
        .order_by("-created_at", "-id")
        .only("description", "amount_minor", "created_at", "paid_by__name")[:50]
    )
    tasks = Task.objects.filter(event=event).select_related("assignee").order_by("done", "due_on", "created_at", "id")
    comments = (
        Comment.objects.filter(event=event, hidden=False)
        .select_related("author_user", "author_person")
        .order_by("created_at", "id")
    )
    shared = EventFile.objects.filter(event=event).order_by("-created_at", "id")[:60]
    me = attendee.person
    return {
        "workspace_name": event.workspace.name,
        "event_title": event.title,
        "name": me.name,
        "token": token,
        "plan_url": _plan_url(token),
        "rsvp_url": reverse("rsvp", kwargs={"token": token}),
        "over": event_is_over(event, now=dj_timezone.now()),
        "costs": summary,
        "my_balance": next((row for row in summary.participants if row["person"] == me.pk), None),
        "expenses": [
            {
                "description": expense.description,
                "amount": ledger.to_major(expense.amount_minor, currency=summary.currency),
                "paid_by": expense.paid_by.name,
            }
            for expense in expenses
        ],
        "tasks": [
            {
                "id": task.id,
                "title": task.title,
                "bring": task.kind == TaskKind.BRING,
                "assignee": task.assignee.name if task.assignee else "",
                "mine": task.assignee_id == me.pk,
                "open": task.assignee_id is None and not task.done,
                "due_on": task.due_on,
                "done": task.done,
            }
            for task in tasks
        ],
        "comments": [
            {
                "id": comment.id,
                "author": thread.author_name(comment),
                "body": comment.body,
                "created_at": comment.created_at,
                "edited": comment.edited_at is not None,
                "mine": comment.author_person_id == me.pk,
            }
            for comment in comments
        ],
        "files": [
            {
                "id": record.id,
                "name": record.name,
                "image": record.kind == FileKind.IMAGE,
                "url": files.signed_url(record),
                "thumbnail_url": files.signed_url(record, variant="thumbnail") if record.thumbnail else "",
                "width": record.width,
                "height": record.height,
            }
            for record in shared
        ],
        "upload_form": forms_given.get("upload_form") or UploadForm(),
        "bring_form": forms_given.get("bring_form") or BringForm(),
        "comment_form": forms_given.get("comment_form") or CommentForm(),
        "comment_max": COMMENT_MAX,
    }


def _render(request, attendee: Attendee, token: str, language: str, *, status: int = 200, **forms_given):
    context = _context(attendee, token, **forms_given)
    context["saved"] = request.method == "GET" and request.GET.get("saved") == "1"
    return page(
        request,
        "pages/gathering_plan.html",
        context,
        status=status,
        language=language,
        time_zone=attendee.event.workspace.timezone,
    )


def _refused(request, attendee, token, language, exc: ApplicationError):
    if exc.code == "event_cancelled":
        return _say(
            request,
            title=_("This event was cancelled"),
            message=_("There is nothing more to plan for it."),
            status=410,
            language=language,
        )
    return _say(
        request,
        title=_("That did not work"),
        message=_("Someone else has already signed up for this, or it is already done."),
        status=exc.status_code if 400 <= exc.status_code < 500 else 409,
        language=language,
        link_url=_plan_url(token),
        link_text=_("Back to the plan"),
    )


def _submit(request, attendee, token, language, form, save, *, name: str, anchor: str, error_field: str | None = None):
    """Runs ``save(cleaned_data)`` for a valid form (``name``: its name in the page) and goes back to
    the plan at ``anchor``. What the service refuses is shown with the form (400; ``error_field``'s
    errors, or the form's own), or as a page when it refuses the whole action (a cancelled event,
    an item already taken)."""
    if form.is_valid():
        try:
            save(form.cleaned_data)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(error_field, message)
        except ApplicationError as exc:
            return _refused(request, attendee, token, language, exc)
        else:
            return _back(token, anchor)
    return _render(request, attendee, token, language, status=400, **{name: form})


@csrf_protect
@require_http_methods(["GET", "HEAD"])
def plan(request, token: str):
    attendee, language, refusal = _guest(request, token)
    if refusal is not None:
        return refusal
    return _render(request, attendee, token, language)


@csrf_protect
@require_http_methods(["POST"])
def bring(request, token: str):
    """Adds "I'll bring …" to the checklist, signed up to this guest."""
    attendee, language, refusal = _guest(request, token)
    if refusal is not None:
        return refusal

    def save(cleaned):
        data = {"title": cleaned["title"], "kind": TaskKind.BRING, "assignee": str(attendee.person_id)}
        checklist.task_create(event=attendee.event, data=data, guest=attendee.person)

    return _submit(
        request, attendee, token, language, BringForm(request.POST), save, name="bring_form", anchor="checklist"
    )


def _item(model, event, item_id: str):
    try:
        pk = uuid.UUID(item_id)
    except ValueError:
        return None
    return model.objects.filter(event=event, pk=pk).first()


@csrf_protect
@require_http_methods(["POST"])
def sign_up(request, token: str, task_id: str):
    """Takes an open checklist item."""
    attendee, language, refusal = _guest(request, token)
    if refusal is not None:
        return refusal
    task = _item(Task, attendee.event, task_id)
    if task is None:
        return _not_found(request, language)
    try:
        checklist.task_sign_up(task=task, guest=attendee.person)
    except ApplicationError as exc:
        return _refused(request, attendee, token, language, exc)
    return _back(token, "checklist")


@csrf_protect
@require_http_methods(["POST"])
def comment(request, token: str):
    attendee, language, refusal = _guest(request, token)
    if refusal is not None:
        return refusal

    def save(cleaned):
        thread.comment_post(event=attendee.event, body=cleaned["body"], person=attendee.person)

    return _submit(
        request, attendee, token, language, CommentForm(request.POST), save, name="comment_form", anchor="comments"
    )


@csrf_protect
@require_http_methods(["POST"])
def comment_delete(request, token: str, comment_id: str):
    """Deletes the guest's own comment (anyone else's is not theirs to delete: 404)."""
    attendee, language, refusal = _guest(request, token)
    if refusal is not None:
        return refusal
    found = _item(Comment, attendee.event, comment_id)
    if found is None or found.author_person_id != attendee.person_id:
        return _not_found(request, language)
    thread.comment_delete(comment=found, person=attendee.person)
    return _back(token, "comments")


@csrf_protect
@require_http_methods(["POST"])
def upload(request, token: str):
    """Adds a photo or a PDF (checked by content, images re-encoded without their EXIF location)."""
    attendee, language, refusal = _guest(request, token)
    if refusal is not None:
        return refusal

    def save(cleaned):
        files.file_upload(event=attendee.event, upload=cleaned["file"], person=attendee.person)

    form = UploadForm(request.POST, request.FILES)
    return _submit(
        request, attendee, token, language, form, save, name="upload_form", anchor="photos", error_field="file"
    )


@csrf_protect
@require_http_methods(["POST"])
def comment_edit(request, token: str, comment_id: str):
    """Changes the guest's own comment (anyone else's: 404)."""
    attendee, language, refusal = _guest(request, token)
    if refusal is not None:
        return refusal
    found = _item(Comment, attendee.event, comment_id)
    if found is None or found.author_person_id != attendee.person_id:
        return _not_found(request, language)

    def save(cleaned):
        thread.comment_edit(comment=found, body=cleaned["body"], person=attendee.person)

    return _submit(
        request, attendee, token, language, CommentForm(request.POST), save, name="comment_form", anchor="comments"
    )
