"""The photo endpoints: upload (multipart `file`) -> {id, url}, photos named in report and step bodies,
the timeline's photo URLs, and the file itself to those who may see its case, with refusals in the
API's error form and nothing written when refused."""

import pytest
from django.test import Client

from layers.incidents.models import Case, CaseEvent, CasePhoto

from . import images
from .conftest import LAT, LON

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def files_under(root) -> list:
    return sorted(p for p in root.rglob("*") if p.is_file())


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def send(client, url: str, data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(url, {"file": SimpleUploadedFile(name, data, content_type=content_type)})


def report(client, **values):
    body = {"class_code": "06010", "point": [LON, LAT], "description": "垃圾", **values}
    return client.post("/api/incidents/", body, content_type="application/json")


def test_photos_through_a_report_and_a_step_to_the_timeline(
    grid_worker, dispatcher, unit, unit_user, media, django_capture_on_commit_callbacks
):
    field = client_for(grid_worker)
    with django_capture_on_commit_callbacks(execute=True):
        r = send(field, "/api/incidents/photos/", images.jpeg_with_gps())
    assert r.status_code == 201, r.json()
    photo = r.json()
    assert set(photo) == {"id", "url"} and photo["url"] == f"/api/incidents/photos/{photo['id']}/"
    assert str(media) not in r.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        r = report(field, photos=[photo["id"]])
    assert r.status_code == 201, r.json()
    number = r.json()["id"]
    assert r.json()["properties"]["events"][0]["photos"] == [photo["url"]]

    desk = client_for(dispatcher)
    assert (
        desk.post(
            f"/api/incidents/{number}/actions/dispatch/", {"organisation": unit.uscc}, content_type="application/json"
        ).status_code
        == 200
    )
    unit_client = client_for(unit_user)
    with django_capture_on_commit_callbacks(execute=True):
        handled = send(unit_client, f"/api/incidents/{number}/photos/", images.image("PNG"), name="fixed.png").json()
    body = {"note": "已清理", "photos": [handled["id"]]}
    r = unit_client.post(f"/api/incidents/{number}/actions/handle/", body, content_type="application/json")
    assert r.status_code == 200, r.json()
    timeline = desk.get(f"/api/incidents/{number}/").json()["properties"]["events"]
    assert [(e["action"], e["photos"]) for e in timeline] == [
        ("report", [photo["url"]]),
        ("dispatch", []),
        ("handle", [handled["url"]]),
    ]

    r = desk.get(photo["url"])
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"
    stored = b"".join(r.streaming_content)
    assert images.exif_of(stored) == {} and images.size_of(stored) == (20, 40)
    assert r["X-Content-Type-Options"] == "nosniff" and "sandbox" in r["Content-Security-Policy"]
    assert r["Cache-Control"].startswith("private") and r["ETag"]
    assert str(media) not in str(r.headers) and f'filename="{number}-{photo["id"]}.jpg"' in r["Content-Disposition"]
    again = desk.get(photo["url"], HTTP_IF_NONE_MATCH=r["ETag"])
    assert again.status_code == 304 and again["ETag"] == r["ETag"]
    assert unit_client.get(handled["url"])["Content-Type"] == "image/png"


def test_refused_uploads_say_why_and_write_nothing(grid_worker, media, settings):
    field = client_for(grid_worker)
    for data, name in [
        (images.HTML, "photo.jpg"),
        (images.html_then_jpeg(), "photo.jpg"),
        (images.image("GIF"), "photo.jpg"),
        (b"\x89PNG\r\n\x1a\n" + images.HTML, "photo.png"),
        (images.image("JPEG")[:150], "photo.jpg"),
    ]:
        r = send(field, "/api/incidents/photos/", data, name=name)
        assert r.status_code == 400 and r.json()["field"] == "file", r.content
    assert field.post("/api/incidents/photos/", {}).json()["field"] == "file"
    r = field.post("/api/incidents/photos/", {"note": "x"}, content_type="application/json")
    assert r.status_code == 415
    settings.GRIDCITY_PHOTO_MAX_BYTES = 2000
    r = send(field, "/api/incidents/photos/", images.image("JPEG", size=(400, 400), quality=100))
    assert r.status_code == 413 and r.json()["field"] == "file"
    assert not CasePhoto.objects.exists() and files_under(media) == []


def test_a_polyglot_is_served_as_its_image_only(grid_worker, django_capture_on_commit_callbacks):
    field = client_for(grid_worker)
    with django_capture_on_commit_callbacks(execute=True):
        photo = send(
            field, "/api/incidents/photos/", images.jpeg_then_html(), name="page.html", content_type="text/html"
        ).json()
    r = field.get(photo["url"])  # the uploader sees an unattached photo of theirs
    body = b"".join(r.streaming_content)
    assert r["Content-Type"] == "image/jpeg" and b"<script" not in body


def test_who_may_upload_and_see_photos(
    grid_worker, dispatcher, unit, unit_user, other_unit_user, user_factory, django_capture_on_commit_callbacks
):
    desk = client_for(dispatcher)
    number = report(desk).json()["id"]
    assert (
        desk.post(
            f"/api/incidents/{number}/actions/dispatch/", {"organisation": unit.uscc}, content_type="application/json"
        ).status_code
        == 200
    )
    # Not their unit's case: not found, as for any case they cannot see.
    assert send(client_for(other_unit_user), f"/api/incidents/{number}/photos/", images.image()).status_code == 404
    # A grid worker sees the case but takes no step on it while it is with the unit.
    r = send(client_for(grid_worker), f"/api/incidents/{number}/photos/", images.image())
    assert r.status_code == 403 and r.json()["field"] == "file"
    assert send(client_for(user_factory("no_role")), "/api/incidents/photos/", images.image()).status_code == 403
    assert send(Client(), "/api/incidents/photos/", images.image()).status_code in (401, 403)
    assert send(desk, "/api/incidents/99999999999999/photos/", images.image()).status_code == 404
    assert not CasePhoto.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        loose = send(client_for(unit_user), f"/api/incidents/{number}/photos/", images.image()).json()
    # Not attached yet: only its uploader sees it.
    assert client_for(unit_user).get(loose["url"]).status_code == 200
    assert desk.get(loose["url"]).status_code == 404
    # Another user cannot attach it, and the refused step changes nothing.
    events = CaseEvent.objects.count()
    r = desk.post(
        f"/api/incidents/{number}/actions/reassign/",
        {"organisation": other_unit_user.profile.organisation.uscc, "photos": [loose["id"]]},
        content_type="application/json",
    )
    assert r.status_code == 400 and r.json()["field"] == "photos"
    assert CaseEvent.objects.count() == events and Case.objects.get(number=number).assigned_org == unit
    r = client_for(unit_user).post(
        f"/api/incidents/{number}/actions/accept/", {"photos": [loose["id"]]}, content_type="application/json"
    )
    assert r.status_code == 200
    assert desk.get(loose["url"]).status_code == 200
    assert client_for(other_unit_user).get(loose["url"]).status_code == 404
    assert Client().get(loose["url"]).status_code in (401, 403)
    assert desk.get("/api/incidents/photos/999999/").status_code == 404
    assert desk.get("/api/incidents/photos/" + "9" * 40 + "/").status_code == 404
    r = desk.post(
        "/api/incidents/",
        {"class_code": "06010", "point": [LON, LAT], "photos": ["x"]},
        content_type="application/json",
    )
    assert r.status_code == 400 and r.json()["field"].startswith("photos")


def test_a_body_over_the_limit_is_refused_413_from_its_length_before_it_is_read(grid_worker, settings, media):
    settings.GRIDCITY_PHOTO_MAX_BYTES = 1000
    r = send(client_for(grid_worker), "/api/incidents/photos/", b"\xff\xd8\xff" + b"\0" * 100_000)
    assert r.status_code == 413 and r.json()["field"] == "file" and "the upload is" in r.json()["message"]
    r = send(Client(), "/api/incidents/photos/", b"\0" * 100_000)  # before credentials are even looked at
    assert r.status_code == 413
    assert not CasePhoto.objects.exists() and files_under(media) == []
