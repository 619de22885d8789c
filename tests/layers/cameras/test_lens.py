"""Range and angle from lens data: the recognise distance (125 px/m) of a typical 1/2.8" 1080p camera."""

import math

import pytest
from django.db import IntegrityError, connection, transaction
from django.test import Client

from gis_core.errors import ServiceError
from layers.cameras import geometry, importer, services
from layers.cameras.models import Camera

from .conftest import values

# 1/2.8" sensor (5.37 mm wide), 1920 pixels across, a 4 mm lens.
LENS = {"focal_mm": 4, "sensor_width_mm": 5.37, "image_width_px": 1920}


def test_lens_formulas_by_hand():
    # Angle: 2 atan(5.37 / 8) = 67.74 deg. Range: the scene is d * 5.37 / 4 m wide over 1920 px; at 125
    # px/m that is 1920 / 125 = 15.36 m of scene, so d = 15.36 * 4 / 5.37 = 11.44 m.
    assert geometry.lens_h_fov(4, 5.37) == pytest.approx(67.743, abs=0.001)
    assert geometry.lens_range(4, 5.37, 1920, 125) == pytest.approx(11.441, abs=0.001)


def test_a_camera_with_lens_data_takes_its_angle_and_range_from_the_lens(editor):
    over = {k: v for k, v in values().items() if k not in ("h_fov", "range_m")}
    camera = services.create(editor, {**over, **LENS})
    assert camera.h_fov == pytest.approx(67.74) and camera.range_m == pytest.approx(11.4)
    # The stored sector reaches ~11.4 m, not the 100 m a typed range would give.
    with connection.cursor() as cur:
        cur.execute(
            "SELECT max(ST_Distance(c.geom::geography, (d).geom::geography)) "
            "FROM cameras_camera c, ST_DumpPoints(c.view_geom) d"
        )
        assert cur.fetchone()[0] == pytest.approx(11.4, abs=0.1)


def test_a_long_lens_is_capped_at_the_largest_range(editor):
    over = {k: v for k, v in values().items() if k not in ("h_fov", "range_m")}
    camera = services.create(editor, {**over, "focal_mm": 200, "sensor_width_mm": 5.37, "image_width_px": 1920})
    assert camera.range_m == 500 and camera.h_fov == pytest.approx(math.degrees(2 * math.atan(5.37 / 400)), abs=0.01)


@pytest.mark.parametrize(
    "lens, field",
    [
        ({"focal_mm": 4, "sensor_width_mm": 5.37}, "image_width_px"),
        ({**LENS, "focal_mm": 0}, "focal_mm"),
        ({**LENS, "sensor_width_mm": 80}, "sensor_width_mm"),
        ({**LENS, "image_width_px": 1920.5}, "image_width_px"),
        ({**LENS, "image_width_px": "很多"}, "image_width_px"),
        ({**LENS, "range_m": 300}, "range_m"),
    ],
)
def test_bad_or_conflicting_lens_data_is_refused_naming_the_field(editor, lens, field):
    body = {k: v for k, v in values().items() if k not in ("h_fov", "range_m")} | lens
    with pytest.raises(ServiceError) as refused:
        services.create(editor, body)
    assert field in refused.value.errors
    assert not Camera.objects.exists()


def test_clearing_the_lens_lets_an_editor_type_the_range_again(editor):
    over = {k: v for k, v in values().items() if k not in ("h_fov", "range_m")}
    camera = services.create(editor, {**over, **LENS})
    camera = services.update(editor, camera, {f: None for f in LENS} | {"range_m": 80})
    assert camera.range_m == 80 and camera.focal_mm is None


def test_the_database_refuses_half_a_lens(editor, camera):
    with pytest.raises(IntegrityError), transaction.atomic():
        Camera.objects.filter(pk=camera.pk).update(focal_mm=4)


def test_the_api_shows_where_the_range_came_from(editor):
    over = {k: v for k, v in values().items() if k not in ("h_fov", "range_m")}
    client = Client()
    client.force_login(editor)
    answer = client.post("/api/cameras/", {**over, **LENS}, content_type="application/json")
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["range_source"] == "lens" and body["range_m"] == pytest.approx(11.4)
    assert body["image_width_px"] == 1920


def test_a_catalogue_with_lens_columns_imports_and_exports_them(editor, tmp_path):
    v = values()
    row = {
        "DeviceID": v["device_id"], "Name": v["name"], "Longitude": str(v["lon"]), "Latitude": str(v["lat"]),
        "FocalLength": "4", "SensorWidth": "5.37", "ImageWidth": "1920",
    }  # fmt: skip
    report = importer.import_rows(editor, list(row), [(2, row)])
    assert report["created"] == 1, report
    columns, rows = importer.export_rows(Camera.objects.all(), with_stream=False)
    out = dict(zip(columns, rows[0]))
    assert (out["FocalLength"], out["SensorWidth"], out["ImageWidth"]) == (4, 5.37, 1920)
    assert out["Range"] == pytest.approx(11.4)
