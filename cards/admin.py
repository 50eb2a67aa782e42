"""Staff's view of the workspaces' advance alert settings (editable, validated like the API) and the cards.

Cards are listed with their number of wishes only: the wishes are the team's words to one
person, and not even staff read them before (or after) the day.
"""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef

from birthdaybuddy.admin_tools import WorkspaceColumns
from cards import services
from cards.models import Card, PrepSettings
from workspaces.models import Membership


class PrepSettingsForm(forms.ModelForm):
    class Meta:
        model = PrepSettings
        fields = ("workspace", "alert_days", "alert_recipients", "chosen", "group_card")

    def clean(self):
        cleaned = super().clean()
        workspace = cleaned.get("workspace") or getattr(self.instance, "workspace", None)
        chosen = cleaned.get("chosen")
        if workspace is not None and chosen is not None:
            is_member = Membership.objects.filter(workspace=workspace, user_id=OuterRef("user_id"))
            allowed = set(chosen.filter(workspace=workspace).filter(Exists(is_member)).values_list("pk", flat=True))
            outsiders = [person.name for person in chosen if person.pk not in allowed]
            if outsiders:
                raise ValidationError({"chosen": f"Not members of this workspace: {', '.join(outsiders)}."})
        return cleaned


@admin.register(PrepSettings)
class PrepSettingsAdmin(WorkspaceColumns, admin.ModelAdmin):
    form = PrepSettingsForm
    list_display = ("workspace_name", "alert_days", "alert_recipients", "group_card", "updated_at")
    list_filter = ("group_card", "alert_recipients")
    search_fields = ("workspace__name",)
    list_select_related = ("workspace",)
    autocomplete_fields = ("workspace", "chosen")

    def get_readonly_fields(self, request, obj=None):
        return ("workspace",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        data = {key: form.cleaned_data[key] for key in ("alert_days", "alert_recipients", "group_card")}
        data["chosen"] = [person.pk for person in form.cleaned_data.get("chosen", [])]
        services.prep_settings_update(workspace=obj.workspace, data=data)

    def save_related(self, request, form, formsets, change):
        """The service saved ``chosen`` already."""


@admin.register(Card)
class CardAdmin(WorkspaceColumns, admin.ModelAdmin):
    list_display = ("person", "kind", "day", "wish_count", "workspace_name")
    list_filter = ("kind",)
    search_fields = ("person__name", "workspace__name")
    date_hierarchy = "day"
    list_select_related = ("person", "workspace")
    fields = ("workspace_link", "person", "kind", "day", "wish_count", "created_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(wishes_count=Count("wishes"))

    @admin.display(description="Wishes", ordering="wishes_count")
    def wish_count(self, obj) -> int:
        return obj.wishes_count

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
