from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "workspaces"

    def ready(self) -> None:
        from accounts.lifecycle import profile_steps_register
        from workspaces import account, signals  # noqa: F401  (signals: connects the receivers)

        profile_steps_register(changed=account.profile_changed)
