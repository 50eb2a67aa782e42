"""Twilio callbacks reach exactly their own channel, whatever other tenants configure; replays act once."""

import pytest

from notifications.models import TwilioCallback
from tests.factories import PersonFactory, WorkspaceFactory
from tests.notifications.factories import ACCOUNT_SID, AUTH_TOKEN, ChannelConfigFactory, NotificationFactory
from tests.notifications.twilio_signing import (
    PUBLIC_BASE_URL,
    inbound_params,
    inbound_path,
    post_signed,
    status_params,
    status_path,
)

pytestmark = pytest.mark.django_db

OUR_NUMBER = "+14155550100"
CLIENT = "+14155550123"
SID = "SM" + "c1" * 16


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_BASE_URL = PUBLIC_BASE_URL
    settings.TWILIO_ACCOUNT_SID = ""
    settings.TWILIO_AUTH_TOKEN = ""


@pytest.fixture
def victim():
    return ChannelConfigFactory(
        workspace=WorkspaceFactory(),
        kind="whatsapp",
        webhook_url=None,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number=OUR_NUMBER,
    )


def crowd(count: int = 12) -> None:
    """Another tenant's channels naming the victim's Account SID (an identifier, not a secret) and number."""
    for index in range(count):
        ChannelConfigFactory(
            workspace=WorkspaceFactory(),
            kind="whatsapp",
            webhook_url=None,
            account_sid=ACCOUNT_SID,
            auth_token=f"attacker-{index}",
            from_number=OUR_NUMBER,
        )


def test_other_tenants_channels_cannot_crowd_out_a_channels_stop_and_receipts(client, victim):
    """GIVEN twelve channels of another tenant naming the victim's Account SID and number
    WHEN Twilio posts the victim's genuine STOP and a delivery receipt to the victim's channel URLs
    THEN both act (the old shared check tried at most ten tokens and answered 403)."""
    crowd()
    person = PersonFactory(workspace=victim.workspace, phone=CLIENT, preferred_channels=["whatsapp"])
    notification = NotificationFactory(
        workspace=victim.workspace, channel="whatsapp", recipient=CLIENT, status="sent", provider_message_id=SID
    )

    stop = post_signed(
        client,
        inbound_path(victim),
        inbound_params(from_=f"whatsapp:{CLIENT}", to=f"whatsapp:{OUR_NUMBER}", body="STOP"),
    )
    receipt = post_signed(client, status_path(channel=victim), status_params(SID, "delivered"))

    assert stop.status_code == 200, stop.content
    assert receipt.json() == {"result": "delivered"}
    person.refresh_from_db()
    notification.refresh_from_db()
    assert person.opted_out_channels == ["whatsapp"]
    assert notification.status == "delivered"


def test_a_channel_url_is_checked_against_that_channels_token_only(client, victim):
    crowd(1)
    PersonFactory(workspace=victim.workspace, phone=CLIENT)
    params = inbound_params(from_=f"whatsapp:{CLIENT}", to=f"whatsapp:{OUR_NUMBER}", body="STOP")

    response = post_signed(client, inbound_path(victim), params, token="attacker-0")

    assert response.status_code == 403
    assert not TwilioCallback.objects.exists()


def test_a_replayed_inbound_message_acts_once(client, victim):
    """GIVEN a client who texted STOP, then START
    WHEN someone replays the captured, validly signed STOP request
    THEN the client stays opted in."""
    person = PersonFactory(workspace=victim.workspace, phone=CLIENT)
    stop = inbound_params(from_=f"whatsapp:{CLIENT}", to=f"whatsapp:{OUR_NUMBER}", body="STOP", sid="SM" + "01" * 16)
    start = inbound_params(from_=f"whatsapp:{CLIENT}", to=f"whatsapp:{OUR_NUMBER}", body="START", sid="SM" + "02" * 16)

    for params in (stop, start, stop):
        assert post_signed(client, inbound_path(victim), params).status_code == 200

    person.refresh_from_db()
    assert person.opted_out_channels == []


def test_a_status_that_comes_after_a_later_one_changes_nothing(client, victim):
    """Receipts of one message apply in Twilio's order only: a replayed or late one is "unchanged"."""
    notification = NotificationFactory(
        workspace=victim.workspace, channel="whatsapp", recipient=CLIENT, status="unknown", provider_message_id=SID
    )

    def receipt(status):
        return post_signed(client, status_path(channel=victim), status_params(SID, status)).json()["result"]

    assert receipt("delivered") == "delivered"
    assert receipt("sent") == "unchanged"
    assert receipt("delivered") == "unchanged"
    assert receipt("read") == "unchanged"  # ranks higher, recorded; the row is already delivered
    notification.refresh_from_db()
    assert notification.status == "delivered"
    assert TwilioCallback.objects.get(message_sid=SID).status == "read"


def test_the_channel_api_shows_the_urls_to_set_at_twilio(auth_client, workspace):
    config = ChannelConfigFactory(
        workspace=workspace,
        kind="sms",
        webhook_url=None,
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number=OUR_NUMBER,
    )

    data = auth_client.get(f"/api/v1/workspaces/{workspace.pk}/channels/{config.pk}/").json()

    assert data["inbound_webhook_url"] == f"{PUBLIC_BASE_URL}/api/v1/hooks/twilio/channels/{config.pk}/inbound"
    assert data["status_callback_url"] == f"{PUBLIC_BASE_URL}/api/v1/hooks/twilio/channels/{config.pk}/status"
