"""WFS-T on `cameras`: QGIS-style 1.1.0 transactions through the service; refusals as OGC exceptions."""

from django.test import Client

from layers.cameras.models import Camera
from tests.layers.test_wfs_support import basic

from .conftest import LAT, LON, device_id

WFS, GML, OGC = "http://www.opengis.net/wfs", "http://www.opengis.net/gml", "http://www.opengis.net/ogc"
HEAD = (
    f'<wfs:Transaction xmlns:wfs="{WFS}" version="1.1.0" service="WFS" xmlns:gml="{GML}" xmlns:ogc="{OGC}" '
    f'xmlns:gridcity="https://gridcity.example/ns/gridcity">'
)


def _post(user, body):
    return Client().post(
        "/wfs",
        (HEAD + body + "</wfs:Transaction>").encode(),
        content_type="text/xml",
        HTTP_AUTHORIZATION=basic(user.username, "test-pass-123"),
    )


def _update(pk, name, value):
    return (
        f'<wfs:Update typeName="gridcity:cameras"><wfs:Property><wfs:Name>{name}</wfs:Name>'
        f'<wfs:Value>{value}</wfs:Value></wfs:Property><ogc:Filter><ogc:FeatureId fid="cameras.{pk}"/>'
        f"</ogc:Filter></wfs:Update>"
    )


def test_an_editor_inserts_and_turns_a_camera(editor):
    point = f'<gml:Point srsName="EPSG:4490"><gml:pos>{LON} {LAT + 0.001}</gml:pos></gml:Point>'  # short form: lon/lat
    body = (
        f"<wfs:Insert><gridcity:cameras><gridcity:device_id>{device_id(9)}</gridcity:device_id>"
        f"<gridcity:name>新路口</gridcity:name><gridcity:azimuth>90</gridcity:azimuth>"
        f"<gridcity:h_fov>60</gridcity:h_fov><gridcity:range_m>120</gridcity:range_m>"
        f"<gridcity:geometry>{point}</gridcity:geometry></gridcity:cameras></wfs:Insert>"
    )
    r = _post(editor, body)
    assert r.status_code == 200, r.content[:500]
    camera = Camera.objects.get(device_id=device_id(9))
    assert abs(camera.geom.y - (LAT + 0.001)) < 1e-9 and abs(camera.geom.x - LON) < 1e-9
    r = _post(editor, _update(camera.pk, "azimuth", "270"))
    assert r.status_code == 200, r.content[:500]
    camera.refresh_from_db()
    assert camera.azimuth == 270 and camera.view_geom.extent[2] <= LON + 1e-9  # looks west now


def test_a_refused_value_reaches_qgis_as_an_ogc_exception(editor, camera):
    r = _post(editor, _update(camera.pk, "h_fov", "400"))
    assert r.status_code in (200, 400)  # WFS 1.1 clients read the report, whatever the status
    assert b"ExceptionReport" in r.content and b"h_fov" in r.content
    camera.refresh_from_db()
    assert camera.h_fov == 90


def test_a_dispatcher_may_not_edit(dispatcher, camera):
    assert _post(dispatcher, _update(camera.pk, "azimuth", "10")).status_code == 403
