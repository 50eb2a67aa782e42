"""JSON of a gathering's shared costs. Shapes and types are checked here; the money rules in
``gatherings.services`` (which name the field they refuse)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from birthdaybuddy.api.fields import StrictBooleanField, StrictCharField
from events.api.serializers import StrictDateField, StrictUUIDField
from gatherings import ledger
from gatherings.models import Comment, EventFile, Expense, Settlement, SplitMethod, Task, TaskKind
from gatherings.selectors import default_currency

AMOUNT_HELP = (
    "In major units of the event's currency, as a string with at most the currency's decimals "
    '(e.g. `"12.50"` EUR, `"500"` JPY) or an integer. Floats are refused: they cannot hold cents exactly.'
)


@extend_schema_field({"type": "string", "pattern": r"^\d+(\.\d+)?$", "example": "12.50"})
class AmountField(serializers.Field):
    """An amount as text (or an integer), handed to the services unchanged: they know the currency."""

    default_error_messages = {"invalid": 'Write the amount as a string such as "12.50" (or an integer).'}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int)):
            self.fail("invalid")
        return str(data)

    def to_representation(self, value):
        return value


def _currency_of(expense_or_settlement) -> str:
    ledger_row = getattr(expense_or_settlement.event, "cost_ledger", None)
    return ledger_row.currency if ledger_row is not None else default_currency()


class ParticipantInputSerializer(serializers.Serializer):
    person = StrictUUIDField(help_text="A person who attends the event (or its host's person).")
    shares = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=ledger.MAX_SHARES,
        help_text="Split `shares`: this person's shares (default 1).",
    )
    amount = AmountField(required=False, help_text="Split `exact`: this person's part. " + AMOUNT_HELP)


class ExpenseInputSerializer(serializers.Serializer):
    event = StrictUUIDField(help_text="The gathering (create only).")
    description = StrictCharField(max_length=200)
    amount = AmountField(help_text=AMOUNT_HELP)
    currency = StrictCharField(
        required=False, min_length=3, max_length=3, help_text="Optional; if given it must be the event's currency."
    )
    paid_by = StrictUUIDField(help_text="The person who paid (an attendee of the event or its host's person).")
    split = serializers.ChoiceField(choices=SplitMethod.choices, default=SplitMethod.EQUAL)
    participants = ParticipantInputSerializer(
        many=True,
        allow_empty=False,
        help_text="Who shares the expense, in order (the order decides who gets the leftover cents of an "
        "equal split, and breaks ties of a split by shares).",
    )
    spent_on = StrictDateField(required=False, allow_null=True)
    receipt = StrictUUIDField(
        required=False, allow_null=True, help_text="The id of a photo or PDF uploaded to the event (`…/files/`)."
    )


class ExpenseShareSerializer(serializers.Serializer):
    person = serializers.UUIDField(source="person_id")
    shares = serializers.IntegerField(source="weight", allow_null=True)
    amount = serializers.SerializerMethodField()
    amount_minor = serializers.IntegerField()

    def get_amount(self, share) -> str:
        return ledger.to_major(share.amount_minor, currency=self.context["currency"])


class ExpenseSerializer(serializers.ModelSerializer):
    """An expense with its parts (which add up to the amount exactly)."""

    event = serializers.UUIDField(source="event_id")
    paid_by = serializers.UUIDField(source="paid_by_id")
    paid_by_name = serializers.CharField(source="paid_by.name")
    amount = serializers.SerializerMethodField(help_text='In major units, e.g. `"12.50"`.')
    amount_minor = serializers.IntegerField(help_text="In minor units (cents).")
    currency = serializers.SerializerMethodField()
    participants = serializers.SerializerMethodField()
    created_by = serializers.UUIDField(source="created_by_id", allow_null=True)
    receipt = serializers.UUIDField(source="receipt_id", allow_null=True)
    receipt_url = serializers.SerializerMethodField(help_text="Signed, expiring URL of the receipt (or null).")

    class Meta:
        model = Expense
        fields = (
            "id",
            "event",
            "description",
            "amount",
            "amount_minor",
            "currency",
            "paid_by",
            "paid_by_name",
            "split",
            "participants",
            "spent_on",
            "receipt",
            "receipt_url",
            "created_by",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_receipt_url(self, expense) -> str | None:
        if expense.receipt is None:
            return None
        from gatherings.files import signed_url

        request = self.context.get("request")
        path = signed_url(expense.receipt)
        return request.build_absolute_uri(path) if request is not None else path

    def get_amount(self, expense) -> str:
        return ledger.to_major(expense.amount_minor, currency=_currency_of(expense))

    def get_currency(self, expense) -> str:
        return _currency_of(expense)

    @extend_schema_field(ExpenseShareSerializer(many=True))
    def get_participants(self, expense) -> list:
        shares = sorted(expense.shares.all(), key=lambda share: share.position)
        return list(ExpenseShareSerializer(shares, many=True, context={"currency": _currency_of(expense)}).data)


class SettlementInputSerializer(serializers.Serializer):
    event = StrictUUIDField(help_text="The gathering.")
    payer = StrictUUIDField(help_text="The person who paid.")
    payee = StrictUUIDField(help_text="The person who received the money.")
    amount = AmountField(help_text=AMOUNT_HELP)
    currency = StrictCharField(required=False, min_length=3, max_length=3)
    note = StrictCharField(required=False, allow_blank=True, max_length=200)


class SettlementSerializer(serializers.ModelSerializer):
    """A payment between two participants, recorded as made."""

    event = serializers.UUIDField(source="event_id")
    payer = serializers.UUIDField(source="payer_id")
    payee = serializers.UUIDField(source="payee_id")
    amount = serializers.SerializerMethodField()
    amount_minor = serializers.IntegerField()
    currency = serializers.SerializerMethodField()
    created_by = serializers.UUIDField(source="created_by_id", allow_null=True)

    class Meta:
        model = Settlement
        fields = (
            "id",
            "event",
            "payer",
            "payee",
            "amount",
            "amount_minor",
            "currency",
            "note",
            "created_by",
            "created_at",
        )
        read_only_fields = fields

    def get_amount(self, settlement) -> str:
        return ledger.to_major(settlement.amount_minor, currency=_currency_of(settlement))

    def get_currency(self, settlement) -> str:
        return _currency_of(settlement)


class BalanceSerializer(serializers.Serializer):
    person = serializers.UUIDField()
    name = serializers.CharField()
    paid = serializers.CharField()
    owed = serializers.CharField()
    balance = serializers.CharField(help_text="Positive: is owed money; negative: owes money.")
    paid_minor = serializers.IntegerField()
    owed_minor = serializers.IntegerField()
    balance_minor = serializers.IntegerField()


class TransferSerializer(serializers.Serializer):
    payer = serializers.UUIDField()
    payer_name = serializers.CharField()
    payee = serializers.UUIDField()
    payee_name = serializers.CharField()
    amount = serializers.CharField()
    amount_minor = serializers.IntegerField()


class CostSummarySerializer(serializers.Serializer):
    currency = serializers.CharField()
    total = serializers.SerializerMethodField()
    total_minor = serializers.IntegerField()
    expense_count = serializers.IntegerField()
    settlement_count = serializers.IntegerField()
    participants = BalanceSerializer(many=True)
    transfers = TransferSerializer(
        many=True, help_text="The transfers that settle everyone (at most participants - 1)."
    )

    def get_total(self, summary) -> str:
        return ledger.to_major(summary.total_minor, currency=summary.currency)


class CurrencyInputSerializer(serializers.Serializer):
    currency = StrictCharField(min_length=3, max_length=3, help_text="ISO 4217, e.g. `EUR`.")


class TaskInputSerializer(serializers.Serializer):
    event = StrictUUIDField(help_text="The gathering (create only).")
    title = StrictCharField(max_length=200)
    kind = serializers.ChoiceField(
        choices=TaskKind.choices, required=False, help_text="`task`, or `bring` (potluck: something to bring)."
    )
    assignee = StrictUUIDField(
        required=False, allow_null=True, help_text="A participant (an attendee or the host's person), or null."
    )
    due_on = StrictDateField(required=False, allow_null=True, help_text="Local date (YYYY-MM-DD), not in the past.")
    done = StrictBooleanField(required=False)


class TaskSerializer(serializers.ModelSerializer):
    """A checklist item. ``reminder_at``: when the assignee is reminded (null: no reminder pending)."""

    event = serializers.UUIDField(source="event_id")
    assignee = serializers.UUIDField(source="assignee_id", allow_null=True)
    assignee_name = serializers.SerializerMethodField()
    reminder = serializers.UUIDField(source="reminder_id", allow_null=True)
    reminder_at = serializers.SerializerMethodField()
    created_by = serializers.UUIDField(source="created_by_id", allow_null=True)
    created_by_guest = serializers.UUIDField(source="created_by_guest_id", allow_null=True)

    class Meta:
        model = Task
        fields = (
            "id",
            "event",
            "kind",
            "title",
            "assignee",
            "assignee_name",
            "due_on",
            "done",
            "done_at",
            "reminder",
            "reminder_at",
            "created_by",
            "created_by_guest",
            "created_at",
            "updated_at",
        )
        read_only_fields = fields

    def get_assignee_name(self, task) -> str | None:
        return task.assignee.name if task.assignee_id else None

    @extend_schema_field({"type": "string", "format": "date-time", "nullable": True})
    def get_reminder_at(self, task):
        reminder = task.reminder
        if reminder is None or not reminder.active or reminder.next_run_at is None:
            return None
        return reminder.next_run_at


class CommentInputSerializer(serializers.Serializer):
    event = StrictUUIDField(help_text="The gathering (create only).")
    body = StrictCharField(max_length=2000, help_text="Plain text, at most 2,000 characters.")


class CommentEditSerializer(serializers.Serializer):
    body = StrictCharField(max_length=2000)


class CommentSerializer(serializers.ModelSerializer):
    """A comment of a gathering's thread (guests' comments carry ``author_person``)."""

    event = serializers.UUIDField(source="event_id")
    author_user = serializers.UUIDField(source="author_user_id", allow_null=True)
    author_person = serializers.UUIDField(source="author_person_id", allow_null=True)
    author_name = serializers.SerializerMethodField()

    class Meta:
        model = Comment
        fields = (
            "id",
            "event",
            "author_user",
            "author_person",
            "author_name",
            "body",
            "hidden",
            "edited_at",
            "created_at",
        )
        read_only_fields = fields

    def get_author_name(self, comment) -> str:
        from gatherings.thread import author_name

        return author_name(comment)


class FileUploadSerializer(serializers.Serializer):
    event = StrictUUIDField(help_text="The gathering.")
    file = serializers.FileField(
        help_text="A photo (JPEG, PNG, GIF, WebP) or a PDF, at most 10 MB; the type is read from the content."
    )


class EventFileSerializer(serializers.ModelSerializer):
    """A photo or PDF of a gathering. ``url`` and ``thumbnail_url`` are signed and expire (default: one hour)."""

    event = serializers.UUIDField(source="event_id")
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    uploaded_by_user = serializers.UUIDField(source="uploaded_by_user_id", allow_null=True)
    uploaded_by_person = serializers.UUIDField(source="uploaded_by_person_id", allow_null=True)

    class Meta:
        model = EventFile
        fields = (
            "id",
            "event",
            "kind",
            "name",
            "content_type",
            "size",
            "width",
            "height",
            "url",
            "thumbnail_url",
            "uploaded_by_user",
            "uploaded_by_person",
            "created_at",
        )
        read_only_fields = fields

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    def get_url(self, record) -> str:
        from gatherings.files import signed_url

        return self._absolute(signed_url(record))

    def get_thumbnail_url(self, record) -> str | None:
        from gatherings.files import signed_url

        return self._absolute(signed_url(record, variant="thumbnail")) if record.thumbnail else None
