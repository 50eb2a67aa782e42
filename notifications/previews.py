"""A kind and channel's message rendered with sample data: every variant a message may use.

The workspace's own variants (in the order messages choose among them), else the shipped set;
a draft (``body`` given, not saved) is previewed alone. The first variant is also the answer's
``subject``/``body``, which is what the preview showed before there were variants.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from notifications.models import MessageKind, Template
from notifications.rendering import (
    Rendered,
    TemplateRenderError,
    default_source,
    default_variants,
    render_source,
    sample_context,
    template_errors,
    variants_in_order,
    with_image,
)
from workspaces.models import Channel

WORKSPACE, SHIPPED, DRAFT = "workspace", "shipped", "draft"


@dataclass(frozen=True)
class VariantPreview:
    """One variant with sample data. ``label``: the workspace variant's own (may be blank),
    "shipped 1", "shipped 2" … for the shipped set, "draft" for a draft; ``id``: the workspace
    variant's (``Template``), None otherwise."""

    label: str
    source: str
    id: uuid.UUID | None
    subject: str
    body: str
    image_url: str = ""
    image_alt: str = ""


@dataclass(frozen=True)
class TemplatePreview:
    variants: tuple[VariantPreview, ...]

    @property
    def subject(self) -> str:
        return self.variants[0].subject

    @property
    def body(self) -> str:
        return self.variants[0].body


def template_preview(
    *, workspace, reminder_kind: str, channel: str, subject: str | None = None, body: str | None = None
) -> TemplatePreview:
    """Sample data rendered with ``body``/``subject`` if a body is given (a draft), else with every
    variant the workspace's messages of this kind and channel choose among (``subject``, if given,
    in place of each one's). Raises ``ValidationError`` (a 400) for an unknown kind or channel and
    for a draft or variant that does not render."""
    if reminder_kind not in MessageKind.values or channel not in Channel.values:
        raise ValidationError(template_errors(reminder_kind=reminder_kind, channel=channel, subject="", body="x"))
    context = sample_context(workspace_name=workspace.name, reminder_kind=reminder_kind)
    first_subject = default_source(reminder_kind=reminder_kind, channel=channel)[0]
    if body is not None:
        errors = template_errors(reminder_kind=reminder_kind, channel=channel, subject=subject or "", body=body)
        if errors:
            raise ValidationError(errors)
        draft = _render(
            subject=first_subject if subject is None else subject, body=body, channel=channel, context=context
        )
        return TemplatePreview(variants=(_preview(draft, label=DRAFT, source=DRAFT),))
    stored = list(variants_in_order(workspace=workspace, reminder_kind=reminder_kind, channel=channel))
    if stored:
        return TemplatePreview(
            variants=tuple(
                _preview(
                    with_image(
                        _render(
                            # A variant without a subject takes the shipped one, as a message does.
                            subject=(template.subject or first_subject) if subject is None else subject,
                            body=template.body,
                            channel=channel,
                            context=context,
                        ),
                        template,
                    ),
                    label=template.label,
                    source=WORKSPACE,
                    template=template,
                )
                for template in stored
            )
        )
    return TemplatePreview(
        variants=tuple(
            _preview(
                _render(
                    subject=shipped_subject if subject is None else subject,
                    body=shipped_body,
                    channel=channel,
                    context=context,
                ),
                label=f"shipped {number}",
                source=SHIPPED,
            )
            for number, (shipped_subject, shipped_body) in enumerate(
                default_variants(reminder_kind=reminder_kind, channel=channel), start=1
            )
        )
    )


def _render(*, subject: str, body: str, channel: str, context: dict) -> Rendered:
    try:
        return render_source(subject=subject, body=body, channel=channel, context=context)
    except TemplateRenderError as exc:
        raise ValidationError({exc.field: [exc.message]}) from exc


def _preview(rendered: Rendered, *, label: str, source: str, template: Template | None = None) -> VariantPreview:
    return VariantPreview(
        label=label,
        source=source,
        id=template.pk if template is not None else None,
        subject=rendered.subject,
        body=rendered.body,
        image_url=rendered.image_url,
        image_alt=rendered.image_alt,
    )
