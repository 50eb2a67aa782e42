from django.apps import AppConfig


class GatheringsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "gatherings"
    verbose_name = "Gatherings"

    def ready(self) -> None:
        from gatherings import receivers  # noqa: F401  (connects the receivers)
