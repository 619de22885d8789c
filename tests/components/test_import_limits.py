"""What one import may cost, and what it may say: zip bombs and zip slip refused before extraction,
cells refused by row and field, unknown CRS refused, no server path in any answer, uploads removed."""

import io
import json
import struct
import tempfile
import zipfile
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from components import roles
from components.importing import archive, import_file
from components.importing.jobs import run_job
from components.models import Component, ImportJob
from tests.factories import OrganisationFactory, make_user

pytestmark = pytest.mark.django_db

MiB = 1024 * 1024


@pytest.fixture
def own_tmp(tmp_path, monkeypatch):
    """The temporary directory extraction uses, watched: whatever a refused zip left there is visible."""
    d = tmp_path / "extract"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


@pytest.fixture
def no_extraction(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the zip was extracted although its directory shows it must be refused")

    monkeypatch.setattr(archive, "extract", refuse)


def _zip(tmp_path, members, name="u.zip") -> Path:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for member, data in members.items():
            zf.writestr(member, data)
    p = tmp_path / name
    p.write_bytes(buf.getvalue())
    return p


def _refused(result, field, text, row=None):
    assert not result.ok
    hits = [e for e in result.errors if e.field == field and (row is None or e.row == row)]
    assert hits and any(text in e.reason for e in hits), result.as_dict()
    assert Component.objects.count() == 0
    return hits


def _left_files(d: Path):
    return [p for p in d.rglob("*") if p.is_file()]


# ---------------------------------------------------------------- zips


def test_zip_bomb_refused_by_ratio_from_its_directory(tmp_path, own_tmp, no_extraction, settings):
    settings.GRIDCITY_IMPORT_MAX_ZIP_RATIO = 200
    settings.GRIDCITY_IMPORT_ZIP_RATIO_FROM = 1 * MiB
    z = _zip(tmp_path, {"bomb.csv": b"0" * (20 * MiB)})
    assert z.stat().st_size < 200 * 1024
    r = import_file(z, srid=4490)
    _refused(r, "file", "zip bomb")
    assert _left_files(own_tmp) == []


def test_zip_refused_by_total_uncompressed_size_from_its_directory(tmp_path, own_tmp, no_extraction, settings):
    settings.GRIDCITY_IMPORT_MAX_ZIP_RATIO = 10**9
    settings.GRIDCITY_IMPORT_MAX_UNZIPPED_BYTES = 5 * MiB
    z = _zip(tmp_path, {f"part{i}.csv": b"0" * (2 * MiB) for i in range(3)})
    r = import_file(z, srid=4490)
    _refused(r, "file", "at most 5.0 MiB")
    assert _left_files(own_tmp) == []


def test_whole_zip_ratio_counts_though_each_member_is_small(tmp_path, own_tmp, no_extraction, settings):
    settings.GRIDCITY_IMPORT_MAX_ZIP_RATIO = 100
    settings.GRIDCITY_IMPORT_ZIP_RATIO_FROM = 1 * MiB
    z = _zip(tmp_path, {f"m{i}.txt": b"0" * (512 * 1024) for i in range(8)})
    _refused(import_file(z, srid=4490), "file", "zip bomb")


def test_zip_whose_directory_lies_is_stopped_while_extracting(tmp_path, own_tmp, settings):
    settings.GRIDCITY_IMPORT_ZIP_RATIO_FROM = 1 * MiB
    real = 20 * MiB
    z = _zip(tmp_path, {"bomb.csv": b"0" * real})
    data = bytearray(z.read_bytes())
    # The central directory states 1,000 bytes uncompressed, far under every limit.
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = struct.pack("<I", 1000)
    z.write_bytes(bytes(data))
    with zipfile.ZipFile(z) as zf:
        assert zf.infolist()[0].file_size == 1000
    r = import_file(z, srid=4490)
    _refused(r, "file", "zip")
    assert _left_files(own_tmp) == []


@pytest.mark.parametrize("member", ["../evil.csv", "/tmp/evil.csv", "a/../../evil.csv", "C:/evil.csv", "..\\evil.csv"])
def test_zip_slip_is_refused(tmp_path, own_tmp, no_extraction, member):
    z = _zip(tmp_path, {member: b"class_code,x,y\n0118,116.8,35.5\n"})
    _refused(import_file(z, srid=4490), "file", "unsafe path")
    assert not list(tmp_path.rglob("evil.csv"))


def test_zip_with_too_many_members_is_refused(tmp_path, own_tmp, no_extraction, settings):
    settings.GRIDCITY_IMPORT_MAX_ZIP_MEMBERS = 5
    z = _zip(tmp_path, {f"f{i}.txt": b"x" for i in range(6)})
    _refused(import_file(z, srid=4490), "file", "at most 5")


def test_zip_within_the_limits_is_read_and_its_extraction_removed(tmp_path, own_tmp, settings):
    owner = OrganisationFactory()
    text = "class_code,owner_uscc,x,y\n" + "".join(f"0118,{owner.uscc},116.8{i},35.5\n" for i in range(3))
    z = _zip(tmp_path, {"dir/lamps.csv": text.encode()})
    r = import_file(z, srid=4490)
    assert r.ok and r.created == 3, r.as_dict()
    assert _left_files(own_tmp) == []


# ---------------------------------------------------------------- cells: by row and field


def _csv(tmp_path, rows, name="c.csv"):
    owner = OrganisationFactory()
    lines = [f"0118,{name_cell},{owner.uscc},116.8{i},35.5" for i, name_cell in enumerate(rows)]
    p = tmp_path / name
    p.write_text("class_code,name,owner_uscc,x,y\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_nul_in_a_cell_is_a_row_error(tmp_path):
    rows = ["灯"] * 20
    rows[11] = "灯\x00灯"
    r = import_file(_csv(tmp_path, rows), srid=4490)
    assert [(e.row, e.field) for e in r.errors] == [(12, "name")]
    assert "NUL character" in r.errors[0].reason and Component.objects.count() == 0


def test_cell_past_the_csv_modules_limit_is_a_row_error(tmp_path):
    rows = ["灯"] * 5
    rows[2] = "长" * 131_073
    r = import_file(_csv(tmp_path, rows), srid=4490)
    assert [(e.row, e.field) for e in r.errors] == [(3, "name")], r.as_dict()
    assert "131,073 characters long" in r.errors[0].reason and Component.objects.count() == 0


def test_cell_limit_and_control_characters(tmp_path, settings):
    settings.GRIDCITY_IMPORT_MAX_CELL_CHARS = 300
    p = tmp_path / "n.csv"
    owner = OrganisationFactory()
    p.write_text(
        "class_code,owner_uscc,note,x,y\n"
        f"0118,{owner.uscc},{'x' * 301},116.80,35.5\n"
        f"0118,{owner.uscc},ok,116.81,35.5\n"
        f"0118,{owner.uscc},evil\u202etxt.exe,116.82,35.5\n"
        f"0118,{owner.uscc},bell\x07,116.83,35.5\n"
        f'0118,{owner.uscc},"two\nlines\tand a tab",116.84,35.5\n',
        encoding="utf-8",
    )
    r = import_file(p, srid=4490)
    assert [(e.row, e.field) for e in r.errors] == [(1, "note"), (3, "note"), (4, "note")], r.as_dict()
    assert "at most 300" in r.errors[0].reason and "U+202E" in r.errors[1].reason and "U+0007" in r.errors[2].reason


def test_long_cell_in_a_geojson_is_a_row_error(tmp_path):
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "EPSG:4490"}},
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [116.8, 35.5]},
                "properties": {"class_code": "0118", "name": "灯" if i != 1 else "x" * 20_000},
            }
            for i in range(3)
        ],
    }
    p = tmp_path / "a.geojson"
    p.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    r = import_file(p)
    assert [(e.row, e.field) for e in r.errors] == [(2, "name")], r.as_dict()


