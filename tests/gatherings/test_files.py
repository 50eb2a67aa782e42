"""Photos and PDFs of a gathering: type by content, size limits, images re-encoded without EXIF
location and thumbnailed, stored through the storage API, served only by signed expiring URLs."""

import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from gatherings import files
from gatherings.models import EventFile
from tests.conftest import client_for
from tests.factories import MembershipFactory
from tests.gatherings.factories import GatheringFactory

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def jpeg_with_location(size=(1200, 800)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "CameraMaker"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° to show upright
    exif.get_ifd(GPS_IFD)[2] = (52.0, 31.0, 12.0)  # GPSLatitude
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def upload(party, data: bytes, name: str = "photo.jpg"):
    body = {"event": str(party.event.id), "file": SimpleUploadedFile(name, data)}
    return party.other_client.post(f"{party.api}/files/", body, format="multipart")


def test_an_uploaded_photo_is_re_encoded_without_its_location_and_thumbnailed(party):
    response = upload(party, jpeg_with_location())
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["content_type"]) == ("image", "image/jpeg")
    # Turned upright from the EXIF orientation.
    assert (body["width"], body["height"]) == (800, 1200)
    record = EventFile.objects.get()
    with record.file.open("rb") as stored, Image.open(stored) as image:
        exif = image.getexif()
        assert GPS_IFD not in exif
        assert not exif.get_ifd(GPS_IFD)
        assert 0x010F not in exif
        assert image.size == (800, 1200)
    with record.thumbnail.open("rb") as stored, Image.open(stored) as thumbnail:
        assert max(thumbnail.size) == 480

    client = Client()
    served = client.get(body["url"].removeprefix("http://testserver"))
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served.streaming_content)[:2] == b"\xff\xd8"
    assert client.get(body["thumbnail_url"].removeprefix("http://testserver")).status_code == 200


def test_a_pdf_is_kept_and_served_as_a_download(party):
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = upload(party, pdf, name="receipt.PDF")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["name"], body["thumbnail_url"]) == ("pdf", "receipt.pdf", None)
    served = Client().get(body["url"].removeprefix("http://testserver"))
    assert served["Content-Disposition"].startswith("attachment")
    assert b"".join(served.streaming_content) == pdf


@pytest.mark.parametrize(
    ("data", "name", "code"),
    [
        (b"<html><script>alert(1)</script></html>", "photo.jpg", "unsupported_type"),  # the name lies
        (b"GIF89a" + b"\x00" * 20, "x.gif", "unsupported_type"),  # a header and nothing after it
        (b"", "empty.png", "empty"),
    ],
)
def test_files_of_the_wrong_type_are_refused_by_content(party, data, name, code):
    response = upload(party, data, name=name)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == code
    assert "file" in response.json()["errors"]
    assert EventFile.objects.count() == 0


def test_a_bmp_image_is_refused(party):
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, format="BMP")
    response = upload(party, out.getvalue(), name="x.png")
    assert response.status_code == 400
    assert response.json()["code"] == "unsupported_type"


def test_too_large_files_are_refused(party, settings):
    settings.GATHERINGS_MAX_FILE_BYTES = 1000
    response = upload(party, b"%PDF-" + b"x" * 2000, name="big.pdf")
    assert response.status_code == 400
    assert response.json()["code"] == "too_large"
    assert EventFile.objects.count() == 0


def test_an_image_with_too_many_pixels_is_refused():
    out = io.BytesIO()
    Image.new("1", (8000, 6000)).save(out, format="PNG")  # 48 megapixels, a small file
    with pytest.raises(files.ValidationError) as refused:
        files.prepare(SimpleUploadedFile("bomb.png", out.getvalue()))
    assert refused.value.error_dict["file"][0].code == "too_large"


def test_signed_urls_expire_and_cannot_be_forged(party):
    body = upload(party, jpeg_with_location((40, 40))).json()
    path = body["url"].removeprefix("http://testserver")
    client = Client()
    assert client.get(path).status_code == 200
    assert client.get(path[:-2] + "xx").status_code == 404
    other = path.replace(":file:", ":thumbnail:")
    assert other == path or client.get(other).status_code == 404
    with time_machine.travel(EventFile.objects.get().created_at.timestamp() + 3601, tick=False):
        assert client.get(path).status_code == 404


def test_the_uploader_or_an_organiser_deletes_a_file_and_its_bytes(party, django_capture_on_commit_callbacks):
    body = upload(party, jpeg_with_location((40, 40))).json()
    record = EventFile.objects.get()
    name = record.file.name
    storage = record.file.storage
    assert storage.exists(name)
    url = f"{party.api}/files/{body['id']}/"
    stranger = client_for(MembershipFactory(workspace=party.workspace).user)
    assert stranger.delete(url).status_code == 403
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        response = party.host_client.delete(url)
    assert response.status_code == 204
    assert not EventFile.objects.exists()
    assert not storage.exists(name)


def test_a_truncated_photo_is_refused_as_damaged(party):
    data = jpeg_with_location((400, 300))
    response = upload(party, data[: len(data) // 2])
    assert response.status_code == 400
    assert response.json()["code"] == "damaged"
    assert EventFile.objects.count() == 0


def test_an_expense_keeps_a_receipt_of_its_own_event_only(party):
    receipt = upload(party, b"%PDF-1.4\n%%EOF\n", name="receipt.pdf").json()
    body = {
        "event": str(party.event.id),
        "description": "Drinks",
        "amount": "12.00",
        "paid_by": str(party.ana.id),
        "participants": [{"person": str(party.ana.id)}, {"person": str(party.bo.id)}],
        "receipt": receipt["id"],
    }
    response = party.other_client.post(f"{party.api}/expenses/", body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["receipt"] == receipt["id"]
    assert "/gathering-files/" in response.json()["receipt_url"]

    other = GatheringFactory(workspace=party.workspace)
    foreign = files.file_upload(
        event=other, upload=SimpleUploadedFile("r.pdf", b"%PDF-1.4\n%%EOF\n"), user=party.other_member
    )
    response = party.other_client.post(f"{party.api}/expenses/", {**body, "receipt": str(foreign.id)}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"]["receipt"]
