"""STOP and START of a phone number, applied to the people who have it in the given workspaces."""

import pytest

from tests.factories import PersonFactory, WorkspaceFactory
from workspaces.opt_outs import people_channel_opt_out_set

pytestmark = pytest.mark.django_db

PHONE = "+14155550100"


def test_stop_opts_out_and_unprefers_only_in_the_given_workspaces():
    here, elsewhere = WorkspaceFactory(), WorkspaceFactory()
    person = PersonFactory(workspace=here, phone=PHONE, preferred_channels=["sms", "email"])
    other_number = PersonFactory(workspace=here, phone="+14155550199")
    untouched = PersonFactory(workspace=elsewhere, phone=PHONE)

    changed = people_channel_opt_out_set(workspace_ids=[here.pk], phone=PHONE, channel="sms", opted_out=True)

    assert changed == 1
    person.refresh_from_db()
    assert person.opted_out_channels == ["sms"]
    assert person.preferred_channels == ["email"]
    for other in (other_number, untouched):
        other.refresh_from_db()
        assert other.opted_out_channels == []
    # Again: nobody changes.
    assert people_channel_opt_out_set(workspace_ids=[here.pk], phone=PHONE, channel="sms", opted_out=True) == 0


def test_start_opts_back_in():
    person = PersonFactory(phone=PHONE, opted_out_channels=["sms", "whatsapp"])

    changed = people_channel_opt_out_set(
        workspace_ids=[person.workspace_id], phone=PHONE, channel="sms", opted_out=False
    )

    assert changed == 1
    person.refresh_from_db()
    assert person.opted_out_channels == ["whatsapp"]
    assert (
        people_channel_opt_out_set(workspace_ids=[person.workspace_id], phone=PHONE, channel="sms", opted_out=False)
        == 0
    )
