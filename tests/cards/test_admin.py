"""Staff's pages: the settings are edited with the API's rules; cards show how many wishes, never their text."""

import pytest

from cards.models import PrepSettings
from tests.cards.conftest import FRIDAY, member_person
from tests.cards.factories import CardFactory, WishFactory
from tests.factories import PersonFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, staff_user):
    client.force_login(staff_user)
    return client


def test_staff_change_the_settings_and_outsiders_are_refused(staff, team):
    url = f"/admin/cards/prepsettings/{team['workspace'].pk}/change/"
    outsider = PersonFactory(workspace=WorkspaceFactory())
    form = {"alert_days": "5", "alert_recipients": "chosen", "group_card": "on", "chosen": [str(outsider.pk)]}

    refused = staff.post(url, form)
    assert refused.status_code == 200
    assert "Not members of this workspace" in refused.content.decode()

    planner = member_person(team["workspace"], name="Pat Planner")
    saved = staff.post(url, {**form, "chosen": [str(planner.pk)]})
    assert saved.status_code == 302
    settings = PrepSettings.objects.get(workspace=team["workspace"])
    assert (settings.alert_days, settings.alert_recipients, list(settings.chosen.all())) == (5, "chosen", [planner])

    no_alerts = staff.post(url, {**form, "alert_days": "0", "chosen": []})
    assert no_alerts.status_code == 200  # a card needs alerts
    settings.refresh_from_db()
    assert settings.alert_days == 5


def test_the_card_list_counts_wishes_and_shows_no_text(staff, team):
    card = CardFactory(workspace=team["workspace"], person=team["cleo"], day=FRIDAY)
    WishFactory(card=card, author=team["max"], text="Secret words for Cleo")

    listing = staff.get("/admin/cards/card/")
    detail = staff.get(f"/admin/cards/card/{card.pk}/change/")

    assert listing.status_code == detail.status_code == 200
    assert "Cleo Celebrated" in listing.content.decode()
    for page in (listing, detail):
        assert "Secret words" not in page.content.decode()
