from django.db import migrations, models
from django.db.models import Q


def clear_unusable_rates(apps, schema_editor):
    """Rates the limiter cannot use fall back to the provider's default (NaN compares false)."""
    ChannelConfig = apps.get_model("notifications", "ChannelConfig")
    usable = Q(rate_per_second__gte=0.01, rate_per_second__lte=100.0)
    ChannelConfig.objects.filter(rate_per_second__isnull=False).exclude(usable).update(rate_per_second=None)


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0008_sweep_every_30_seconds"),
        ("workspaces", "0005_membership_workspace_index_in_the_unique_one"),
    ]

    operations = [
        migrations.RunPython(clear_unusable_rates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="channelconfig",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("rate_per_second__isnull", True),
                    models.Q(("rate_per_second__gte", 0.01), ("rate_per_second__lte", 100.0)),
                    _connector="OR",
                ),
                name="channelconfig_rate_in_range",
                violation_error_message="The send rate must be between 0.01 and 100 messages per second.",
            ),
        ),
    ]
