"""People's pages, mounted at the site root."""

from django.urls import path

from pages import accounts, cards, gatherings, invitations, preferences, rsvp

urlpatterns = [
    path("rsvp/<str:token>", rsvp.RsvpNegotiatedView.as_view(), name="rsvp"),
    path("rsvp/<str:token>/event.ics", rsvp.rsvp_event_ics, name="rsvp-event-ics"),
    path("rsvp/<str:token>/poll", rsvp.RsvpPollNegotiatedView.as_view(), name="rsvp-poll"),
    path("rsvp/<str:token>/plan", gatherings.plan, name="gathering-plan"),
    path("rsvp/<str:token>/plan/bring", gatherings.bring, name="gathering-plan-bring"),
    path("rsvp/<str:token>/plan/tasks/<str:task_id>/sign-up", gatherings.sign_up, name="gathering-plan-sign-up"),
    path("rsvp/<str:token>/plan/comments", gatherings.comment, name="gathering-plan-comment"),
    path("rsvp/<str:token>/plan/files", gatherings.upload, name="gathering-plan-upload"),
    path(
        "rsvp/<str:token>/plan/comments/<str:comment_id>/edit",
        gatherings.comment_edit,
        name="gathering-plan-comment-edit",
    ),
    path(
        "rsvp/<str:token>/plan/comments/<str:comment_id>/delete",
        gatherings.comment_delete,
        name="gathering-plan-comment-delete",
    ),
    path("cards/<str:token>", cards.wish, name="card-wish"),
    path("account/reset/<str:uid>/<str:token>", accounts.password_reset, name="password-reset"),
    path("account/forgot", accounts.password_forgot, name="password-forgot"),
    path("account/verify/<str:token>", accounts.email_verify, name="email-verify"),
    path("invitations/<str:token>", invitations.invitation, name="invitation"),
    path("preferences/<uuid:person_id>/<str:token>", preferences.preferences, name="preferences"),
    path(
        "preferences/<uuid:person_id>/<str:token>/unsubscribe", preferences.unsubscribe, name="preferences-unsubscribe"
    ),
]
