"""``{% gathering_plan_url as url %}`` on the RSVP page: the guest's plan page, if the event is a gathering."""

from django import template
from django.urls import reverse

from events import selectors
from events.models import EventKind

register = template.Library()


@register.simple_tag(takes_context=True)
def gathering_plan_url(context) -> str:
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    token = match.kwargs.get("token") if match is not None else None
    if not token:
        return ""
    attendee = selectors.attendee_for_rsvp_token(token=token)
    if attendee is None or attendee.event.kind != EventKind.GATHERING or attendee.event.is_cancelled:
        return ""
    return reverse("gathering-plan", kwargs={"token": token})
