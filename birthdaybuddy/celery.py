"""The Celery app. Beat runs a handful of fixed jobs from django-celery-beat's database."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "birthdaybuddy.settings")

app = Celery("birthdaybuddy")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
