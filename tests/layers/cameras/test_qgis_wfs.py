"""QGIS itself (Debian python3-qgis 3.22, headless, /usr/bin/python3) edits a camera over WFS-T against
a live server: it moves one and turns it, and the service recomputes its view; a bad azimuth and a
position outside the district are refused, QGIS shows the server's message and nothing changes."""

from pathlib import Path

import pytest

from components import roles
from layers.cameras import services
from layers.cameras.models import Camera
from tests.factories import make_user
from tests.layers.test_qgis_wfs import run_client

from .conftest import LAT, LON, values

SCRIPT = Path(__file__).parent.parent / "clients" / "qgis_wfs_cameras.py"
PASSWORD = "qgis-camera-pass-1"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def camera(transactional_db):
    make_user("qgis_camera_editor", roles.GIS_EDITOR, password=PASSWORD)
    services.create(None, values(2, name="旁边路口", lon=LON + 0.002))
    return services.create(None, values(1, name="东门路口", azimuth=0))


def run_qgis(live_server, camera, mode, **cfg):
    return run_client(
        SCRIPT,
        {
            "url": f"{live_server.url}/wfs",
            "username": "qgis_camera_editor",
            "password": PASSWORD,
            "device_id": camera.device_id,
            "mode": mode,
            **cfg,
        },
    )


def _state(camera):
    camera.refresh_from_db()
    return (camera.geom.wkt, camera.azimuth, camera.view_geom.wkt, camera.grid_code)


def test_qgis_moves_and_turns_a_camera_and_the_view_follows(live_server, camera):
    to = [LON + 0.0005, LAT + 0.0003]
    out = run_qgis(live_server, camera, "edit", to=to, azimuth=135.5)
    assert out["valid"], out
    assert out["can_change_geometry"] and out["can_change_attributes"], out
    assert out["crs"] == "EPSG:4490" and out["before"]["azimuth"] == 0
    assert out["move"] and out["turn"], out
    assert out["committed"], out["errors"]
    camera.refresh_from_db()
    assert camera.geom.x == pytest.approx(to[0], abs=1e-7) and camera.geom.y == pytest.approx(to[1], abs=1e-7)
    assert camera.azimuth == 135.5
    # the service recomputed the sector: south-east of the new position
    centre = camera.view_geom.centroid
    assert centre.x > to[0] + 0.0003 and centre.y < to[1] - 0.0003
    assert camera.view_geom.intersects(camera.geom)
    # the other camera is untouched, and the history has the change
    assert Camera.objects.get(name="旁边路口").geom.x == pytest.approx(LON + 0.002)
    events = list(camera.events.order_by("pgh_id"))  # QGIS sends the move and the turn as two Updates
    assert events[0].pgh_label == "insert" and len(events) >= 2 and events[-1].azimuth == 135.5


@pytest.mark.parametrize(
    ("mode", "cfg", "words"),
    [
        ("bad_azimuth", {"azimuth": 400}, ("azimuth", "400")),
        ("outside", {"to": [121.47, 31.23]}, ("lon",)),
    ],
)
def test_qgis_shows_why_an_edit_is_refused_and_nothing_changes(live_server, camera, mode, cfg, words):
    before = _state(camera)
    out = run_qgis(live_server, camera, mode, **cfg)
    assert out["valid"], out
    assert out["committed"] is False, out
    errors = " ".join(out["errors"])
    for word in words:
        assert word in errors, errors
    assert _state(camera) == before
