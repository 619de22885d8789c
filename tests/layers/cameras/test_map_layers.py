import gzip

import mapbox_vector_tile
import mercantile
from django.test import Client

from layers import catalogue
from layers.cameras import services
from tests.layers.test_wfs_support import basic

from .conftest import LAT, LON, values


def _tile(user, layer, z=16, query=""):
    tile = mercantile.tile(LON + 0.00005, LAT + 0.00005, z)
    c = Client()
    c.force_login(user)
    answer = c.get(f"/tiles/{layer}/{z}/{tile.x}/{tile.y}.mvt{query}")
    assert answer.status_code in (200, 204), answer.content[:300]
    if answer.status_code == 204 or not answer.content:
        return []
    body = gzip.decompress(answer.content) if answer.get("Content-Encoding") == "gzip" else answer.content
    return mapbox_vector_tile.decode(body).get(layer, {}).get("features", [])


def test_layers_are_declared():
    for layer_id in ("cameras", "camera_views"):
        layer = catalogue.get(layer_id)
        assert layer is not None and layer.group == "视频监控"
    assert catalogue.get("camera_views").tiles.minzoom == 15


def test_tiles_carry_points_with_azimuth_and_sectors(editor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.create(editor, values(azimuth=45, state="fault"))
    points = _tile(editor, "cameras")
    assert len(points) == 1 and points[0]["geometry"]["type"] == "Point"
    assert points[0]["properties"]["azimuth"] == 45 and points[0]["properties"]["state"] == "fault"
    sectors = _tile(editor, "camera_views")
    assert len(sectors) == 1 and sectors[0]["geometry"]["type"] == "Polygon"
    assert not _tile(editor, "cameras", query="?state=online")


def test_wfs_serves_the_cameras(editor, camera):
    answer = Client().get(
        "/wfs?service=WFS&version=2.0.0&request=GetFeature&typeNames=gridcity:cameras&outputFormat=application/json",
        HTTP_AUTHORIZATION=basic(editor.username, "test-pass-123"),
    )
    assert answer.status_code == 200, answer.content[:300]
    assert camera.device_id in b"".join(answer.streaming_content).decode()


def test_raster_tiles_and_wms_draw_the_sectors(editor, camera):
    tile = mercantile.tile(LON + 0.00005, LAT + 0.00005, 16)
    c = Client()
    c.force_login(editor)
    r = c.get(f"/tiles/camera_views/16/{tile.x}/{tile.y}.png")
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    r = Client().get(
        "/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS=cameras,camera_views&STYLES=&CRS=EPSG:4490"
        f"&BBOX={LAT - 0.002},{LON - 0.002},{LAT + 0.002},{LON + 0.002}&WIDTH=256&HEIGHT=256&FORMAT=image/png",
        HTTP_AUTHORIZATION=basic(editor.username, "test-pass-123"),
    )
    assert r.status_code == 200 and r["Content-Type"] == "image/png", r.content[:300]
