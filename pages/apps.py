from django.apps import AppConfig


class PagesConfig(AppConfig):
    """People's pages: what the links we send open (RSVP, account links, preferences)."""

    name = "pages"
    verbose_name = "People's pages"
