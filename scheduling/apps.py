from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "scheduling"

    def ready(self) -> None:
        from scheduling import own_time, receivers  # noqa: F401  (connects the receivers)
        from workspaces.lifecycle import people_steps_register, workspace_steps_register

        workspace_steps_register(created=own_time.workspace_created, changed=own_time.workspace_changed)
        people_steps_register(written=own_time.people_written)
