import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.test import Client

from components import roles
from layers.cameras.models import Camera, CameraEvent
from layers.models import Grid, GridLevel
from tests.factories import make_user

from .conftest import LAT, LON, device_id, values


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def _post(user, body):
    return _client(user).post("/api/cameras/", body, content_type="application/json")


def _grid(code, x, y, size=0.002):
    GridLevel.objects.get_or_create(level=4, defaults={"slug": "base", "name": "单元网格", "code_length": 15})
    square = Polygon.from_bbox((x, y, x + size, y + size))
    square.srid = 4490
    return Grid.objects.create(code=code, name=f"网格{code[-3:]}", level_id=4, geom=MultiPolygon(square, srid=4490))


def test_an_editor_creates_a_camera_with_its_sectors_grid_and_history(editor):
    grid = _grid("370812001001001", LON - 0.001, LAT - 0.001)
    answer = _post(editor, values(ptz="dome", stream_url="rtsp://10.0.0.1/1"))
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["grid_code"] == grid.code and body["device_type"] == "网络摄像机"
    assert body["stream_url"] == "rtsp://10.0.0.1/1"
    camera = Camera.objects.get()
    assert camera.reach_geom.area > camera.view_geom.area * 3.9
    assert CameraEvent.objects.filter(pgh_obj_id=camera.pk, pgh_label="insert").exists()


@pytest.mark.parametrize(
    "over, field",
    [
        ({"device_id": "123"}, "device_id"),
        ({"device_id": device_id(1, "118")}, "device_id"),
        ({"device_id": "11010200081321000001"}, "device_id"),
        ({"azimuth": 360}, "azimuth"),
        ({"azimuth": -1}, "azimuth"),
        ({"h_fov": 0}, "h_fov"),
        ({"h_fov": 361}, "h_fov"),
        ({"v_fov": 400}, "v_fov"),
        ({"range_m": 0}, "range_m"),
        ({"range_m": 5000}, "range_m"),
        ({"range_m": "far"}, "range_m"),
        ({"lon": 120.0}, "lon"),
        ({"lat": 0}, "lat"),
        ({"ptz": "wobbly"}, "ptz"),
        ({"ptz": "pan_range"}, "pan_min"),
        ({"pan_min": 10}, "pan_min"),
        ({"state": "asleep"}, "state"),
        ({"owner": "91370000MA000000XX"}, "owner"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_values_are_refused_naming_the_field_and_nothing_is_written(editor, over, field):
    answer = _post(editor, values(**over))
    assert answer.status_code == 400, answer.content
    assert answer.json()["field"] == field
    assert not Camera.objects.exists()


def test_a_duplicate_id_is_refused(editor, camera):
    answer = _post(editor, values())
    assert answer.status_code == 400 and answer.json()["field"] == "device_id"


def test_only_editors_write(dispatcher, camera):
    assert _post(dispatcher, values(2)).status_code == 403
    c = _client(dispatcher)
    assert c.patch(f"/api/cameras/{camera.pk}/", {"azimuth": 10}, content_type="application/json").status_code == 403
    assert c.get(f"/api/cameras/{camera.pk}/").json()["stream_url"] == ""


def test_update_recomputes_the_sector_and_delete_removes(editor, camera):
    c = _client(editor)
    before = camera.view_geom
    answer = c.patch(f"/api/cameras/{camera.pk}/", {"azimuth": 180}, content_type="application/json")
    assert answer.status_code == 200, answer.content
    camera.refresh_from_db()
    assert camera.azimuth == 180 and not camera.view_geom.equals(before)
    assert camera.view_geom.extent[3] == pytest.approx(LAT)  # looks south: nothing north of the camera
    bad = c.patch(f"/api/cameras/{camera.pk}/", {"range_m": -5}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["field"] == "range_m"
    camera.refresh_from_db()
    assert camera.range_m == 100
    assert c.delete(f"/api/cameras/{camera.pk}/").status_code == 204
    assert not Camera.objects.exists()


def test_list_filters_by_grid(editor):
    grid = _grid("370812001001002", LON - 0.001, LAT - 0.001)
    _post(editor, values(1))
    _post(editor, values(2, lon=LON + 0.01))
    c = _client(editor)
    assert c.get("/api/cameras/").json()["count"] == 2
    found = c.get(f"/api/cameras/?grid={grid.code}").json()
    assert [r["device_id"] for r in found["results"]] == [device_id(1)]


def test_seeing_orders_by_distance_and_names_ptz_cameras_that_could_turn(editor):
    near = LAT + 0.0002  # ~22 m north of LAT
    _post(editor, values(1, lat=LAT + 0.0001, azimuth=0))  # ~11 m away, looks north
    _post(editor, values(2, lat=LAT - 0.0003, azimuth=0))  # ~55 m away, looks north
    _post(editor, values(3, azimuth=180, ptz="dome"))  # looks south, could turn
    _post(editor, values(4, azimuth=180))  # looks south, fixed
    answer = _client(editor).get(f"/api/cameras/seeing/?lon={LON}&lat={near}").json()
    assert [c["device_id"] for c in answer["cameras"]] == [device_id(1), device_id(2)]
    assert answer["cameras"][0]["distance_m"] < answer["cameras"][1]["distance_m"]
    assert [c["device_id"] for c in answer["could_turn"]] == [device_id(3)]
    bad = _client(editor).get("/api/cameras/seeing/?lon=x&lat=1")
    assert bad.status_code == 400 and bad.json()["field"] == "lon"


def test_blind_grids_are_those_no_view_touches(editor):
    seen = _grid("370812001001003", LON - 0.001, LAT + 0.0002)
    blind = _grid("370812001001004", LON + 0.01, LAT + 0.01)
    _post(editor, values(1))
    codes = [g["code"] for g in _client(editor).get("/api/cameras/blind-grids/").json()["grids"]]
    assert blind.code in codes and seen.code not in codes


def test_a_unit_sees_only_its_own_cameras(editor):
    from tests.factories import OrganisationFactory

    org = OrganisationFactory()
    _post(editor, values(1, maintainer=org.uscc))
    _post(editor, values(2))
    unit = make_user("camera_unit", roles.MAINTENANCE_UNIT, organisation=org)
    found = _client(unit).get("/api/cameras/").json()
    assert [r["device_id"] for r in found["results"]] == [device_id(1)]


def test_the_admin_lists_cameras_read_only(camera):
    admin = make_user("camera_admin", roles.ADMINISTRATOR)
    admin.is_staff = admin.is_superuser = True
    admin.save()
    c = _client(admin)
    assert c.get("/admin/cameras/camera/").status_code == 200
    assert c.get("/admin/cameras/camera/add/").status_code == 403
