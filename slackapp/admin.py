"""Staff tools for the Slack app: installations (read-only, the token never shown), an "Add to
Slack" start for any workspace, asking members for their dates, syncing the directory now."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse

from birthdaybuddy.admin_tools import WorkspaceColumns, choose_workspace_page, error_text
from slackapp import install, onboarding, tasks
from slackapp.models import SlackInstallation
from workspaces.models import Workspace


class ChooseSlackWorkspaceForm(forms.Form):
    workspace: forms.ModelChoiceField = forms.ModelChoiceField(queryset=None, label="Workspace")

    def __init__(self, *args, admin_site, **kwargs):
        super().__init__(*args, **kwargs)
        from django.contrib.admin.widgets import AutocompleteSelect

        self.fields["workspace"].widget = AutocompleteSelect(SlackInstallation._meta.get_field("workspace"), admin_site)
        self.fields["workspace"].queryset = Workspace.objects.order_by("name")


@admin.register(SlackInstallation)
class SlackInstallationAdmin(WorkspaceColumns, admin.ModelAdmin):
    list_display = (
        "team_name",
        "team_id",
        "workspace_name",
        "channel_name",
        "active",
        "installed_at",
        "last_directory_sync_at",
    )
    list_filter = ("active", "installed_at")
    search_fields = ("team_name", "team_id", "workspace__name")
    list_select_related = ("workspace",)
    fields = (
        "workspace_link",
        "team_id",
        "team_name",
        "enterprise_id",
        "app_id",
        "bot_user_id",
        "scopes",
        "channel_id",
        "channel_name",
        "installed_by",
        "active",
        "installed_at",
        "deactivated_at",
        "last_directory_sync_at",
    )
    readonly_fields = fields
    actions = ("ask_members", "sync_directory")

    def has_change_permission(self, request, obj=None):
        return False

    def add_view(self, request, form_url="", extra_context=None):
        """ "Add to Slack" for a workspace: choose it, then a POST sends the browser to Slack."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            workspace = Workspace.objects.filter(pk=request.POST.get("workspace")).first()
            if workspace is None:
                raise PermissionDenied
            try:
                url, _ = install.install_url_create(workspace=workspace, user=request.user)
            except ValidationError as exc:
                self.message_user(request, error_text(exc), messages.ERROR)
                return HttpResponseRedirect(request.path)
            return HttpResponseRedirect(url)
        form = ChooseSlackWorkspaceForm(request.GET or None, admin_site=self.admin_site)
        if not form.is_valid():
            return choose_workspace_page(
                self,
                request,
                form,
                title="Add to Slack",
                subtitle="Which workspace the Slack team is bound to",
                help_text="Slack's page follows; the link works once and for a few minutes.",
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Add to Slack",
            "workspace": form.cleaned_data["workspace"],
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/slackapp/add_to_slack.html", context)

    @admin.action(description="Ask members without dates (Slack DM)")
    def ask_members(self, request, queryset):
        for installation in queryset.filter(active=True).select_related("workspace"):
            asked = onboarding.onboarding_ask(installation)
            tasks.onboarding_send.delay_on_commit(str(installation.pk))
            self.message_user(request, f"{installation.workspace.name}: {asked} member(s) will be asked.")

    @admin.action(description="Sync the Slack directory now")
    def sync_directory(self, request, queryset):
        for installation in queryset.filter(active=True):
            tasks.directory_sync.delay_on_commit(str(installation.pk))
        self.message_user(request, "Directory sync queued.")
