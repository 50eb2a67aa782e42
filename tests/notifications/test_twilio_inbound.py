"""Inbound messages: STOP/START keywords change opt-outs; every message opens the WhatsApp window."""

from urllib.parse import urlencode

import pytest
from django.urls import reverse
from django.utils import timezone

from notifications.models import InboundContact
from tests.factories import PersonFactory, WorkspaceFactory
from tests.notifications.factories import ACCOUNT_SID, AUTH_TOKEN, ChannelConfigFactory
from tests.notifications.twilio_signing import FORM, PUBLIC_BASE_URL, inbound_params, inbound_path, post_signed, sign

pytestmark = pytest.mark.django_db

OUR_NUMBER = "+14155550100"
CLIENT = "+14155550123"


@pytest.fixture(autouse=True)
def _public_url(settings):
    settings.PUBLIC_BASE_URL = PUBLIC_BASE_URL
    settings.TWILIO_ACCOUNT_SID = ""
    settings.TWILIO_AUTH_TOKEN = ""


def twilio_config(kind, *, workspace=None, from_number=OUR_NUMBER, **fields):
    fields = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, **fields}
    return ChannelConfigFactory(
        workspace=workspace or WorkspaceFactory(), kind=kind, webhook_url=None, from_number=from_number, **fields
    )


def inbound(client, body, *, channel, from_=CLIENT, to=OUR_NUMBER, **more):
    return post_signed(client, inbound_path(channel), inbound_params(from_=from_, to=to, body=body, **more))


def test_stop_then_start(client):
    """GIVEN a client with SMS preferred, in a workspace whose SMS channel sends from our number
    WHEN they text STOP, then START
    THEN sms is opted out (and no longer preferred), then opted in again; each answer is empty TwiML."""
    config = twilio_config("sms")
    person = PersonFactory(workspace=config.workspace, phone=CLIENT, preferred_channels=["sms", "email"])

    response = inbound(client, "STOP", channel=config)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    assert response.content.decode().endswith("<Response />")
    person.refresh_from_db()
    assert person.opted_out_channels == ["sms"]
    assert person.preferred_channels == ["email"]

    inbound(client, "start", channel=config, sid="SM" + "e6" * 16)

    person.refresh_from_db()
    assert person.opted_out_channels == []
    assert person.preferred_channels == ["email"]
    contact = InboundContact.objects.get()
    assert (contact.channel, contact.phone, contact.to_number, contact.last_keyword) == (
        "sms",
        CLIENT,
        OUR_NUMBER,
        "start",
    )


@pytest.mark.parametrize(
    "body",
    [
        "STOP",
        "stop",
        " Stop ",
        "STOPALL",
        "unsubscribe",
        "Cancel",
        "END",
        "quit",
        "STOP.",
        "REVOKE",
        "optout",
        "OptOut",
    ],
)
def test_every_stop_keyword(client, body):
    config = twilio_config("sms")
    person = PersonFactory(workspace=config.workspace, phone=CLIENT)

    inbound(client, body, channel=config)

    person.refresh_from_db()
    assert person.opted_out_channels == ["sms"]


@pytest.mark.parametrize("body", ["please stop", "Stop sending me these", "STOPP", "", "HELP", "info", "OPT OUT"])
def test_other_messages_change_no_opt_out(client, body):
    config = twilio_config("sms")
    person = PersonFactory(workspace=config.workspace, phone=CLIENT)

    assert inbound(client, body, channel=config).status_code == 200

    person.refresh_from_db()
    assert person.opted_out_channels == []
    assert InboundContact.objects.get().last_keyword == ""


@pytest.mark.parametrize("body", ["START", "yes", "UNSTOP"])
def test_every_start_keyword(client, body):
    config = twilio_config("sms")
    person = PersonFactory(workspace=config.workspace, phone=CLIENT, opted_out_channels=["sms", "whatsapp"])

    inbound(client, body, channel=config)

    person.refresh_from_db()
    assert person.opted_out_channels == ["whatsapp"]


def test_advanced_opt_out_type_is_honoured(client):
    config = twilio_config("sms")
    person = PersonFactory(workspace=config.workspace, phone=CLIENT)

    inbound(client, "ARRET", channel=config, OptOutType="STOP")

    person.refresh_from_db()
    assert person.opted_out_channels == ["sms"]


@pytest.mark.parametrize(("body", "expected"), [("HELP", "help"), ("Info", "help"), ("revoke", "stop"), ("x", "")])
def test_keywords_follow_twilios_lists(body, expected):
    from notifications.twilio_hooks import inbound_keyword

    assert inbound_keyword({"Body": body}) == expected
    assert inbound_keyword({"Body": body, "OptOutType": "HELP"}) == "help"


def test_advanced_opt_out_help_changes_nothing(client):
    config = twilio_config("sms")
    person = PersonFactory(workspace=config.workspace, phone=CLIENT, opted_out_channels=["sms"])

    assert inbound(client, "AIDE", channel=config, OptOutType="HELP").status_code == 200

    person.refresh_from_db()
    assert person.opted_out_channels == ["sms"]
    assert InboundContact.objects.get().last_keyword == ""


def test_whatsapp_stop_opts_out_of_whatsapp_only(client):
    workspace = WorkspaceFactory()
    twilio_config("sms", workspace=workspace)
    config = twilio_config("whatsapp", workspace=workspace)
    person = PersonFactory(workspace=workspace, phone=CLIENT, preferred_channels=["whatsapp"])

    inbound(client, "STOP", channel=config, from_=f"whatsapp:{CLIENT}", to=f"whatsapp:{OUR_NUMBER}")

    person.refresh_from_db()
    assert person.opted_out_channels == ["whatsapp"]
    assert person.preferred_channels == []


