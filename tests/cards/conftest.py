from datetime import date

import pytest

from cards.models import PrepSettings
from notifications.models import ChannelConfig
from tests.factories import MembershipFactory, PersonFactory, UserFactory, WorkspaceFactory
from workspaces.models import Role

# Saturday 11 April 2026: with "the working day before" it is announced on Friday the 10th.
SATURDAY = date(2026, 4, 11)
FRIDAY = date(2026, 4, 10)


def member_person(workspace, *, name: str, role: str = Role.MEMBER, **extra):
    """A member of ``workspace`` (an account with ``role``) and their person."""
    user = UserFactory(email=f"{name.split()[0].lower()}@team.example")
    MembershipFactory(workspace=workspace, user=user, role=role)
    fields = {"birth_month": None, "birth_day": None, "email": user.email, "preferred_channels": ["email"], **extra}
    return PersonFactory(workspace=workspace, user=user, name=name, **fields)


@pytest.fixture
def team(db):
    """A Berlin team announcing weekend celebrations on the working day before, with a Slack webhook.

    Cleo (an admin) has her birthday on Saturday 11 April 2026; Olga (owner) and Ada (admin)
    receive the alerts; Max is a plain member. Alerts 2 days ahead, group card on.
    """
    workspace = WorkspaceFactory(name="Acme", timezone="Europe/Berlin", celebration_shift="working_day_before")
    ChannelConfig.objects.create(
        workspace=workspace, kind="slack", webhook_url="https://hooks.slack.com/services/T0/B0/secret"
    )
    people = {
        "olga": member_person(workspace, name="Olga Owner", role=Role.OWNER),
        "ada": member_person(workspace, name="Ada Admin", role=Role.ADMIN),
        "cleo": member_person(
            workspace, name="Cleo Celebrated", role=Role.ADMIN, birth_month=SATURDAY.month, birth_day=SATURDAY.day
        ),
        "max": member_person(workspace, name="Max Member"),
    }
    prep = PrepSettings.objects.create(workspace=workspace, alert_days=2, group_card=True)
    return {"workspace": workspace, "prep": prep, **people}


@pytest.fixture(autouse=True)
def _public_base(settings):
    settings.PUBLIC_BASE_URL = "https://bb.example.com"
