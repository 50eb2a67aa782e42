from django.apps import AppConfig


class SlackAppConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "slackapp"
    verbose_name = "Slack app"
