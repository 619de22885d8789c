"""layers.incidents.photos: photos checked by content, re-encoded without metadata, staged until the
row commits, attached once to one event of their own case, swept when left over; the database keeps
attached photos fixed."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import Error, transaction
from django.utils import timezone

from gis_core.errors import ServiceError
from layers.incidents import photos, services
from layers.incidents.models import CaseEvent, CasePhoto

from . import images
from .conftest import LAT, LON

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def files_under(root) -> list:
    return sorted(p for p in root.rglob("*") if p.is_file())


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def report(user, **values):
    return services.report_case(user, "06010", (LON, LAT), "EPSG:4490", "垃圾", **values)


def test_a_photo_is_stored_re_encoded_upright_without_exif_after_commit(
    grid_worker, media, django_capture_on_commit_callbacks
):
    original = images.jpeg_with_gps(size=(40, 20), orientation=6)
    assert images.exif_of(original)[("gps", 2)] == (35.0, 32.0, 43.8)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        photo = photos.store(grid_worker, upload(original))
    staged = media / photos.STAGING / photo.path.rsplit("/", 1)[1]
    assert files_under(media) == [staged]  # nothing in place before the commit
    for callback in callbacks:
        callback()
    stored = (media / photo.path).read_bytes()
    assert files_under(media) == [media / photo.path]
    assert images.exif_of(stored) == {}  # no GPS, no camera, no orientation left
    assert b"GridPhone" not in stored and b"Exif" not in stored
    assert images.size_of(stored) == (20, 40) == (photo.width, photo.height)  # turned as the camera said
    assert photo.content_type == "image/jpeg" and photo.bytes == len(stored)
    assert photo.case is None and photo.event is None and photo.uploaded_by == grid_worker


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_lose_their_exif_gps_too(grid_worker, fmt):
    original = images.image(fmt, size=(40, 20), exif=images.gps_exif())
    assert images.exif_of(original)[("gps", 1)] == "N"
    photo = photos.store(grid_worker, upload(original))
    stored = photos.file_of(photo).read_bytes()
    assert images.exif_of(stored) == {} and b"GridPhone" not in stored
    assert (photo.width, photo.height) == (20, 40)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (images.image("PNG"), "image/png"),
        (images.image("WEBP"), "image/webp"),
        (images.image("PNG", mode="RGBA", colour=(1, 2, 3, 100)), "image/png"),
        (images.image("PNG", mode="P", colour=3), "image/png"),
        (images.image("PNG", mode="I;16", colour=300), "image/png"),
        (images.image("PNG", mode="1", colour=1), "image/png"),
        (images.image("JPEG", mode="CMYK", colour=(1, 2, 3, 4)), "image/jpeg"),
        (images.image("JPEG", mode="L", colour=9), "image/jpeg"),
    ],
)
def test_png_and_webp_are_kept_as_what_their_content_is_whatever_the_name(grid_worker, data, kind):
    photo = photos.store(grid_worker, upload(data, name="photo.jpg", content_type="image/jpeg"))
    assert photo.content_type == kind and photo.path.endswith("." + kind.split("/")[1].replace("jpeg", "jpg"))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (images.HTML, "not a JPEG, PNG or WebP"),
        (images.html_then_jpeg(), "not a JPEG, PNG or WebP"),
        (images.image("GIF"), "not a JPEG, PNG or WebP"),
        (images.image("BMP"), "not a JPEG, PNG or WebP"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "not a JPEG, PNG or WebP"),
        (b"%PDF-1.4\n", "not a JPEG, PNG or WebP"),
        (images.image("JPEG")[:200], "damaged"),
        (images.image("PNG")[:60], "damaged"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 64, "not a JPEG, PNG or WebP"),
        (b"", "empty"),
    ],
)
def test_anything_but_a_whole_jpeg_png_or_webp_is_refused_and_nothing_is_written(grid_worker, media, data, reason):
    with pytest.raises(ServiceError) as refused:
        photos.store(grid_worker, upload(data, name="photo.jpg"))
    assert refused.value.status == 400 and refused.value.field == "file" and reason in refused.value.message
    assert not CasePhoto.objects.exists() and files_under(media) == []


def test_a_jpeg_carrying_html_after_its_end_is_stored_as_its_image_only(grid_worker, media):
    photo = photos.store(grid_worker, upload(images.jpeg_then_html()))
    stored = photos.file_of(photo).read_bytes()
    assert b"<script" not in stored and b"html" not in stored.lower()
    assert stored.startswith(b"\xff\xd8\xff")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_large_photos_are_stored_scaled_to_the_long_side_limit(grid_worker, settings, fmt):
    settings.GRIDCITY_PHOTO_MAX_SIDE = 500
    photo = photos.store(grid_worker, upload(images.image(fmt, size=(2400, 1000))))
    assert (photo.width, photo.height) == (500, 208)
    assert images.size_of(photos.file_of(photo).read_bytes()) == (500, 208)
    turned = photos.store(grid_worker, upload(images.jpeg_with_gps(size=(2400, 1000), orientation=6)))
    assert (turned.width, turned.height) == (208, 500)


def test_size_and_pixel_limits(grid_worker, media, settings):
    settings.GRIDCITY_PHOTO_MAX_BYTES = 1000
    big = images.image("PNG", size=(300, 300), mode="RGB", colour=(1, 2, 3))
    noisy = images.image("JPEG", size=(400, 400), quality=100)
    assert len(noisy) > 1000
    with pytest.raises(ServiceError) as refused:
        photos.store(grid_worker, upload(noisy))
    assert refused.value.status == 413 and refused.value.field == "file"
    settings.GRIDCITY_PHOTO_MAX_BYTES = 8 * 1024 * 1024
    settings.GRIDCITY_PHOTO_MAX_PIXELS = 300 * 300 - 1  # a small file of many pixels: a decompression bomb
    with pytest.raises(ServiceError) as refused:
        photos.store(grid_worker, upload(big))
    assert refused.value.status == 400 and "pixels" in refused.value.message
    assert not CasePhoto.objects.exists() and files_under(media) == []


def test_who_may_upload(grid_worker, dispatcher, unit_user, user_factory, unit):
    with pytest.raises(ServiceError) as refused:
        photos.store(user_factory("nobody"), upload(images.image()))
    assert refused.value.status == 403
    case = services.dispatch(dispatcher, report(dispatcher), organisation=unit)
    with pytest.raises(ServiceError) as refused:  # no step of the grid worker's is open on a dispatched case
        photos.store(grid_worker, upload(images.image()), case)
    assert refused.value.status == 403
    assert photos.store(unit_user, upload(images.image()), case).case == case
    assert photos.store(dispatcher, upload(images.image()), case).case == case
    closed = report(dispatcher)
    services.void(dispatcher, closed, "误报")
    closed.refresh_from_db()
    with pytest.raises(ServiceError) as refused:
        photos.store(dispatcher, upload(images.image()), closed)
    assert refused.value.status == 409


def test_pending_uploads_per_user_are_limited(grid_worker, settings):
    settings.GRIDCITY_PHOTO_MAX_PENDING = 2
    photos.store(grid_worker, upload(images.image()))
    photos.store(grid_worker, upload(images.image()))
    with pytest.raises(ServiceError) as refused:
        photos.store(grid_worker, upload(images.image()))
    assert "wait to be attached" in refused.value.message


def test_a_report_and_a_step_attach_the_users_uploads_to_their_events(grid_worker, dispatcher, unit, unit_user):
    first, second = (photos.store(grid_worker, upload(images.image())) for _ in range(2))
    case = report(grid_worker, photos=[first.pk, second.pk])
    event = case.events.get(action="report")
    assert list(event.photos.order_by("id")) == [first, second]
    assert {p.case_id for p in (first, second)} == {None}  # the objects above; the rows:
    assert set(CasePhoto.objects.values_list("case", "event")) == {(case.pk, event.pk)}
    case = services.dispatch(dispatcher, case, organisation=unit)
    handled = photos.store(unit_user, upload(images.image()), case)
    services.accept(unit_user, case)
    services.act(unit_user, case, "handle", note="已清理", photos=[handled.pk])
    assert photos.urls_by_event(case) == {
        event.pk: [photos.url_of(first.pk), photos.url_of(second.pk)],
        case.events.get(action="handle").pk: [photos.url_of(handled.pk)],
    }


def test_photos_that_are_not_the_users_unattached_uploads_for_the_case_refuse_the_whole_step(
    grid_worker, dispatcher, unit
):
    theirs = photos.store(dispatcher, upload(images.image()))
    with pytest.raises(ServiceError) as refused:
        report(grid_worker, photos=[theirs.pk])
    assert refused.value.field == "photos"
    case = report(dispatcher)
    other = report(dispatcher)
    for_other = photos.store(dispatcher, upload(images.image()), other)
    events = CaseEvent.objects.count()
    for ids in ([for_other.pk], [theirs.pk, theirs.pk], [999999], "1", [True]):
        with pytest.raises(ServiceError) as refused:
            services.act(dispatcher, case, "dispatch", organisation=unit, photos=ids)
        assert refused.value.field == "photos"
    case.refresh_from_db()
    assert case.state == "reported" and CaseEvent.objects.count() == events
    services.act(dispatcher, case, "dispatch", organisation=unit, photos=[theirs.pk])
    with pytest.raises(ServiceError):  # attached once, never again
        services.act(dispatcher, case, "reassign", organisation=None, photos=[theirs.pk])


def test_the_database_keeps_attached_photos_fixed(grid_worker, dispatcher):
    photo = photos.store(grid_worker, upload(images.image()))
    case = report(grid_worker, photos=[photo.pk])
    other = report(dispatcher)
    for change in (
        lambda: CasePhoto.objects.filter(pk=photo.pk).update(event=None),
        lambda: CasePhoto.objects.filter(pk=photo.pk).update(sha256="0" * 64),
        lambda: CasePhoto.objects.filter(pk=photo.pk).update(case=other),
        lambda: CasePhoto.objects.filter(pk=photo.pk).delete(),
    ):
        with pytest.raises(Error), transaction.atomic():
            change()
    loose = photos.store(grid_worker, upload(images.image()))
    with pytest.raises(Error), transaction.atomic():  # an event of another case
        CasePhoto.objects.filter(pk=loose.pk).update(case=other, event=case.events.get())
    with pytest.raises(Error), transaction.atomic():  # unattached, its bytes are still fixed
        CasePhoto.objects.filter(pk=loose.pk).update(path="incidents/2026/01/" + "a" * 32 + ".jpg")
    CasePhoto.objects.filter(pk=loose.pk).delete()  # an unattached upload may go


def test_a_rolled_back_upload_leaves_no_photo_and_sweep_clears_its_staged_file(grid_worker, media):
    with pytest.raises(RuntimeError), transaction.atomic():
        photos.store(grid_worker, upload(images.image()))
        raise RuntimeError("the request failed after the upload")
    assert not CasePhoto.objects.exists()
    assert [p.parent.name for p in files_under(media)] == [".staging"]  # never in place
    assert photos.sweep(timezone.now())["staged_dropped"] == 0  # may still be committing
    assert photos.sweep(timezone.now() + timedelta(hours=1))["staged_dropped"] == 1
    assert files_under(media) == []


def test_sweep_moves_committed_staged_files_and_drops_old_unattached_uploads(grid_worker, media, settings):
    kept = photos.store(grid_worker, upload(images.image()))  # on_commit never ran: still staged
    assert photos.file_of(kept).parent.name == ".staging"  # served from staging meanwhile
    case = report(grid_worker, photos=[kept.pk])
    loose = photos.store(grid_worker, upload(images.image()))
    later = timezone.now() + timedelta(hours=settings.GRIDCITY_PHOTO_PENDING_HOURS + 1)
    result = photos.sweep(later)
    assert result == {"moved": 2, "staged_dropped": 0, "unattached_dropped": 1}
    kept.refresh_from_db()
    assert list(CasePhoto.objects.all()) == [kept] and kept.event.case == case
    assert photos.file_of(kept) == media / kept.path
    assert not CasePhoto.objects.filter(pk=loose.pk).exists()


def test_the_task_and_the_command_sweep(grid_worker, media):
    from django.core.management import call_command

    from layers.incidents.intake_tasks import sweep_case_photos

    assert sweep_case_photos() == {"moved": 0, "staged_dropped": 0, "unattached_dropped": 0}
    out = io.StringIO()
    call_command("sweep_case_photos", stdout=out)
    assert "moved: 0" in out.getvalue()
