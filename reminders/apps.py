from django.apps import AppConfig


class RemindersConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reminders"

    def ready(self) -> None:
        from reminders import (
            receivers,  # noqa: F401  (connects the receivers)
            workspace_admin,  # noqa: F401  (the workspace admin page's delivery rows)
        )
