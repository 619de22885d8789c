"""Paging, areas, history, export/import (CSV, XLSX, GeoPackage) and the OpenAPI schema of /api/cameras/."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from layers.cameras import importer, services
from layers.cameras.models import Camera

from .conftest import LAT, LON, device_id, values


def _client(user):
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def row_of_cameras(editor):
    return [services.create(editor, values(n, lon=LON + n * 0.001)) for n in range(1, 8)]


def test_the_list_pages_with_next_and_previous_links(dispatcher, row_of_cameras):
    c = _client(dispatcher)
    first = c.get("/api/cameras/?limit=3").json()
    assert first["count"] == 7 and len(first["results"]) == 3 and first["previous"] is None
    assert [r["device_id"] for r in first["results"]] == [device_id(n) for n in (1, 2, 3)]
    second = c.get(first["next"]).json()
    assert [r["device_id"] for r in second["results"]] == [device_id(n) for n in (4, 5, 6)]
    assert "limit=3" in second["previous"] and "offset" not in second["previous"]
    last = c.get(second["next"]).json()
    assert [r["device_id"] for r in last["results"]] == [device_id(7)] and last["next"] is None
    assert len(c.get("/api/cameras/").json()["results"]) == 7  # default page 100


@pytest.mark.parametrize(
    "query, field",
    [
        ("limit=0", "limit"),
        ("limit=5000", "limit"),
        ("limit=x", "limit"),
        ("offset=-1", "offset"),
        ("bbox=1,2,3", "bbox"),
        ("bbox=nan,35,117,36", "bbox"),
        ("within=%7B%22type%22%3A%22Polygon%22%7D", "within"),
        ("bbox=117,35,116,36", "bbox"),
        ("within=POINT(116.8 35.5)", "within"),
        ("within=not-a-shape", "within"),
        ("within=SRID%3D3857%3BPOLYGON((0 0,1 0,1 1,0 0))", "within"),
        ("within=POLYGON((0 0,1 1,1 0,0 1,0 0))", "within"),
        ("bbox=116,35,117,36&within=POLYGON((0 0,1 0,1 1,0 0))", "within"),
    ],
)
def test_bad_list_parameters_get_a_400_naming_them(dispatcher, query, field):
    r = _client(dispatcher).get(f"/api/cameras/?{query}")
    assert r.status_code == 400, r.content
    assert r.json()["field"] == field and r.json()["message"]


def test_seeing_refuses_a_point_that_is_not_a_number(dispatcher):
    r = _client(dispatcher).get("/api/cameras/seeing/?lon=nan&lat=35.5")
    assert r.status_code == 400 and r.json()["field"] == "lon"


def test_cameras_in_a_bbox_or_a_polygon(dispatcher, row_of_cameras):
    c = _client(dispatcher)
    box = f"{LON + 0.0015},{LAT - 0.001},{LON + 0.0045},{LAT + 0.001}"
    got = [r["device_id"] for r in c.get(f"/api/cameras/?bbox={box}").json()["results"]]
    assert got == [device_id(n) for n in (2, 3, 4)]
    shape = {
        "type": "Polygon",
        "coordinates": [
            [
                [LON + 0.0045, LAT - 0.001],
                [LON + 0.0075, LAT - 0.001],
                [LON + 0.0075, LAT + 0.001],
                [LON + 0.005, LAT + 0.0015],
                [LON + 0.0045, LAT - 0.001],
            ]
        ],
    }
    r = c.get("/api/cameras/", {"within": json.dumps(shape)})
    assert [x["device_id"] for x in r.json()["results"]] == [device_id(n) for n in (5, 6, 7)]
    wkt = f"POLYGON(({LON + 0.0005} {LAT - 0.001},{LON + 0.0015} {LAT - 0.001},{LON + 0.0015} {LAT + 0.001},{LON + 0.0005} {LAT - 0.001}))"
    assert c.get("/api/cameras/", {"within": wkt}).json()["count"] == 1
    # blind grids take the same area
    assert c.get(f"/api/cameras/blind-grids/?bbox={box}").json() == {"count": 0, "grids": []}


def test_history_lists_who_changed_what_newest_first(editor, dispatcher, camera):
    c = _client(editor)
    assert (
        c.patch(
            f"/api/cameras/{camera.pk}/",
            {"azimuth": 45, "stream_url": "rtsp://10.0.0.9/1"},
            content_type="application/json",
        ).status_code
        == 200
    )
    body = c.get(f"/api/cameras/{camera.pk}/history/").json()
    assert body["device_id"] == camera.device_id
    newest, first = body["history"][0], body["history"][-1]
    assert newest["action"] == "update" and newest["user"] == editor.username
    assert newest["changes"]["azimuth"] == [0.0, 45.0]
    assert newest["changes"]["stream_url"] == ["", "rtsp://10.0.0.9/1"]
    assert "view_geom" not in newest["changes"] and "updated_at" not in newest["changes"]
    assert first["action"] == "create" and first["label"] == "insert" and first["changes"]["name"] == [None, "路口1"]
    # a dispatcher reads it too; a unit account without the stream right sees it masked
    assert _client(dispatcher).get(f"/api/cameras/{camera.pk}/history/").status_code == 200
    assert _client(editor).get("/api/cameras/999999/history/").status_code == 404


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "gpkg"])
def test_export_then_import_gives_the_same_cameras(editor, fmt, tmp_path):
    services.create(
        editor, values(1, ptz="pan_range", pan_min=300, pan_max=60, state="fault", v_fov=40, mount_height=6)
    )
    services.create(editor, values(2, lon=LON + 0.001, ptz="dome", stream_url="rtsp://10.0.0.2/x"))
    before = {c.device_id: _snapshot(c) for c in Camera.objects.all()}
    r = _client(editor).get(f"/api/cameras/export/?as={fmt}")
    assert r.status_code == 200 and r["Content-Disposition"].endswith(f'cameras.{fmt}"')
    data = b"".join(r.streaming_content)
    Camera.objects.all().delete()
    upload = SimpleUploadedFile(f"catalogue.{fmt}", data)
    report = _client(editor).post("/api/cameras/import/", {"file": upload}).json()
    assert (report["created"], report["updated"], report["refused"]) == (2, 0, 0), report
    assert {c.device_id: _snapshot(c) for c in Camera.objects.all()} == before
    # again: every row updates, nothing changes
    report = _client(editor).post("/api/cameras/import/", {"file": SimpleUploadedFile(f"c.{fmt}", data)}).json()
    assert report["updated"] == 2 and {c.device_id: _snapshot(c) for c in Camera.objects.all()} == before


def _snapshot(c):
    return (
        c.name, round(c.geom.x, 9), round(c.geom.y, 9), c.azimuth, c.h_fov, c.v_fov, c.range_m, c.ptz,
        c.pan_min, c.pan_max, c.state, c.mount_height, c.stream_url,
    )  # fmt: skip


def test_an_xlsx_with_a_numeric_device_id_is_refused_on_that_row(editor, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["DeviceID", "Name", "Longitude", "Latitude", "DirectionType"])
    sheet.append([device_id(1), "文本编码", LON, LAT, 1])
    sheet.append([37081200081321000002, "数字编码", LON, LAT, 2])
    sheet.append([device_id(3), "方向错", LON, LAT, 9])
    out = io.BytesIO()
    book.save(out)
    report = _client(editor).post("/api/cameras/import/", {"file": SimpleUploadedFile("x.xlsx", out.getvalue())}).json()
    assert (report["created"], report["refused"]) == (1, 2)
    refused = {r["line"]: r for r in report["rows"] if r["result"] == "refused"}
    assert refused[3]["field"] == "DeviceID" and "文本" in refused[3]["message"]
    assert refused[4]["field"] == "DirectionType"
    assert Camera.objects.get().azimuth == 90


def test_a_geopackage_of_points_imports_from_its_geometry(editor, tmp_path):
    import numpy as np
    import pyogrio
    import shapely

    path = tmp_path / "cams.gpkg"
    pyogrio.raw.write(
        str(path),
        geometry=shapely.to_wkb(shapely.points([(LON, LAT), (121.5, 31.2)])),
        field_data=[np.array([device_id(1), device_id(2)], dtype=object), np.array(["甲", "区外"], dtype=object)],
        fields=["DeviceID", "Name"],
        crs="EPSG:4490",
        geometry_type="Point",
        driver="GPKG",
        layer="cams",
    )
    report = importer.import_file(editor, path)
    assert (report["created"], report["refused"]) == (1, 1)
    assert report["rows"][1] == {
        "line": 2,
        "device_id": device_id(2),
        "result": "refused",
        "field": "lon",
        "message": report["rows"][1]["message"],
    }
    assert Camera.objects.get().geom.x == pytest.approx(LON)


@pytest.mark.parametrize(
    "name, body, field",
    [
        ("cams.txt", b"x", "file"),
        ("cams.xlsx", b"not a zip", "file"),
        ("cams.gpkg", b"not sqlite", "file"),
        ("cams.csv", b"A,B\n1,2\n", "file"),
    ],
)
def test_unusable_uploads_are_refused_and_nothing_is_written(editor, name, body, field):
    r = _client(editor).post("/api/cameras/import/", {"file": SimpleUploadedFile(name, body)})
    assert r.status_code == 400 and r.json()["field"] == field, r.content
    assert "/tmp" not in r.json()["message"]
    assert not Camera.objects.exists()


def test_only_editors_import_and_export_needs_a_known_format(dispatcher):
    r = _client(dispatcher).post("/api/cameras/import/", {"file": SimpleUploadedFile("c.csv", b"DeviceID\n")})
    assert r.status_code == 403
    r = _client(dispatcher).get("/api/cameras/export/?as=shp")
    assert r.status_code == 400 and r.json()["field"] == "as"


def test_every_camera_endpoint_has_an_openapi_schema(dispatcher):
    doc = json.loads(_client(dispatcher).get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").content)
    paths = {p: ops for p, ops in doc["paths"].items() if p.startswith("/api/cameras/")}
    assert set(paths) == {
        "/api/cameras/", "/api/cameras/seeing/", "/api/cameras/blind-grids/", "/api/cameras/blind-roads/",
        "/api/cameras/export/",
        "/api/cameras/import/", "/api/cameras/{id}/", "/api/cameras/{id}/history/",
    }  # fmt: skip
    page = paths["/api/cameras/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    page = doc["components"]["schemas"][page["$ref"].rsplit("/", 1)[-1]]
    assert {"count", "next", "previous", "results"} <= set(page["properties"])
    for ops in paths.values():
        for op in ops.values():
            assert "200" in op["responses"] or "201" in op["responses"] or "204" in op["responses"], op
            if "400" in op["responses"]:
                err = op["responses"]["400"]["content"]["application/json"]["schema"]
                assert err["required"] == ["message", "field"]


def test_blind_roads_are_roads_no_view_touches_when_there_is_a_roads_table(dispatcher, camera):
    from django.db import connection

    c = _client(dispatcher)
    if "roads_road" not in connection.introspection.table_names():
        r = c.get("/api/cameras/blind-roads/")
        assert r.status_code == 404 and "roads_road" in r.json()["message"]
    # A roads table of our own in a schema first on the search path (rolled back with the test), so
    # this runs the same with or without the roads app.
    with connection.cursor() as cur:
        cur.execute("CREATE SCHEMA cam_roads_test")
        cur.execute("SET LOCAL search_path = cam_roads_test, public")
        cur.execute("CREATE TABLE roads_road (id serial PRIMARY KEY, name text, geom geometry(LineString, 4490))")
        cur.execute(
            "INSERT INTO roads_road (name, geom) VALUES "
            "('看得见的路', ST_SetSRID(ST_MakeLine(ST_MakePoint(%s, %s), ST_MakePoint(%s, %s)), 4490)), "
            "('看不见的路', ST_SetSRID(ST_MakeLine(ST_MakePoint(%s, %s), ST_MakePoint(%s, %s)), 4490))",
            [
                LON - 0.001,
                LAT + 0.0005,
                LON + 0.001,
                LAT + 0.0005,
                LON - 0.001,
                LAT - 0.0005,
                LON + 0.001,
                LAT - 0.0005,
            ],
        )
    body = c.get("/api/cameras/blind-roads/").json()
    assert body == {"count": 1, "roads": [{"id": 2, "name": "看不见的路"}]}
    far = f"{LON + 0.01},{LAT},{LON + 0.02},{LAT + 0.01}"
    assert c.get(f"/api/cameras/blind-roads/?bbox={far}").json()["count"] == 0
