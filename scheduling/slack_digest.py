"""The digest's Slack messages: one post with Block Kit, or a short post with a reply per celebration.

The layout is the Slack channel config's ``digest_layout``. Threaded needs the bot (only
``chat.postMessage`` answers the parent's ``ts``): with a webhook the digest is one post.

Keys: the post (or the thread's parent) keeps the purpose ``digest``; each reply is
``digest-reply-<kind>-<person id>`` — what it is, so a rerun of the occurrence writes nothing
twice and a retry never changes a text. Replies wait for their parent
(``notifications.threads``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils import translation

from birthdaybuddy.i18n import language_of
from notifications import blocks
from notifications.models import ChannelConfig, Notification
from notifications.rendering import Rendered
from notifications.threads import thread_reply
from scheduling.digest import Celebrations
from workspaces.models import Channel

# ``add(purpose=…, channel=…, recipient=…, kind=…, context=…, rendered=…)`` of the planner: the
# planned notification it appended.
Add = Callable[..., Notification]


def plan_slack_digest(
    *,
    workspace,
    kind: str,
    celebrations: Celebrations,
    config: ChannelConfig | None,
    recipient: str,
    render: Callable[[dict], Rendered],
    has_override: bool,
    add: Add,
) -> None:
    """Adds the digest's Slack messages to the plan (``render(context)``: the digest's text)."""
    context = celebrations.context(workspace=workspace, mentions=True)
    rendered = render(context)
    override_text = rendered.body if has_override and not rendered.failure else None
    with translation.override(language_of(workspace=workspace)):
        if config is None or not config.digest_threads:
            post = add(purpose="digest", channel=Channel.SLACK, recipient=recipient, kind=kind, rendered=rendered)
            post.blocks = blocks.digest_blocks(context=context, override_text=override_text)
            return
        text, parent_blocks = blocks.digest_parent(context=context, override_text=override_text)
        parent_rendered = rendered if rendered.failure else Rendered(subject="", body=text)
        parent = add(purpose="digest", channel=Channel.SLACK, recipient=recipient, kind=kind, rendered=parent_rendered)
        parent.blocks = parent_blocks
        name = workspace.name
        public = [(c, "birthday") for c in celebrations.birthdays if not c.private]
        anniversaries = [(c, "anniversary") for c in celebrations.anniversaries if not c.private]
        public += sorted(anniversaries, key=lambda pair: -(pair[0].years or 0))  # the text's order
        for celebration, what in public:
            item = celebration.as_context(mentions=True, announced=celebrations.day)
            line = blocks.celebration_line(item, kind=what, workspace_name=name)
            reply = add(
                purpose=f"digest-reply-{what}-{celebration.person.pk}",
                channel=Channel.SLACK,
                recipient=recipient,
                kind=kind,
                rendered=Rendered(subject="", body=line),
            )
            reply.blocks = blocks.text_blocks(line)
            thread_reply(parent=parent, reply=reply)
