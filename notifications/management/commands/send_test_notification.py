"""``manage.py send_test_notification --workspace ID --channel slack [--to RECIPIENT]``."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audit.names import command_origin
from birthdaybuddy.errors import ApplicationError
from notifications import services
from notifications.models import ChannelConfig
from workspaces.models import Channel, Workspace

ORIGIN = command_origin("send_test_notification")


class Command(BaseCommand):
    help = "Sends a test message through a workspace's channel now and prints the provider's answer."

    def add_arguments(self, parser):
        parser.add_argument("--workspace", required=True, help="Workspace id or slug.")
        parser.add_argument("--channel", required=True, choices=Channel.values)
        parser.add_argument("--to", default=None, help="Email address or E.164 number (not for Slack).")

    def handle(self, *args, workspace, channel, to, **options):
        found = Workspace.objects.filter(slug=workspace).first()
        if found is None:
            try:
                found = Workspace.objects.filter(pk=workspace).first()
            except ValidationError:
                found = None
        if found is None:
            raise CommandError(f"No workspace {workspace!r}.")
        config = ChannelConfig.objects.filter(workspace=found, kind=channel).first()
        if config is None:
            raise CommandError(f"{found} has no {channel} channel; add one in the API or the admin.")
        try:
            result = services.channel_config_send_test(config=config, recipient=to, origin=ORIGIN)
        except (ValidationError, ApplicationError) as exc:
            raise CommandError(str(getattr(exc, "message", exc))) from exc
        line = (
            f"{result.outcome} via {result.provider} to {result.recipient} "
            f"(status {result.status_code}): {result.detail}"
        )
        if not result.ok:
            raise CommandError(line)
        self.stdout.write(self.style.SUCCESS(line))
