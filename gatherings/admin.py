"""Staff's view of gatherings' shared costs: read-only (changes go through the API, which audits them)."""

from django.contrib import admin

from birthdaybuddy.admin_tools import WorkspaceColumns
from gatherings import ledger
from gatherings.models import Comment, CostLedger, Expense, ExpenseShare, Settlement, Task
from gatherings.thread import author_name


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class ExpenseShareInline(admin.TabularInline):
    model = ExpenseShare
    fields = ("position", "person", "weight", "amount_minor")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CostLedger)
class CostLedgerAdmin(WorkspaceColumns, ReadOnlyAdmin):
    list_display = ("event", "currency", "workspace_name", "created_at")
    list_filter = ("currency",)
    search_fields = ("event__title", "workspace__name")
    list_select_related = ("event", "workspace")
    fields = ("workspace_link", "event", "currency", "created_at", "updated_at")
    readonly_fields = fields


@admin.register(Expense)
class ExpenseAdmin(WorkspaceColumns, ReadOnlyAdmin):
    list_display = ("description", "event", "amount", "paid_by", "split", "workspace_name", "created_at")
    list_filter = ("split", "created_at")
    search_fields = ("description", "event__title", "paid_by__name", "workspace__name")
    list_select_related = ("event", "event__cost_ledger", "paid_by", "workspace")
    fields = (
        "workspace_link",
        "event",
        "description",
        "amount",
        "paid_by",
        "split",
        "spent_on",
        "created_by",
        "created_at",
    )
    readonly_fields = fields
    inlines = (ExpenseShareInline,)

    @admin.display(description="Amount", ordering="amount_minor")
    def amount(self, obj: Expense) -> str:
        currency = obj.event.cost_ledger.currency if hasattr(obj.event, "cost_ledger") else "EUR"
        return f"{ledger.to_major(obj.amount_minor, currency=currency)} {currency}"


@admin.register(Settlement)
class SettlementAdmin(WorkspaceColumns, ReadOnlyAdmin):
    list_display = ("event", "payer", "payee", "amount_minor", "workspace_name", "created_at")
    search_fields = ("event__title", "payer__name", "payee__name", "workspace__name")
    list_select_related = ("event", "payer", "payee", "workspace")
    fields = ("workspace_link", "event", "payer", "payee", "amount_minor", "note", "created_by", "created_at")
    readonly_fields = fields


@admin.register(Task)
class TaskAdmin(WorkspaceColumns, ReadOnlyAdmin):
    list_display = ("title", "kind", "event", "assignee", "due_on", "done", "workspace_name")
    list_filter = ("kind", "done")
    search_fields = ("title", "event__title", "assignee__name", "workspace__name")
    list_select_related = ("event", "assignee", "workspace")
    fields = ("workspace_link", "event", "kind", "title", "assignee", "due_on", "done", "done_at", "reminder")
    readonly_fields = fields


@admin.register(Comment)
class CommentAdmin(WorkspaceColumns, ReadOnlyAdmin):
    """Staff read the threads (moderation is the organisers', through the API and the guest pages)."""

    list_display = ("body", "event", "author", "hidden", "workspace_name", "created_at")
    list_filter = ("hidden", "created_at")
    search_fields = ("body", "event__title", "workspace__name")
    list_select_related = ("event", "author_user", "author_person", "workspace")
    fields = ("workspace_link", "event", "author", "body", "hidden", "edited_at", "created_at")
    readonly_fields = fields

    @admin.display(description="Author")
    def author(self, obj: Comment) -> str:
        return author_name(obj)