def test_a_channel_url_touches_its_own_workspace_only(client):
    """GIVEN the same phone in three workspaces, two sending from our number with the same account
    WHEN the phone texts STOP to the first channel's URL
    THEN it is opted out in that workspace only; people with other phones are untouched."""
    first = twilio_config("sms")
    second = twilio_config("sms", from_number=OUR_NUMBER)
    elsewhere = twilio_config("sms", from_number="+14155550177")
    mine = PersonFactory(workspace=first.workspace, phone=CLIENT)
    others = [PersonFactory(workspace=config.workspace, phone=CLIENT) for config in (second, elsewhere)]
    other_phone = PersonFactory(workspace=first.workspace, phone="+14155550124")

    inbound(client, "STOP", channel=first)

    mine.refresh_from_db()
    assert mine.opted_out_channels == ["sms"]
    for person in (*others, other_phone):
        person.refresh_from_db()
        assert person.opted_out_channels == []


def test_the_shared_url_serves_the_platforms_own_number_in_every_workspace_using_it(client, settings):
    """GIVEN two workspaces sending SMS through the platform's account and number, one through another number
    WHEN the phone texts STOP to the shared inbound URL, signed with the platform's token
    THEN it is opted out where the platform's number sends, not elsewhere."""
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = "platform-token"
    first = twilio_config("sms", account_sid="", auth_token="")
    second = twilio_config("sms", account_sid="", auth_token="")
    elsewhere = twilio_config("sms", account_sid="", auth_token="", from_number="+14155550177")
    mine = [PersonFactory(workspace=config.workspace, phone=CLIENT) for config in (first, second)]
    other_number = PersonFactory(workspace=elsewhere.workspace, phone=CLIENT)
    other_phone = PersonFactory(workspace=first.workspace, phone="+14155550124")

    response = post_signed(
        client,
        reverse("twilio-inbound-hook"),
        inbound_params(from_=CLIENT, to=OUR_NUMBER, body="STOP"),
        token="platform-token",
    )

    assert response.status_code == 200

    for person in mine:
        person.refresh_from_db()
        assert person.opted_out_channels == ["sms"]
    for person in (other_number, other_phone):
        person.refresh_from_db()
        assert person.opted_out_channels == []


def test_messaging_service_scope(client):
    service = "MG" + "b2" * 16
    config = twilio_config("sms", from_number="", messaging_service_sid=service)
    person = PersonFactory(workspace=config.workspace, phone=CLIENT)

    inbound(client, "STOP", channel=config, to="+14155550188", MessagingServiceSid=service)

    person.refresh_from_db()
    assert person.opted_out_channels == ["sms"]


def test_another_accounts_token_cannot_opt_out_our_people(client):
    """A workspace admin knows their own token; signing a STOP "to" our number with it changes nothing."""
    ours = twilio_config("sms")
    person = PersonFactory(workspace=ours.workspace, phone=CLIENT)
    attacker_account = "AC" + "66" * 16
    ChannelConfigFactory(
        kind="sms", webhook_url=None, account_sid=attacker_account, auth_token="attacker", from_number="+14155550166"
    )

    response = post_signed(
        client,
        inbound_path(ours),
        inbound_params(from_=CLIENT, to=OUR_NUMBER, body="STOP", account_sid=attacker_account),
        token="attacker",
    )
    shared = post_signed(
        client,
        reverse("twilio-inbound-hook"),
        inbound_params(from_=CLIENT, to=OUR_NUMBER, body="STOP", account_sid=attacker_account),
        token="attacker",
    )

    assert response.status_code == 403
    assert shared.status_code == 410
    assert shared.json()["code"] == "hook_moved"
    person.refresh_from_db()
    assert person.opted_out_channels == []
    assert not InboundContact.objects.exists()


@pytest.mark.parametrize("forgery", ["missing", "wrong_token", "tampered"])
def test_forged_inbound_gets_403_and_writes_nothing(client, forgery):
    config = twilio_config("sms")
    person = PersonFactory(workspace=config.workspace, phone=CLIENT)
    params = inbound_params(from_=CLIENT, to=OUR_NUMBER, body="START")
    headers = {"HTTP_X_TWILIO_SIGNATURE": sign(PUBLIC_BASE_URL + inbound_path(config), params)}
    params["Body"] = "STOP"
    if forgery == "missing":
        headers = {}
    elif forgery == "wrong_token":
        headers = {"HTTP_X_TWILIO_SIGNATURE": sign(PUBLIC_BASE_URL + inbound_path(config), params, "guess")}

    response = client.post(inbound_path(config), data=urlencode(params), content_type=FORM, **headers)

    assert response.status_code == 403
    assert response.json()["code"] == "invalid_signature"
    person.refresh_from_db()
    assert person.opted_out_channels == []
    assert not InboundContact.objects.exists()


def test_a_number_no_workspace_sends_from_records_nothing(client):
    config = twilio_config("sms", from_number="+14155550177")

    assert inbound(client, "hello", channel=config).status_code == 200

    assert not InboundContact.objects.exists()


def test_each_message_moves_the_session_window(client):
    config = twilio_config("whatsapp")
    before = timezone.now()

    inbound(client, "Hi!", channel=config, from_=f"whatsapp:{CLIENT}", to=f"whatsapp:{OUR_NUMBER}")
    first = InboundContact.objects.get().last_inbound_at
    inbound(
        client, "Thanks", channel=config, from_=f"whatsapp:{CLIENT}", to=f"whatsapp:{OUR_NUMBER}", sid="SM" + "e7" * 16
    )

    contact = InboundContact.objects.get()
    assert before <= first <= contact.last_inbound_at
    assert contact.channel == "whatsapp"
    assert contact.last_message_sid == "SM" + "e7" * 16
