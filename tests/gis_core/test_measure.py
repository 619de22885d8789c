"""Distance and area in metres (issue 13's map tools): measured in the CGCS2000 Gauss-Krueger zone of
the shape, checked against the geodesic on the CGCS2000 ellipsoid (GRS80's, to 0.1 mm)."""

import pytest
from pyproj import Geod

from gis_core.measure import gk_srid
from tests.factories import make_user

pytestmark = pytest.mark.django_db
GEOD = Geod(ellps="GRS80")


def _get(client, **params):
    client.force_login(make_user("measurer"))
    return client.get("/api/measure/", params)


def test_zones_are_the_nearest_central_meridian():
    assert gk_srid(116.83) == 4548  # CM 117°E, the district's zone (4527 is the same zone with its number prefixed)
    assert gk_srid(115.4) == 4547 and gk_srid(115.6) == 4548
    assert gk_srid(75.0) == 4534 and gk_srid(135.0) == 4554


def test_a_line_in_metres_matches_the_geodesic(client):
    pts = [(116.82, 35.54), (116.83, 35.54), (116.83, 35.55)]
    r = _get(client, kind="line", coords=";".join(f"{x},{y}" for x, y in pts))
    assert r.status_code == 200
    body = r.json()
    assert body["crs"] == "EPSG:4548" and body["central_meridian"] == 117
    geodesic = GEOD.line_length([p[0] for p in pts], [p[1] for p in pts])
    assert abs(body["length_m"] - geodesic) / geodesic < 1e-4, (body, geodesic)
    assert len(body["segments_m"]) == 2 and abs(sum(body["segments_m"]) - body["length_m"]) < 0.01
    assert 900 < body["segments_m"][0] < 910  # 0.01° of longitude at 35.5°N


def test_an_area_in_square_metres_matches_the_geodesic(client):
    ring = [(116.82, 35.54), (116.825, 35.54), (116.825, 35.544), (116.82, 35.544)]
    r = _get(client, kind="area", coords=";".join(f"{x},{y}" for x, y in ring))
    body = r.json()
    area, perimeter = GEOD.polygon_area_perimeter([p[0] for p in ring], [p[1] for p in ring])
    assert abs(body["area_m2"] - abs(area)) / abs(area) < 1e-4, (body, area)
    assert abs(body["perimeter_m"] - perimeter) / perimeter < 1e-4


@pytest.mark.parametrize(
    "params, field",
    [
        ({"kind": "line", "coords": ""}, "coords"),
        ({"kind": "line", "coords": "116.8,35.5"}, "coords"),
        ({"kind": "area", "coords": "116.8,35.5;116.81,35.5"}, "coords"),
        ({"kind": "volume", "coords": "116.8,35.5;116.81,35.5"}, "kind"),
        ({"kind": "line", "coords": "116.8,35.5;abc"}, "coords"),
        ({"kind": "line", "coords": "116.8,35.5;nan,35"}, "coords"),
        ({"kind": "line", "coords": "-30,35.5;116.8,35.5"}, "coords"),
        ({"kind": "line", "coords": ";".join(["116.8,35.5"] * 1001)}, "coords"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, params, field):
    r = _get(client, **params)
    assert r.status_code == 400 and r.json()["field"] == field, r.content


def test_anonymous_gets_401(client):
    r = client.get("/api/measure/", {"kind": "line", "coords": "116.8,35.5;116.81,35.5"})
    assert r.status_code == 401 and "message" in r.json()
