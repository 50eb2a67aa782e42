"""Advance alerts and group cards: a workspace's settings, the cards and their wishes.

A card belongs to one celebration: (person, kind, the day it is announced). Its wishes are
written during the prep window (from the advance alert until the day begins) and delivered
together on the day; nobody reads them before.
"""

from __future__ import annotations

import uuid

from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone as dj_timezone

MAX_ALERT_DAYS = 30
MAX_WISH_LENGTH = 1000


class CardKind(models.TextChoices):
    BIRTHDAY = "birthday", "Birthday"
    ANNIVERSARY = "anniversary", "Work anniversary"


class AlertRecipients(models.TextChoices):
    ADMINS = "admins", "Workspace owners and admins"
    CHOSEN = "chosen", "Chosen members"


class PrepSettings(models.Model):
    """How a workspace prepares celebrations: advance alerts N days before, to whom, and the group card.

    A workspace without a row has alerts and cards off (the defaults).
    """

    workspace = models.OneToOneField(
        "workspaces.Workspace", on_delete=models.CASCADE, primary_key=True, related_name="prep_settings"
    )
    alert_days = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(MAX_ALERT_DAYS)],
        help_text="Days before a celebration's announcement that the alert goes out; 0 = no alerts.",
    )
    alert_recipients = models.CharField(max_length=10, choices=AlertRecipients.choices, default=AlertRecipients.ADMINS)
    chosen = models.ManyToManyField(
        "workspaces.Person",
        blank=True,
        related_name="+",
        help_text="The members alerted when alert_recipients is 'chosen' (people linked to a member's account).",
    )
    group_card = models.BooleanField(
        default=False, help_text="Alert recipients add wishes from the alert until the day; delivered on the day."
    )
    updated_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        verbose_name = "advance alerts and group card"
        verbose_name_plural = "advance alerts and group cards"
        constraints = [
            models.CheckConstraint(
                condition=Q(alert_days__lte=MAX_ALERT_DAYS),
                name="cards_prep_alert_days_range",
                violation_error_message=f"Advance alert days must be between 0 and {MAX_ALERT_DAYS}.",
            ),
            models.CheckConstraint(
                condition=Q(group_card=False) | Q(alert_days__gte=1),
                name="cards_prep_card_needs_alert",
                violation_error_message="The group card's prep window starts with the advance alert: set alert days.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.workspace_id}: {self.alert_days} days"


class Card(models.Model):
    """The group card of one celebration: person, kind and the day it is announced (after weekend shifts)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey("workspaces.Person", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=CardKind.choices)
    day = models.DateField(help_text="The local date the celebration is announced and the card delivered.")
    created_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("person", "kind", "day"), name="cards_card_one_per_celebration"),
        ]
        indexes = [models.Index(fields=("workspace", "day"), name="cards_card_workspace_day")]

    def __str__(self) -> str:
        return f"{self.kind} card for {self.person_id} on {self.day}"


class Wish(models.Model):
    """One teammate's wish on a card; its author may change it until the day begins."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="+")
    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="wishes")
    author = models.ForeignKey("workspaces.Person", on_delete=models.CASCADE, related_name="+")
    text = models.TextField(max_length=MAX_WISH_LENGTH)
    created_at = models.DateTimeField(default=dj_timezone.now)
    updated_at = models.DateTimeField(default=dj_timezone.now)

    class Meta:
        verbose_name_plural = "wishes"
        constraints = [
            models.UniqueConstraint(fields=("card", "author"), name="cards_wish_one_per_author"),
            models.CheckConstraint(
                condition=~Q(text=""), name="cards_wish_text_not_empty", violation_error_message="Write a wish."
            ),
        ]

    def __str__(self) -> str:
        return f"wish by {self.author_id}"
