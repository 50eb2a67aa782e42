"""A guest plans a gathering in Chromium at 390 px: opens the plan from the RSVP page, comments,
uploads a photo (its location stripped) and sees it in the gallery."""

import pytest
from PIL import Image

from gatherings.models import Comment, EventFile
from tests.browser.conftest import PHONE
from tests.pages.conftest import invited  # noqa: F401 - the fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GPS_IFD = 0x8825


@pytest.fixture
def photo(tmp_path):
    exif = Image.Exif()
    exif.get_ifd(GPS_IFD)[2] = (52.0, 31.0, 12.0)
    path = tmp_path / "party.jpg"
    Image.new("RGB", (1600, 1200), (250, 180, 40)).save(path, format="JPEG", exif=exif)
    return path


def test_a_guest_comments_and_uploads_a_photo_on_a_phone(
    open_page,
    live_server,
    invited,  # noqa: F811
    photo,
    screenshot,
    settings,
    tmp_path,
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    page = open_page(viewport=PHONE, timezone_id="Europe/Berlin")
    page.goto(f"{live_server.url}{invited.url}")
    page.get_by_role("link", name="Open the plan").click()
    page.wait_for_url("**/plan")
    assert page.locator("h1").inner_text() == "Summer dinner"

    page.get_by_label("Your comment").fill("I'll be there at 7!")
    page.get_by_role("button", name="Post comment").click()
    page.wait_for_url("**saved=1#comments")
    assert "I'll be there at 7!" in page.locator("#comments").inner_text()
    assert Comment.objects.get().author_person_id == invited.attendee.person_id

    page.get_by_label("Add a photo or a PDF").set_input_files(str(photo))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_url("**saved=1#photos")
    thumbnail = page.locator("#photos img")
    assert thumbnail.count() == 1
    # The thumbnail is lazy-loaded: wait until the browser has it (it fails after the timeout if it never comes).
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle(), timeout=15_000
    )
    record = EventFile.objects.get()
    with record.file.open("rb") as stored, Image.open(stored) as saved:
        assert not saved.getexif().get_ifd(GPS_IFD)

    # Nothing is wider than the phone's screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "gathering-plan-phone")
    assert page.js_errors == []
