"""Digests still on the old default channels ("slack", "email") also name Microsoft Teams and
Google Chat, as new digests do: the digest posts to every team chat the workspace sets up.

A digest whose channels an admin changed keeps them. One UPDATE; reversible.
"""

from django.db import migrations

OLD_DEFAULT = ["slack", "email"]
NEW_DEFAULT = ["slack", "teams", "gchat", "email"]


def _move(apps, before, after):
    Reminder = apps.get_model("reminders", "Reminder")
    Reminder.objects.filter(kind="birthday_digest", channels=before).update(channels=after)


def forwards(apps, schema_editor):
    _move(apps, OLD_DEFAULT, NEW_DEFAULT)


def backwards(apps, schema_editor):
    _move(apps, NEW_DEFAULT, OLD_DEFAULT)


class Migration(migrations.Migration):
    dependencies = [
        ("reminders", "0006_unanswered_guests_audience"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=True)]
