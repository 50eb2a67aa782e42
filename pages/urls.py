"""People's pages, mounted at the site root."""

from django.urls import path

from pages import accounts, invitations, preferences, rsvp

urlpatterns = [
    path("rsvp/<str:token>", rsvp.RsvpNegotiatedView.as_view(), name="rsvp"),
    path("rsvp/<str:token>/event.ics", rsvp.rsvp_event_ics, name="rsvp-event-ics"),
    path("rsvp/<str:token>/poll", rsvp.RsvpPollNegotiatedView.as_view(), name="rsvp-poll"),
    path("account/reset/<str:uid>/<str:token>", accounts.password_reset, name="password-reset"),
    path("account/forgot", accounts.password_forgot, name="password-forgot"),
    path("account/verify/<str:token>", accounts.email_verify, name="email-verify"),
    path("invitations/<str:token>", invitations.invitation, name="invitation"),
    path("preferences/<uuid:person_id>/<str:token>", preferences.preferences, name="preferences"),
    path(
        "preferences/<uuid:person_id>/<str:token>/unsubscribe", preferences.unsubscribe, name="preferences-unsubscribe"
    ),
]
