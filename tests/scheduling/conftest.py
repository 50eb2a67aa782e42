from datetime import time

import pytest

from notifications.models import ChannelConfig
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from workspaces.models import Role


@pytest.fixture
def make_workspace(db):
    """A workspace in ``tz`` with a Slack webhook channel and an owner."""

    def make(*, tz: str = "UTC", notify_at: time = time(9), slack: bool = True, **extra):
        workspace = WorkspaceFactory(timezone=tz, notify_at=notify_at, **extra)
        MembershipFactory(workspace=workspace, user=UserFactory(), role=Role.OWNER)
        if slack:
            ChannelConfig.objects.create(
                workspace=workspace, kind="slack", webhook_url="https://hooks.slack.com/services/T0/B0/secret"
            )
        return workspace

    return make
