from django.apps import AppConfig


class GatheringsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "gatherings"
    verbose_name = "Gatherings"