def test_a_job_with_a_nul_ends_failed_naming_row_and_field(tmp_path):
    rows = ["灯"] * 12
    rows[11] = "a\x00b"
    job = ImportJob.objects.create(file=str(_csv(tmp_path, rows)), filename="lamps.csv", srid="4490")
    body = run_job(job.pk)
    assert body["status"] == "failed"
    assert "row 12, name: holds a NUL character" in body["message"], body["message"]
    assert body["errors"] == [{"row": 12, "field": "name", "reason": body["errors"][0]["reason"]}]


# ---------------------------------------------------------------- GeoJSON CRS


def _geojson(tmp_path, crs_member, name="g.geojson", coords=(116.8, 35.5)):
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": list(coords)},
                "properties": {"class_code": "0118"},
            }
        ],
    }
    if crs_member is not None:
        doc = {"type": "FeatureCollection", "crs": crs_member, "features": doc["features"]}
    p = tmp_path / name
    p.write_text(json.dumps(doc), encoding="utf-8")
    return p


@pytest.mark.parametrize(
    "name",
    [
        "EPSG:99999",
        "urn:ogc:def:crs:EPSG::99999",
        "urn:ogc:def:crs:EPSG:6.6:99999",
        "http://www.opengis.net/def/crs/EPSG/0/99999",
        "EPSG:3857",
        "urn:ogc:def:crs:FOO::1",
        "not a crs",
    ],
)
def test_unknown_or_refused_geojson_crs_is_not_read_as_wgs84(tmp_path, name):
    p = _geojson(tmp_path, {"type": "name", "properties": {"name": name}})
    hits = _refused(import_file(p), "srid", "coordinate system")
    assert name in hits[0].reason
    # an srid option does not make an unknown declaration right either
    _refused(import_file(p, srid=4326), "srid", name)


