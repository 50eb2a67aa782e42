from django.apps import AppConfig


class RemindersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reminders"

    def ready(self) -> None:
        from reminders import workspace_admin, workspace_steps  # noqa: F401  (the workspace admin page's delivery rows)
        from workspaces.lifecycle import workspace_steps_register

        workspace_steps_register(created=workspace_steps.workspace_created, changed=workspace_steps.workspace_changed)
