import factory
from factory.django import DjangoModelFactory

from slackapp.models import SlackInstallation
from tests.factories import WorkspaceFactory
from tests.slackapp.fakes import BOT_TOKEN


class SlackInstallationFactory(DjangoModelFactory[SlackInstallation]):
    class Meta:
        model = SlackInstallation

    workspace = factory.SubFactory(WorkspaceFactory)
    team_id = factory.Sequence(lambda n: f"T{n:06d}")
    team_name = factory.Sequence(lambda n: f"Slack team {n}")
    bot_user_id = "U0BOT"
    bot_token = BOT_TOKEN
    channel_id = "C0CELEB"
    channel_name = "#celebrations"
