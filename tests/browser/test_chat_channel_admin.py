"""The admin's channel form in Chromium: adding a Microsoft Teams channel by its webhook URL.

Several kinds share the ``webhook_url`` field, so the add page has one input per kind's section;
only the chosen kind's section may be sent (hidden sections are disabled), else another
section's empty input would replace the URL typed in."""

import pytest

from notifications.models import ChannelConfig
from tests.browser.test_admin import signed_in, staff  # noqa: F401 (fixtures)
from tests.factories import WorkspaceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEAMS_URL = "https://contoso.webhook.office.com/webhookb2/6f1c@72f9/IncomingWebhook/8a1b2c/0d9e"


def test_adding_a_teams_channel_keeps_the_url_typed_in(signed_in, live_server, screenshot):  # noqa: F811
    workspace = WorkspaceFactory(name="Lima & Co")
    page = signed_in()

    page.goto(f"{live_server.url}/admin/notifications/channelconfig/add/?workspace={workspace.pk}")
    page.select_option("#id_kind", "teams")
    visible = page.locator("fieldset.bb-kind-teams input[name=webhook_url]")
    visible.fill(TEAMS_URL)
    assert page.locator("fieldset.bb-kind-slack").is_hidden()
    assert page.locator("fieldset.bb-kind-gchat").evaluate("fieldset => fieldset.disabled")
    if not page.locator("#id_workspace").input_value():
        page.evaluate(
            "([id]) => { const s = document.getElementById('id_workspace'); s.add(new Option('ws', id, true, true)); }",
            [str(workspace.pk)],
        )
    screenshot(page, "admin-channel-teams")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")

    config = ChannelConfig.objects.get(workspace=workspace)
    assert (config.kind, config.webhook_url) == ("teams", TEAMS_URL)


def test_a_refused_teams_url_is_explained_and_nothing_is_saved(signed_in, live_server):  # noqa: F811
    workspace = WorkspaceFactory(name="Lima & Co")
    page = signed_in()

    page.goto(f"{live_server.url}/admin/notifications/channelconfig/add/?workspace={workspace.pk}")
    page.select_option("#id_kind", "teams")
    page.locator("fieldset.bb-kind-teams input[name=webhook_url]").fill("https://169.254.169.254/webhookb2/x")
    if not page.locator("#id_workspace").input_value():
        page.evaluate(
            "([id]) => { const s = document.getElementById('id_workspace'); s.add(new Option('ws', id, true, true)); }",
            [str(workspace.pk)],
        )
    page.click("input[name=_save]")
    page.wait_for_selector(".errorlist")

    assert "must name a host, not an IP address" in page.content()
    assert not ChannelConfig.objects.exists()
