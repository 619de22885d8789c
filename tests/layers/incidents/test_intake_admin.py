"""Photos, reporters and merges show read-only in the admin, without the photo's server path."""

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from layers.incidents import merging, photos, services

from . import images
from .conftest import LAT, LON

pytestmark = pytest.mark.django_db


def test_intake_rows_render_read_only(dispatcher, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    admin = Client()
    admin.force_login(get_user_model().objects.create_superuser("intake_admin", password="test-pass-123"))
    photo = photos.store(dispatcher, SimpleUploadedFile("p.jpg", images.image()))
    kept = services.report_case(dispatcher, "06010", (LON, LAT), "EPSG:4490", "垃圾", photos=[photo.pk])
    duplicate = services.report_case(dispatcher, "06010", (LON, LAT), "EPSG:4490", "垃圾")
    merging.merge(dispatcher, duplicate, kept.number)
    for model in ("casephoto", "casereporter", "casemerge"):
        assert admin.get(f"/admin/incidents/{model}/").status_code == 200
        assert admin.get(f"/admin/incidents/{model}/add/").status_code == 403
    page = admin.get(f"/admin/incidents/casephoto/{photo.pk}/change/").content.decode()
    assert photos.url_of(photo.pk) in page and photo.path not in page and str(tmp_path) not in page