def test_geojson_crs_member_of_an_unknown_kind_is_refused(tmp_path):
    p = _geojson(tmp_path, {"type": "link", "properties": {"href": "http://example.com/crs", "type": "proj4"}})
    _refused(import_file(p), "srid", "not understood")


@pytest.mark.parametrize(
    "name",
    [
        "EPSG:4326",
        "urn:ogc:def:crs:OGC:1.3:CRS84",
        "urn:ogc:def:crs:OGC::CRS84",
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
        "EPSG:4490",
        "urn:ogc:def:crs:EPSG::4490",
        "http://www.opengis.net/def/crs/EPSG/0/4490",
    ],
)
def test_known_geojson_crs_forms_are_accepted(tmp_path, name):
    p = _geojson(tmp_path, {"type": "name", "properties": {"name": name}})
    r = import_file(p)
    assert r.ok and r.created == 1, r.as_dict()


def test_geojson_crs_in_a_gauss_krueger_zone(tmp_path):
    from pyproj import Transformer

    x, y = Transformer.from_crs(4490, 4527, always_xy=True).transform(116.85, 35.56)
    p = _geojson(tmp_path, {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4527"}}, coords=(x, y))
    r = import_file(p)
    assert r.ok, r.as_dict()
    assert Component.objects.get().geom.x == pytest.approx(116.85, abs=1e-6)


def test_geojson_with_crs_null_needs_an_srid(tmp_path):
    p = tmp_path / "n.geojson"
    p.write_text(
        '{"type": "FeatureCollection", "crs": null, "features": [{"type": "Feature", "geometry": '
        '{"type": "Point", "coordinates": [116.8, 35.5]}, "properties": {"class_code": "0118"}}]}'
    )
    _refused(import_file(p), "srid", "GCJ-02")
    assert import_file(p, srid="4490").ok


# ---------------------------------------------------------------- no server paths; uploads removed


def _editor(name="gis-limits"):
    client = APIClient()
    client.force_authenticate(make_user(name, roles.GIS_EDITOR))
    return client


def _upload(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def _post_and_run(client, name, data, django_capture_on_commit_callbacks, **fields):
    """POST /api/imports/ and run the job the way the worker would (Celery eager: the task's own code)."""
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post("/api/imports/", {"file": _upload(name, data), **fields}, format="multipart")
    assert r.status_code == 202, r.content
    return client.get(f"/api/imports/{r.json()['id']}/").json()


@pytest.fixture
def media(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media-root"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from gis_core.celery import app

    old = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield settings.MEDIA_ROOT
    app.conf.task_always_eager = old


def _assert_no_server_paths(body, media_root):
    text = json.dumps(body, ensure_ascii=False)
    assert str(media_root) not in text
    assert str(django_settings.BASE_DIR) not in text
    assert tempfile.gettempdir() + "/" not in text
    assert "/imports/" not in text


@pytest.mark.parametrize(
    "name,data,fields",
    [
        ("broken.gpkg", b"SQLite format 3\x00 this is not a database", {}),
        ("shapes.zip", b"PK\x03\x04 not a zip at all", {}),
        ("lamps.geojson", b'{"type": "FeatureCollection", "features": [', {"srid": "4490"}),
        ("lamps.csv", b"class_code,x,y\n0118,1,2\n", {"srid": "4490"}),
        ("lamps.csv", b"class_code,name,x,y\n0118,a\x00b,116.8,35.5\n", {"srid": "4490"}),
    ],
)
def test_job_answers_name_the_upload_never_a_server_path(media, django_capture_on_commit_callbacks, name, data, fields):
    body = _post_and_run(_editor(), name, data, django_capture_on_commit_callbacks, **fields)
    assert body["status"] == "failed", body
    _assert_no_server_paths(body, media)
    assert not _left_files(media)


def test_gdal_message_about_a_damaged_shapefile_names_no_path(tmp_path, media, django_capture_on_commit_callbacks):
    z = _zip(tmp_path, {"s.shp": b"\x00" * 200, "s.shx": b"\x00" * 100, "s.dbf": b"\x03" + b"\x00" * 40})
    body = _post_and_run(_editor(), "roads.zip", z.read_bytes(), django_capture_on_commit_callbacks, srid="4490")
    assert body["status"] == "failed" and body["errors"][0]["field"] == "file", body
    _assert_no_server_paths(body, media)


def test_upload_is_removed_when_the_job_succeeds(media, django_capture_on_commit_callbacks):
    owner = OrganisationFactory()
    text = f"class_code,owner_uscc,x,y\n0118,{owner.uscc},116.8,35.5\n"
    body = _post_and_run(_editor(), "lamps.csv", text.encode(), django_capture_on_commit_callbacks, srid="4490")
    assert body["status"] == "succeeded", body
    _assert_no_server_paths(body, media)
    assert not _left_files(media)


def test_upload_is_removed_when_the_zip_is_refused(
    tmp_path, media, own_tmp, settings, django_capture_on_commit_callbacks
):
    settings.GRIDCITY_IMPORT_MAX_UNZIPPED_BYTES = 1 * MiB
    z = _zip(tmp_path, {"bomb.csv": b"0" * (4 * MiB)})
    body = _post_and_run(_editor(), "bomb.zip", z.read_bytes(), django_capture_on_commit_callbacks, srid="4490")
    assert body["status"] == "failed" and body["errors"][0]["field"] == "file", body
    assert not _left_files(media) and not _left_files(own_tmp)


def test_upload_is_removed_when_the_job_crashes(tmp_path, media, monkeypatch, django_capture_on_commit_callbacks):
    import components.importing.core as core

    def crash(*args, **kwargs):
        raise RuntimeError(f"disk gone at {media}/imports/x/upload.csv")

    monkeypatch.setattr(core, "read_source", crash)
    body = _post_and_run(_editor(), "lamps.csv", b"class_code,x,y\n", django_capture_on_commit_callbacks, srid="4490")
    assert body["status"] == "failed" and "stopped unexpectedly" in body["message"], body
    _assert_no_server_paths(body, media)
    assert not _left_files(media)


def test_a_job_already_ended_still_has_its_upload_removed(media, django_capture_on_commit_callbacks):
    folder = Path(media) / "imports" / "0b7c1d1e-0000-4000-8000-000000000000"
    folder.mkdir(parents=True)
    (folder / "upload.csv").write_text("x")
    job = ImportJob.objects.create(file=str(folder / "upload.csv"), filename="a.csv", status=ImportJob.Status.SUCCEEDED)
    with django_capture_on_commit_callbacks(execute=True):  # the upload goes once the job's outcome commits
        run_job(job.pk)
    assert not folder.exists()


def test_a_file_outside_the_upload_folder_is_not_deleted(tmp_path):
    p = _csv(tmp_path, ["灯"])
    job = ImportJob.objects.create(file=str(p), filename="c.csv", srid="4490")
    run_job(job.pk)
    assert p.exists()


# ---------------------------------------------------------------- upload size


def test_upload_larger_than_the_limit_is_refused_413_before_it_is_read(media, settings):
    settings.GRIDCITY_IMPORT_MAX_UPLOAD_BYTES = 64 * 1024
    r = _editor().post(
        "/api/imports/", {"file": _upload("big.csv", b"x" * (128 * 1024)), "srid": "4490"}, format="multipart"
    )
    assert r.status_code == 413, r.content
    assert r.json()["field"] == "file" and "at most" in r.json()["message"]
    assert not _left_files(media) and ImportJob.objects.count() == 0


def test_upload_content_length_is_checked_before_credentials_read_the_body(media, settings):
    from django.test import Client

    settings.GRIDCITY_IMPORT_MAX_UPLOAD_BYTES = 1024
    user = make_user("gis-session", roles.GIS_EDITOR)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    r = client.post("/api/imports/", {"file": _upload("big.csv", b"x" * 4096)})
    assert r.status_code == 413 and r.json()["field"] == "file"


def test_too_many_form_fields_answer_json_400(media, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 5
    r = _editor().post(
        "/api/imports/", {f"f{i}": "x" for i in range(10)} | {"file": _upload("a.csv", b"x")}, format="multipart"
    )
    assert r.status_code == 400 and r.json()["field"] == "file", r.content


# ---------------------------------------------------------------- nesting that would crash GEOS or json


def _nested_wkb(depth):
    import struct

    wkb = struct.pack("<BIdd", 1, 1, 116.8, 35.5)
    for _ in range(depth):
        wkb = struct.pack("<BII", 1, 7, 1) + wkb
    return wkb


def test_deeply_nested_wkt_is_a_row_error_not_a_dead_worker(tmp_path):
    # 30,000 levels overflow GEOS's stack (the process dies with SIGSEGV) yet stay under the WKT cell limit.
    deep = "GEOMETRYCOLLECTION(" * 30_000 + "POINT(116.8 35.5)" + ")" * 30_000
    p = tmp_path / "deep.csv"
    p.write_text(f'class_code,wkt\n0118,POINT(116.8 35.5)\n0118,"{deep}"\n0118,"POLYGON((1 2"\n', encoding="utf-8")
    r = import_file(p, srid=4490)
    assert [(e.row, e.field) for e in r.errors] == [(2, "wkt"), (3, "wkt")], r.as_dict()
    assert "nested deeper than 8" in r.errors[0].reason and Component.objects.count() == 0


def test_deeply_nested_wkb_in_a_geopackage_is_a_row_error(tmp_path):
    import sqlite3

    import numpy as np
    import pyogrio
    import shapely

    p = tmp_path / "deep.gpkg"
    pyogrio.raw.write(
        str(p),
        geometry=shapely.to_wkb(shapely.points([116.8, 116.81], [35.5, 35.5])),
        field_data=[np.array(["0118", "0118"], dtype=object)],
        fields=["class_code"],
        crs="EPSG:4490",
        geometry_type="Unknown",
        driver="GPKG",
        layer="components",
    )
    con = sqlite3.connect(p)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f'DROP TRIGGER "{name}"')  # GeoPackage triggers call SpatiaLite functions sqlite3 lacks
    blob = b"GP\x00\x01" + (4490).to_bytes(4, "little") + _nested_wkb(30_000)  # GeoPackage header, no envelope
    con.execute("UPDATE components SET geom = ? WHERE fid = 2", (blob,))
    con.commit()
    con.close()
    r = import_file(p)
    assert [(e.row, e.field) for e in r.errors] == [(2, "geometry")], r.as_dict()
    assert "deeper than 8" in r.errors[0].reason


def test_nesting_check_passes_large_ordinary_geometries():
    import shapely

    from components.importing.nesting import wkb_too_deep, wkt_too_deep

    ring = shapely.Point(116.8, 35.5).buffer(0.01, quad_segs=2000)
    multi = shapely.MultiPolygon([ring, shapely.Point(116.9, 35.5).buffer(0.01, quad_segs=2000)])
    holes = shapely.Polygon(
        shapely.box(116.0, 35.0, 117.0, 36.0).exterior.coords,
        [shapely.box(116.0 + i * 0.01, 35.5, 116.005 + i * 0.01, 35.505).exterior.coords for i in range(50)],
    )
    blobs = [shapely.to_wkb(g) for g in (ring, multi, holes)] + [
        None,
        shapely.to_wkb(multi, include_srid=True),
        shapely.to_wkb(shapely.force_3d(multi)),
    ]
    assert len(blobs[1]) > 9000
    assert not wkb_too_deep(blobs).any()
    assert not wkt_too_deep([shapely.to_wkt(g) for g in (ring, multi, holes)]).any()
    assert (
        wkb_too_deep([_nested_wkb(2000)]).all()
        and wkt_too_deep(["GEOMETRYCOLLECTION(" * 9 + "POINT(1 2)" + ")" * 9]).all()
    )


def test_deeply_nested_attributes_json_is_a_row_error(tmp_path):
    owner = OrganisationFactory()
    deep = "[" * 5000 + "]" * 5000
    p = tmp_path / "a.csv"
    p.write_text(f'class_code,owner_uscc,attributes,x,y\n0118,{owner.uscc},"{deep}",116.8,35.5\n', encoding="utf-8")
    r = import_file(p, srid=4490)
    assert [(e.row, e.field) for e in r.errors] == [(1, "attributes")], r.as_dict()


@pytest.mark.django_db(transaction=True)
def test_when_the_queue_is_away_the_upload_answers_503_and_keeps_nothing(media, monkeypatch):
    # transaction=True: the view runs in autocommit as in production, where on_commit runs at once.
    from kombu.exceptions import OperationalError

    from components import tasks

    def away(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:63799. Connection refused.")

    monkeypatch.setattr(tasks.run_import, "delay", away)
    r = _editor("gis-queue").post(
        "/api/imports/", {"file": _upload("a.csv", b"class_code,x,y\n"), "srid": "4490"}, format="multipart"
    )
    assert r.status_code == 503 and r.json()["field"] == "file" and r["Retry-After"] == "60", r.content
    assert ImportJob.objects.count() == 0 and not _left_files(media)


def test_form_fields_past_djangos_data_limit_answer_json_413(media, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    r = _editor().post("/api/imports/", {"mapping": "x" * 4096, "file": _upload("a.csv", b"x")}, format="multipart")
    assert r.status_code == 413 and r.json()["field"] == "file", r.content
    assert not _left_files(media)


# ---------------------------------------------------------------- coordinates and SRIDs said exactly


@pytest.mark.parametrize("x", ["1_16.8", "１１６.８", "nan", "inf", "0x10", "116.8.1", "--116"])
def test_csv_coordinates_are_plain_decimals(tmp_path, x):
    p = tmp_path / "x.csv"
    p.write_text(f"class_code,x,y\n0118,116.81,35.5\n0118,{x},35.5\n", encoding="utf-8")
    _refused(import_file(p, srid=4490), "x", "is not a number", row=2)


def test_wkt_column_mixing_srids_is_refused_even_past_the_first_rows(tmp_path):
    rows = "".join(f"0118,SRID=4490;POINT(116.8{i % 10} 35.5)\n" for i in range(1500))
    rows += "0118,SRID=4527;POINT(39500000 3935000)\n"
    p = tmp_path / "w.csv"
    p.write_text("class_code,wkt\n" + rows, encoding="utf-8")
    _refused(import_file(p), "wkt", "mixes SRID=4490, SRID=4527")


# ---------------------------------------------------------------- a job ends once


def test_a_job_found_running_after_its_worker_died_runs_again_once_and_is_cleaned(
    media, django_capture_on_commit_callbacks
):
    """The dead worker's transaction wrote nothing (rows and outcome commit together): the next
    delivery runs the job afresh, once, and removes the upload after its outcome commits."""
    from django.utils import timezone

    owner = OrganisationFactory()
    folder = Path(media) / "imports" / "1b7c1d1e-0000-4000-8000-000000000000"
    folder.mkdir(parents=True)
    (folder / "upload.csv").write_text(f"class_code,owner_uscc,x,y\n0118,{owner.uscc},116.8,35.5\n", encoding="utf-8")
    job = ImportJob.objects.create(
        file=str(folder / "upload.csv"),
        filename="a.csv",
        srid="4490",
        status=ImportJob.Status.RUNNING,
        phase="writing",
        started_at=timezone.now(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        body = run_job(job.pk)
    assert body["status"] == "succeeded" and body["created"] == 1 and body["finished_at"]
    assert not folder.exists() and Component.objects.count() == 1
    again = run_job(job.pk)  # a further delivery changes nothing
    assert again["status"] == "succeeded" and again["finished_at"] == body["finished_at"]
    assert Component.objects.count() == 1


def test_a_job_runs_once_however_often_its_task_is_delivered(tmp_path):
    owner = OrganisationFactory()
    p = tmp_path / "a.csv"
    p.write_text(f"class_code,owner_uscc,x,y\n0118,{owner.uscc},116.8,35.5\n", encoding="utf-8")
    job = ImportJob.objects.create(file=str(p), filename="a.csv", srid="4490")
    first = run_job(job.pk)
    second = run_job(job.pk)
    assert first["status"] == second["status"] == "succeeded" and first["created"] == 1
    assert Component.objects.count() == 1 and second["finished_at"] == first["finished_at"]


def test_the_import_task_is_acknowledged_only_once_it_has_run():
    from components.tasks import run_import

    assert run_import.acks_late and run_import.reject_on_worker_lost
