"""Advance alerts and the group card's delivery, planned from the daily digest's occurrence.

On local day D the digest occurrence of a workspace with ``alert_days`` N also plans:

- **advance alerts** for the celebrations announced on D+N (the digest's own rules: Feb 29,
  weekend/holiday shifts, consent, public/private/off), one per celebration and recipient,
  to the workspace's chosen members (``cards.selectors.alert_recipients_for``) — never to
  the celebrated person. The key is the digest reminder, the celebration's day, kind and
  person, and the recipient (not D): a rerun, a retry or a changed N never alerts twice.
  With the group card on, the alert carries the recipient's own signed link to the wish page;
- **the group card** of each celebration announced on D that has wishes: the celebrated
  person's own copy (their own channel) and, for a public celebration, a post to the team's
  Slack channel. Wishes close when D begins, so the text a rerun plans is the text sent.

Private celebrations (greeted by DM only) get neither: the team is not told about them. Only the
firing of an occurrence whose local day has begun plans them (``Planner(prep=True)``): previews,
dry runs, extra copies and runs for a later date leave them out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone as dj_timezone
from django.utils import translation
from django.utils.translation import gettext, ngettext

from birthdaybuddy.i18n import day_text, language_of, moved_text
from birthdaybuddy.timerules.recurrence import Occurrence as Slot
from cards.blocks import alert_blocks
from cards.links import CardRef, card_token, wish_page_url
from cards.models import Wish
from cards.selectors import alert_recipients_for, prep_settings_for, wishes_for
from notifications.models import ChannelConfig, NotificationStatus
from notifications.rendering import Rendered, slack_escape, slack_mention
from notifications.routing import person_destination, route_person
from notifications.threads import thread_reply
from reminders.models import Reminder
from scheduling.digest import Celebration, Celebrations, celebrations_for
from scheduling.models import GreetingSchedule
from scheduling.planned import WEBHOOK_RECIPIENT, PlannedMessage, idempotency_key, planned_notification
from scheduling.recipients import chat_webhook_channels, skip_recipient, slack_recipient
from workspaces.birthdays import workspace_today
from workspaces.models import Channel, Person

# Alerts go by Slack DM where the bot reaches the recipient, else by email.
ALERT_CHANNELS: list[str] = [Channel.SLACK, Channel.EMAIL]


def alert_key(*, reminder: Reminder, celebration: Celebration, day, channel: str, recipient: str) -> str:
    recipient_hash = hashlib.sha256(recipient.lower().encode()).hexdigest()[:24]
    person = celebration.person.pk
    return f"{reminder.pk}:alert:{day:%Y%m%d}:{celebration.kind}:{person}:{channel}:{recipient_hash}"


class PrepPlanner:
    """Plans the alerts and cards of a batch of digest occurrences from data read once for the batch.

    Reads the batch's prep settings (one query); only when a workspace has them: who celebrates
    N days ahead, the alert recipients, the channel configs and the day's wishes.
    """

    def __init__(self, digests: Sequence[tuple[Reminder, Slot]], celebrations: dict):
        # Only days that have begun: a run for a later date (an admin's "run now") must not hand
        # out a card before its day, nor alerts the tick sends when the day comes.
        now = dj_timezone.now()
        digests = [(r, slot) for r, slot in digests if slot.local_date <= workspace_today(r.workspace, now=now)]
        self.prep = (
            prep_settings_for(workspace_ids={reminder.workspace_id for reminder, _ in digests}) if digests else {}
        )
        self.ahead: dict = {}
        self.recipients: dict = {}
        self.wishes: dict = {}
        self.configs: dict = {}
        if not self.prep:
            return
        ahead_pairs = [
            (reminder.workspace, self.alert_day(reminder, slot))
            for reminder, slot in digests
            if reminder.workspace_id in self.prep and self.prep[reminder.workspace_id].alert_days
        ]
        self.ahead = celebrations_for(pairs=ahead_pairs) if ahead_pairs else {}
        if any(self.ahead.values()):
            self.recipients = alert_recipients_for(prep=self.prep)
        card_days = [
            (reminder.workspace_id, slot.local_date)
            for reminder, slot in digests
            if reminder.workspace_id in self.prep and celebrations.get((reminder.workspace_id, slot.local_date))
        ]
        self.wishes = wishes_for(days=card_days)
        # A person greeted at their own time gets their card with the greeting, not before.
        self.greeted_at: dict = {}
        if self.wishes:
            rows = GreetingSchedule.objects.filter(
                person_id__in={person_id for person_id, _, _ in self.wishes}, workspace__greet_in_own_zone=True
            ).values_list("person_id", "local_date", "next_run_at")
            self.greeted_at = {(person_id, day): at for person_id, day, at in rows}
        busy = {key[0] for key, found in self.ahead.items() if found} | {ws for ws, _ in card_days}
        for config in ChannelConfig.objects.filter(workspace_id__in=busy, active=True):
            self.configs.setdefault(config.workspace_id, {})[config.kind] = config

    def alert_day(self, reminder: Reminder, slot: Slot):
        return slot.local_date + timedelta(days=self.prep[reminder.workspace_id].alert_days)

    def plan(
        self, *, reminder: Reminder, slot: Slot, celebrations: Celebrations, digest_keys: frozenset | set = frozenset()
    ) -> list[PlannedMessage]:
        """``digest_keys``: the keys of the day's digest messages; the team's card is posted in the
        thread of the digest's Slack post when that post is among them."""
        prep = self.prep.get(reminder.workspace_id)
        if prep is None:
            return []
        planned: list[PlannedMessage] = []
        if prep.alert_days:
            ahead = self.ahead.get((reminder.workspace_id, self.alert_day(reminder, slot)))
            if ahead:
                planned += self._alerts(reminder=reminder, slot=slot, ahead=ahead, with_card=prep.group_card)
        if celebrations:
            planned += self._cards(reminder=reminder, slot=slot, celebrations=celebrations, digest_keys=digest_keys)
        return planned

    def _alerts(self, *, reminder: Reminder, slot: Slot, ahead: Celebrations, with_card: bool) -> list[PlannedMessage]:
        workspace = reminder.workspace
        configs = self.configs.get(workspace.pk, {})
        recipients = self.recipients.get(workspace.pk, [])
        planned = []
        secret_until = datetime.combine(ahead.day + timedelta(days=1), time.min, tzinfo=ZoneInfo(workspace.timezone))
        for celebration in (*ahead.birthdays, *ahead.anniversaries):
            if celebration.private:
                continue
            ref = CardRef(
                workspace_id=workspace.pk, person_id=celebration.person.pk, kind=celebration.kind, day=ahead.day
            )
            for recipient in recipients:
                if recipient.pk == celebration.person.pk:
                    continue  # surprise-safe: never told about their own celebration
                route = route_person(recipient, ALERT_CHANNELS, configs)
                address = route.address or skip_recipient(recipient)
                url = wish_page_url(ref, author_id=recipient.pk) if with_card else ""
                language = language_of(person=recipient, workspace=workspace)
                rendered = alert_text(
                    celebration=celebration,
                    day=ahead.day,
                    today=slot.local_date,
                    url=url,
                    channel=route.channel,
                    language=language,
                )
                notification = planned_notification(
                    reminder=reminder,
                    slot=slot,
                    purpose="alert",
                    channel=route.channel,
                    recipient=address,
                    person=recipient,
                    rendered=rendered,
                )
                notification.idempotency_key = alert_key(
                    reminder=reminder, celebration=celebration, day=ahead.day, channel=route.channel, recipient=address
                )
                # Out of the celebrated person's view of the history until their day is over.
                notification.about_person = celebration.person
                notification.secret_until = secret_until
                if with_card and route.channel == Channel.SLACK and not rendered.failure:
                    # The button opens the wish modal (Slack says who clicked: the token names only the card).
                    with translation.override(language):
                        notification.blocks = alert_blocks(text=rendered.body, token=card_token(ref))
                if not route.address:
                    notification.status = NotificationStatus.SKIPPED
                    notification.last_error = route.reason
                planned.append(PlannedMessage(notification=notification))
        return planned

    def _cards(
        self, *, reminder: Reminder, slot: Slot, celebrations: Celebrations, digest_keys: frozenset | set
    ) -> list[PlannedMessage]:
        workspace = reminder.workspace
        configs = self.configs.get(workspace.pk, {})
        planned = []

        def add(*, purpose: str, channel: str, recipient: str, person: Person | None, rendered: Rendered):
            notification = planned_notification(
                reminder=reminder,
                slot=slot,
                purpose=purpose,
                channel=channel,
                recipient=recipient,
                person=person,
                rendered=rendered,
            )
            planned.append(PlannedMessage(notification=notification))
            return notification

        for celebration in (*celebrations.birthdays, *celebrations.anniversaries):
            person = celebration.person
            wishes = self.wishes.get((person.pk, celebration.kind, celebrations.day))
            if not wishes or celebration.private:
                continue
            purpose = f"card-{celebration.kind}-{person.pk}"
            destination = person_destination(person, configs)
            if destination is not None:
                channel, address = destination
                language = language_of(person=person, workspace=workspace)
                rendered = card_text(
                    celebration=celebration,
                    wishes=wishes,
                    channel=channel,
                    language=language,
                    own=True,
                    workspace_name=workspace.name,
                )
                own = add(purpose=purpose, channel=channel, recipient=address, person=person, rendered=rendered)
                # (A row that moved on already greeted them, e.g. east of here: the card goes now.)
                greeted_at = self.greeted_at.get((person.pk, celebrations.day))
                if greeted_at is not None and greeted_at > slot.at:
                    own.next_attempt_at = greeted_at  # sent with their greeting (the sweeper brings it)
            channels = reminder.channels or [Channel.SLACK, Channel.EMAIL]
            team = slack_recipient(configs.get(Channel.SLACK)) if Channel.SLACK in channels else None
            if team:
                rendered = card_text(
                    celebration=celebration,
                    wishes=wishes,
                    channel=Channel.SLACK,
                    language=language_of(workspace=workspace),
                    own=False,
                    workspace_name=workspace.name,
                )
                post = add(purpose=purpose, channel=Channel.SLACK, recipient=team, person=None, rendered=rendered)
                # Under the day's digest post (its thread, or a plain post when it has none: threads.py).
                parent = idempotency_key(
                    reminder=reminder, slot=slot, purpose="digest", channel=Channel.SLACK, recipient=team
                )
                if parent in digest_keys:
                    thread_reply(parent=parent, reply=post)
            # And in each team chat the digest posts to (Teams, Google Chat: plain names, no thread).
            for chat in chat_webhook_channels(reminder.channels, configs, configured_only=True):
                rendered = card_text(
                    celebration=celebration,
                    wishes=wishes,
                    channel=chat,
                    language=language_of(workspace=workspace),
                    own=False,
                    workspace_name=workspace.name,
                )
                add(purpose=purpose, channel=chat, recipient=WEBHOOK_RECIPIENT, person=None, rendered=rendered)
        return planned


