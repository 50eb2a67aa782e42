from django.urls import path

from slackapp import views

app_name = "slackapp"

urlpatterns = [
    path("oauth/callback", views.oauth_callback, name="oauth-callback"),
    path("commands", views.commands, name="commands"),
    path("interactivity", views.interactivity, name="interactivity"),
    path("events", views.events, name="events"),
]
