"""Block Kit for the Slack messages we send: the daily digest (one post, or a thread) and short texts.

Plain data in, plain data out (lists of block dicts, stored on the notification with its
text). The text (``Notification.body``) is always sent too: Slack shows it in notifications
and screen readers read it, so it is the whole message, never a stub.

Slack's limits are kept here, and a digest degrades instead of failing: at most 50 blocks a
message, 3,000 characters of section text, 150 of a header. Up to 48 celebrations get a
section each (with the header and the context line); more are grouped, one per line, into as
few sections as fit; if even those would pass 48, the last says how many more there are (the
text fallback still names everyone). A line is never cut inside an entity or a mention.

Data is escaped for Slack (``&``, ``<``, ``>``) as in the text: names, the workspace's name;
a mention is only ever built from a stored Slack user id (``rendering.slack_mention``) and
passed through as :class:`~notifications.rendering.ChannelText`. Header text is plain text
(Slack shows it as written, entities included), so it holds our words only, never data.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from notifications.rendering import ChannelText, slack_escape

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
MAX_CONTEXT_CHARS = 2000


def cut(text: str, limit: int) -> str:
    """``text`` in at most ``limit`` characters, ending in "…" when cut — never inside an entity
    (``&amp;``) or a mention/link (``<@U…>``), which would show as broken markup."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    for opener, closer in (("&", ";"), ("<", ">")):
        at = head.rfind(opener)
        if at > head.rfind(closer):
            head = head[:at]
    return head + "…"


def header(text: str) -> dict:
    return {"type": "header", "text": {"type": "plain_text", "text": cut(text, MAX_HEADER_CHARS), "emoji": True}}


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, MAX_SECTION_CHARS)}}


def context_line(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(text, MAX_CONTEXT_CHARS)}]}


def sections(lines: list[str], *, room: int) -> list[dict]:
    """One section per line while they fit in ``room`` blocks; else lines grouped into sections
    of up to 3,000 characters; past ``room`` sections, the last one says how many more there are."""
    lines = [cut(line, MAX_SECTION_CHARS) for line in lines if line]
    if len(lines) <= room:
        return [section(line) for line in lines]
    groups: list[list[str]] = [[]]
    size = 0
    for line in lines:
        if groups[-1] and size + 1 + len(line) > MAX_SECTION_CHARS:
            groups.append([])
            size = 0
        size += len(line) + (1 if groups[-1] else 0)
        groups[-1].append(line)
    if len(groups) > room:
        kept = groups[: room - 1]
        left = len(lines) - sum(len(group) for group in kept)
        more = ngettext("…and %(count)s more.", "…and %(count)s more.", left) % {"count": left}
        return [section("\n".join(group)) for group in kept] + [section(more)]
    return [section("\n".join(group)) for group in groups]


def _name(item: dict) -> str:
    mention = item.get("mention")
    if isinstance(mention, ChannelText):
        return mention
    return slack_escape(str(mention or item.get("name") or ""))


def celebration_line(item: dict, *, kind: str, workspace_name: str) -> str:
    """One celebration in Slack's markup: who (a mention when known), age or years when shown,
    the milestone, and "(on Saturday)" when it is announced on another day."""
    name = _name(item)
    if kind == "birthday":
        age = item.get("age")
        line = _("🎂 %(name)s turns %(age)s!") % {"name": name, "age": age} if age else None
        line = line or _("🎂 Happy birthday, %(name)s!") % {"name": name}
    else:
        years = item.get("years") or 0
        line = ngettext(
            "🎉 %(name)s: %(years)s year at %(workspace)s",
            "🎉 %(name)s: %(years)s years at %(workspace)s",
            years,
        ) % {"name": name, "years": years, "workspace": slack_escape(workspace_name)}
        if item.get("milestone"):
            line = f"{line} · *{_('Milestone!')}*"
    when = item.get("when")
    if when:
        line = f"{line} ({slack_escape(str(when))})"
    return line


def digest_lines(context: dict) -> list[str]:
    """The digest's celebrations, birthdays first, each as one line (see :func:`celebration_line`)."""
    workspace_name = str((context.get("workspace") or {}).get("name") or "")
    return [
        celebration_line(item, kind=kind, workspace_name=workspace_name)
        for kind, items in (("birthday", context.get("birthdays") or []), ("anniversary", _anniversaries(context)))
        for item in items
    ]


def _anniversaries(context: dict) -> list[dict]:
    # The text's order: most years first.
    return sorted(context.get("anniversaries") or [], key=lambda item: -(item.get("years") or 0))


def _footer(context: dict) -> dict:
    workspace_name = slack_escape(str((context.get("workspace") or {}).get("name") or ""))
    day = str(context.get("date_display") or context.get("date") or "")
    return context_line(" · ".join(part for part in (day, workspace_name) if part))


def digest_blocks(*, context: dict, override_text: str | None = None) -> list[dict]:
    """The one-post digest: a header, a section per celebration (grouped when there are many),
    and a context line (the day, the workspace).

    A workspace's template override is the team's own wording for the whole digest: its
    rendered text becomes the body (split into sections at line ends) in place of ours, so what
    the admin wrote is what the channel reads, in the blocks as in the text.
    """
    lines = _chunks(override_text) if override_text else digest_lines(context)
    body = sections(lines, room=MAX_BLOCKS - 2)
    return [header(_("🎉 Celebrations today")), *body, _footer(context)]


def _chunks(text: str) -> list[str]:
    """Text in pieces of at most 3,000 characters, split at line ends where possible."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= MAX_SECTION_CHARS:
            current = candidate
            continue
        if current:
            chunks.append(current)
        current = line
    if current.strip():
        chunks.append(current)
    return chunks


def digest_count(context: dict) -> int:
    return len(context.get("birthdays") or []) + len(context.get("anniversaries") or [])


def digest_parent(*, context: dict, override_text: str | None = None) -> tuple[str, list[dict]]:
    """The threaded digest's parent post: ("3 celebrations today", its blocks).

    With a template override the parent carries the override's text (the team's wording), and
    the replies list each celebration as always.
    """
    count = digest_count(context)
    summary = ngettext("%(count)s celebration today", "%(count)s celebrations today", count) % {"count": count}
    text = override_text or f"🎉 {summary}"
    body = _chunks(override_text) if override_text else [f"{text} · {_('Wishes welcome in the thread 👇')}"]
    return text, [header(f"🎉 {summary}"), *sections(body, room=MAX_BLOCKS - 2), _footer(context)]


def text_blocks(text: str) -> list[dict]:
    """A short message (a thread reply, a greeting) as sections of its own text."""
    return sections(_chunks(text), room=MAX_BLOCKS)