def _escaped(text: str, channel: str) -> str:
    return slack_escape(text) if channel == Channel.SLACK else text


def _what(celebration: Celebration, name: str) -> str:
    if celebration.kind == "birthday":
        if celebration.years:
            return gettext("%(name)s's birthday (turning %(age)s)") % {"name": name, "age": celebration.years}
        return gettext("%(name)s's birthday") % {"name": name}
    return ngettext(
        "%(name)s's work anniversary (%(years)s year)",
        "%(name)s's work anniversary (%(years)s years)",
        celebration.years or 0,
    ) % {"name": name, "years": celebration.years}


def alert_text(*, celebration: Celebration, day, today, url: str, channel: str, language: str) -> Rendered:
    """The advance alert: who, when (and the real day when announced on another), the card's link."""
    with translation.override(language):
        name = _escaped(celebration.person.name, channel)
        what = _what(celebration, name)
        when = str(day_text(day))
        if celebration.on and celebration.on != day:
            when = gettext("%(day)s (the day itself is %(real)s)") % {
                "day": when,
                "real": str(moved_text(celebration.on, announced=day)),
            }
        days = (day - today).days
        subject = gettext("Coming up: %(what)s on %(when)s") % {"what": what, "when": when}
        lines = [
            ngettext(
                "Heads-up: %(what)s is announced on %(when)s, in %(days)s day.",
                "Heads-up: %(what)s is announced on %(when)s, in %(days)s days.",
                days,
            )
            % {"what": what, "when": when, "days": days},
            gettext("%(name)s does not receive this message; please keep the surprise.") % {"name": name},
        ]
        if url:
            label = gettext("Add your wishes to the group card")
            lines.append(f"<{url}|{label}>" if channel == Channel.SLACK else f"{label}: {url}")
            lines.append(gettext("The team's wishes are delivered together on the day; nobody reads them before."))
        return Rendered(subject=subject[:200], body="\n\n".join(lines))


def _wish_lines(wishes: list[Wish], channel: str) -> str:
    return "\n".join(f"• {_escaped(wish.text, channel)} — {_escaped(wish.author.name, channel)}" for wish in wishes)


def card_text(
    *, celebration: Celebration, wishes: list[Wish], channel: str, language: str, own: bool, workspace_name: str
) -> Rendered:
    """The group card: to the celebrated person (``own``), or posted for the team."""
    with translation.override(language):
        if own:
            name = _escaped(celebration.person.name, channel)
            subject = gettext("Your group card from %(workspace)s") % {"workspace": workspace_name}
            intro = gettext("%(name)s, your team wrote you a card:") % {"name": name}
        else:
            mention = slack_mention(celebration.person.slack_user_id) if channel == Channel.SLACK else None
            name = mention or _escaped(celebration.person.name, channel)
            subject = gettext("The team's card for %(name)s") % {"name": celebration.person.name}
            intro = gettext("The team's card for %(name)s:") % {"name": name}
        return Rendered(subject=subject[:200], body=f"{intro}\n{_wish_lines(wishes, channel)}")
