"""Import pipeline against the real PostGIS: formats, CRSs, encodings, upsert, refusals, jobs, API."""

import io
import json
import time
import zipfile

import numpy as np
import pyogrio
import pytest
import shapely
from rest_framework.test import APIClient

from components import roles
from components.importing import import_file
from components.models import Component, ComponentEvent, ImportJob
from components.signals import components_changed
from gis_core.crs import gcj02_to_bd09, wgs84_to_gcj02
from tests.factories import OrganisationFactory, make_user

pytestmark = pytest.mark.django_db

HEADER = "code,class_code,name,owner_uscc,state,census_date,wkt\n"


def _orgs():
    return OrganisationFactory(), OrganisationFactory()


def write_csv(tmp_path, text, name="c.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def write_gpkg(tmp_path, n=20, *, crs="EPSG:4490", xy=None, name="p.gpkg", fields=None, driver="GPKG"):
    owner = OrganisationFactory()
    if xy is None:
        xs = 116.80 + np.arange(n) * 0.0005
        ys = np.full(n, 35.55)
    else:
        xs, ys = xy
    data = {
        "code": np.array([f"3708120118{i + 1:06d}" for i in range(n)], dtype=object),
        "class_code": np.array(["0118"] * n, dtype=object),
        "name": np.array([f"路灯{i}" for i in range(n)], dtype=object),
        "owner_uscc": np.array([owner.uscc] * n, dtype=object),
        "state": np.array(["完好"] * n, dtype=object),
    }
    data.update(fields or {})
    p = tmp_path / name
    pyogrio.raw.write(
        str(p),
        geometry=shapely.to_wkb(shapely.points(xs, ys)),
        field_data=list(data.values()),
        fields=list(data),
        crs=crs,
        geometry_type="Point",
        driver=driver,
    )
    return p


def assert_refused(result, field, text=None, row=None):
    assert not result.ok
    hits = [e for e in result.errors if e.field == field and (row is None or e.row == row)]
    assert hits, result.as_dict()
    if text:
        assert any(text in e.reason for e in hits), [e.reason for e in hits]
    assert Component.objects.count() == 0


# ---------------------------------------------------------------- happy paths


def test_gpkg_import_then_rerun_is_a_noop_with_history_and_signal(tmp_path, django_capture_on_commit_callbacks):
    p = write_gpkg(tmp_path, 30)
    seen = []
    handler = lambda **kw: seen.append(kw)  # noqa: E731
    components_changed.connect(handler)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            r = import_file(p)
    finally:
        components_changed.disconnect(handler)
    assert r.ok and (r.created, r.updated, r.unchanged) == (30, 0, 0)
    assert seen and seen[0]["codes"] == [] and seen[0]["bbox"][0] == pytest.approx(116.80)
    c = Component.objects.get(code="3708120118000001")
    assert c.name == "路灯0" and c.state_id == "intact" and c.census_date is not None
    events = ComponentEvent.objects.count()
    ctx = ComponentEvent.objects.filter(pgh_obj_id=c.pk).first().pgh_context
    assert ctx.metadata["action"] == "import"
    r2 = import_file(p)
    assert r2.ok and (r2.created, r2.updated, r2.unchanged) == (0, 0, 30)
    assert ComponentEvent.objects.count() == events
    # the counter never falls behind imported IDs
    from django.contrib.gis.geos import Point

    from components.models import ComponentClass, ComponentState
    from components.services import create_component

    new = create_component(
        component_class=ComponentClass.objects.get(code="0118"),
        state=ComponentState.objects.get(code="intact"),
        geom=Point(116.9, 35.6, srid=4490),
    )
    assert new.code == "3708120118000031"


def test_upsert_updates_only_changed_rows(tmp_path):
    owner = OrganisationFactory()
    base = HEADER + "".join(
        f"37081201180000{i:02d},0118,灯{i},{owner.uscc},intact,2024-01-01,POINT(116.8{i} 35.5)\n" for i in range(1, 6)
    )
    assert import_file(write_csv(tmp_path, base), srid=4490).created == 5
    changed = base.replace("灯3,", "灯三,")
    r = import_file(write_csv(tmp_path, changed, "d.csv"), srid="EPSG:4490")
    assert (r.created, r.updated, r.unchanged) == (0, 1, 4)
    c = Component.objects.get(name="灯三")
    assert c.change_date is not None
    assert ComponentEvent.objects.filter(pgh_obj_id=c.pk).count() == 2
    from components.history import component_history

    latest = component_history(c)[0]
    assert latest["action"] == "import" and latest["changes"]["name"] == ["灯3", "灯三"]


def test_empty_codes_get_new_ids_and_dry_run_writes_nothing(tmp_path):
    owner = OrganisationFactory()
    text = "class_code,name,owner_uscc,x,y\n" + "".join(f"0305,井{i},{owner.uscc},116.9{i},35.6\n" for i in range(4))
    p = write_csv(tmp_path, text)
    dry = import_file(p, srid=4490, dry_run=True)
    assert dry.ok and dry.dry_run and dry.created == 4 and Component.objects.count() == 0
    r = import_file(p, srid=4490)
    assert r.created == 4
    assert sorted(Component.objects.values_list("code", flat=True)) == [f"3708120305{i:06d}" for i in range(1, 5)]


def test_csv_gbk_is_detected_and_mapping_applies(tmp_path):
    owner = OrganisationFactory()
    text = "编码,类别,名称,权属单位,经度,纬度\n" + f",0118,建设路路灯,{owner.uscc},116.85,35.56\n"
    p = write_csv(tmp_path, text, encoding="gbk")
    mapping = {"code": "编码", "class_code": "类别", "name": "名称", "owner_uscc": "权属单位", "x": "经度", "y": "纬度"}
    r = import_file(p, srid=4490, mapping=mapping)
    assert r.ok and r.encoding == "gb18030", r.as_dict()
    assert Component.objects.get().name == "建设路路灯"


@pytest.mark.parametrize("crs", ["GCJ02", "BD09", 4527])
def test_other_crs_are_brought_to_4490(tmp_path, crs):
    lon, lat = 116.85, 35.56
    if crs == "GCJ02":
        x, y = wgs84_to_gcj02(lon, lat)
    elif crs == "BD09":
        x, y = gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))
    else:
        from pyproj import Transformer

        x, y = Transformer.from_crs(4490, 4527, always_xy=True).transform(lon, lat)
    p = write_csv(tmp_path, f"class_code,x,y\n0118,{float(x)!r},{float(y)!r}\n")
    r = import_file(p, srid=crs)
    assert r.ok, r.as_dict()
    g = Component.objects.get().geom
    assert g.x == pytest.approx(lon, abs=1e-6) and g.y == pytest.approx(lat, abs=1e-6)


def test_zipped_shapefile_with_truncated_names(tmp_path):
    shp = write_gpkg(
        tmp_path, 5, name="s.shp", driver="ESRI Shapefile", fields={"maintainer_uscc": np.array([""] * 5, dtype=object)}
    )
    z = tmp_path / "s.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for ext in ("shp", "shx", "dbf", "prj", "cpg"):
            f = shp.with_suffix("." + ext)
            if f.exists():
                zf.write(f, f.name)
    r = import_file(z)
    assert r.ok and r.created == 5, r.as_dict()


def test_geojson_with_declared_crs(tmp_path):
    owner = OrganisationFactory()
    doc = {
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4490"}},
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[116.8, 35.5], [116.81, 35.51]]},
                "properties": {"class_code": "0305", "owner_uscc": owner.uscc, "attributes": ""},
            }
        ],
    }
    p = tmp_path / "a.geojson"
    p.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    r = import_file(p)
    assert r.ok and r.created == 1, r.as_dict()
    assert Component.objects.get().geom.geom_type == "LineString"


def write_gbk_shapefile(tmp_path, names, *, cpg=True, zipped=False, stem="gbk"):
    """A Shapefile whose .dbf holds GBK bytes (as ArcGIS and most Chinese desktop GIS write it)."""
    owner = OrganisationFactory()
    n = len(names)
    shp = tmp_path / f"{stem}.shp"
    pyogrio.raw.write(
        str(shp),
        geometry=shapely.to_wkb(shapely.points(116.80 + np.arange(n) * 0.001, np.full(n, 35.55))),
        field_data=[
            np.array(["0118"] * n, dtype=object),
            np.array(names, dtype=object),
            np.array([owner.uscc] * n, dtype=object),
        ],
        fields=["class_code", "name", "owner_uscc"],
        crs="EPSG:4490",
        geometry_type="Point",
        driver="ESRI Shapefile",
        encoding="GBK",
    )
    assert "建".encode("gbk") in shp.with_suffix(".dbf").read_bytes()
    if not cpg:
        shp.with_suffix(".cpg").unlink()
    if not zipped:
        return shp
    z = tmp_path / f"{stem}.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for f in sorted(tmp_path.glob(f"{stem}.*")):
            if f.suffix != ".zip":
                zf.write(f, f.name)
    return z


GBK_NAMES = ["建设路路灯", "兖州区九州大道井盖", "龙桥南路消防栓"]


@pytest.mark.parametrize("cpg,zipped", [(True, False), (False, False), (True, True), (False, True)])
def test_gbk_shapefile_with_or_without_cpg(tmp_path, cpg, zipped):
    p = write_gbk_shapefile(tmp_path, GBK_NAMES, cpg=cpg, zipped=zipped)
    r = import_file(p)
    assert r.ok and r.created == 3, r.as_dict()
    assert r.encoding in ("gb18030", "GBK", "gbk", "cp936")
    assert sorted(Component.objects.values_list("name", flat=True)) == sorted(GBK_NAMES)


def test_gbk_shapefile_declared_utf8_is_refused_not_garbled(tmp_path):
    p = write_gbk_shapefile(tmp_path, GBK_NAMES, cpg=False)
    assert_refused(import_file(p, encoding="utf-8"), "encoding", "not valid UTF-8")


def test_management_command_encoding_gbk(tmp_path, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    z = write_gbk_shapefile(tmp_path, GBK_NAMES, cpg=False, zipped=True)
    with pytest.raises(CommandError):
        call_command("import_components", str(z), "--encoding", "utf-8", verbosity=0)
    assert "not valid UTF-8" in capsys.readouterr().err
    assert Component.objects.count() == 0
    call_command("import_components", str(z), "--encoding", "gbk", verbosity=0)
    assert sorted(Component.objects.values_list("name", flat=True)) == sorted(GBK_NAMES)
    assert "3 created" in capsys.readouterr().out
    owner = OrganisationFactory()
    csv_path = write_csv(
        tmp_path, "class_code,name,owner_uscc,x,y\n" + f"0305,井盖甲,{owner.uscc},116.9,35.6\n", encoding="gbk"
    )
    call_command("import_components", str(csv_path), "--encoding", "GBK", "--srid", "4490", "--json", verbosity=0)
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["encoding"] == "gb18030" and out["created"] == 1
    assert Component.objects.filter(name="井盖甲").exists()


# ---------------------------------------------------------------- refusals: each writes nothing


def test_malformed_geometry(tmp_path):
    p = write_csv(tmp_path, "class_code,wkt\n0118,POINT(116.8 35.5)\n0118,POINT(116.8\n")
    assert_refused(import_file(p, srid=4490), "wkt", "malformed", row=2)


def test_empty_geometry(tmp_path):
    p = write_csv(tmp_path, "class_code,wkt\n0118,POINT(116.8 35.5)\n0118,POINT EMPTY\n")
    assert_refused(import_file(p, srid=4490), "geometry", "empty", row=2)


def test_invalid_polygon(tmp_path):
    p = write_csv(
        tmp_path, 'class_code,wkt\n0305,"POLYGON((116.8 35.5, 116.81 35.51, 116.81 35.5, 116.8 35.51, 116.8 35.5))"\n'
    )
    assert_refused(import_file(p, srid=4490), "geometry", "invalid", row=1)


def test_outside_district(tmp_path):
    p = write_gpkg(tmp_path, 3, xy=(np.array([116.8, 35.5, 116.9]), np.array([35.5, 116.8, 35.6])))
    assert_refused(import_file(p), "geometry", "outside the district", row=2)


def test_undeclared_crs_csv(tmp_path):
    p = write_csv(tmp_path, "class_code,x,y\n0118,116.8,35.5\n")
    assert_refused(import_file(p), "srid", "coordinate system")


def test_undeclared_crs_shapefile(tmp_path):
    shp = write_gpkg(tmp_path, 2, name="s.shp", driver="ESRI Shapefile")
    shp.with_suffix(".prj").unlink()
    assert_refused(import_file(shp), "srid", "declares no coordinate system")


def test_undeclared_crs_geojson(tmp_path):
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [116.8, 35.5]},
                "properties": {"class_code": "0118"},
            }
        ],
    }
    p = tmp_path / "a.geojson"
    p.write_text(json.dumps(doc))
    assert_refused(import_file(p), "srid", "GCJ-02")


def test_duplicate_ids(tmp_path):
    p = write_csv(
        tmp_path, "code,class_code,x,y\n3708120118000001,0118,116.8,35.5\n3708120118000001,0118,116.81,35.5\n"
    )
    assert_refused(import_file(p, srid=4490), "code", "duplicate ID 3708120118000001: also on row 1", row=2)


@pytest.mark.parametrize(
    "code,text",
    [
        ("37081201180001", "16 (GB/T 30428)"),
        ("3708120305000001", "class code 0118"),
        ("3708130118000001", "admin code"),
        ("3708120118000000", "000000"),
    ],
)
def test_malformed_ids(tmp_path, code, text):
    p = write_csv(tmp_path, f"code,class_code,admin_code,x,y\n{code},0118,370812,116.8,35.5\n")
    assert_refused(import_file(p, srid=4490), "code", text, row=1)


def test_unknown_class(tmp_path):
    p = write_csv(tmp_path, "class_code,x,y\n0118,116.8,35.5\n9999,116.8,35.5\n")
    assert_refused(import_file(p, srid=4490), "class_code", "unknown class '9999'", row=2)


def test_unknown_unit(tmp_path):
    from components.uscc import make_uscc

    stranger = make_uscc("91370812MA9999999")
    p = write_csv(tmp_path, f"class_code,maintainer_uscc,x,y\n0118,{stranger},116.8,35.5\n")
    assert_refused(import_file(p, srid=4490), "maintainer_uscc", "not registered", row=1)


def test_unknown_state_bad_date_and_bad_attribute(tmp_path):
    p = write_csv(
        tmp_path, 'class_code,state,census_date,attributes,x,y\n0118,坏了,2024-13-01,"{""power_w"": 0}",116.8,35.5\n'
    )
    r = import_file(p, srid=4490)
    fields = {e.field for e in r.errors}
    assert {"state", "census_date", "attributes.power_w"} <= fields and Component.objects.count() == 0


def test_gbk_bytes_declared_utf8_are_refused(tmp_path):
    p = write_csv(tmp_path, "class_code,name,x,y\n0118,建设路路灯,116.8,35.5\n", encoding="gbk")
    assert_refused(import_file(p, srid=4490, encoding="utf-8"), "encoding", "not valid UTF-8 at line 2")


def test_utf8_bytes_declared_gbk_are_refused(tmp_path):
    p = write_csv(tmp_path, "class_code,name,x,y\n0118,建设路路灯,116.8,35.5\n")
    assert_refused(import_file(p, srid=4490, encoding="gbk"), "encoding", "UTF-8, not gb18030")


def test_broken_zip(tmp_path):
    shp = write_gpkg(tmp_path, 3, name="s.shp", driver="ESRI Shapefile")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for ext in ("shp", "shx", "dbf", "prj"):
            zf.write(shp.with_suffix("." + ext), "s." + ext)
    z = tmp_path / "broken.zip"
    z.write_bytes(buf.getvalue()[: len(buf.getvalue()) // 2])
    assert_refused(import_file(z), "file", "zip")
    z.write_bytes(b"PK\x03\x04 definitely not a zip")
    assert_refused(import_file(z), "file", "zip")


def test_one_bad_row_among_many_writes_nothing_and_reports_all(tmp_path):
    owner = OrganisationFactory()
    rows = "".join(f",0118,{owner.uscc},116.8{i},35.5\n" for i in range(50))
    rows += ",0118,,0,0\n,0000,,116.8,35.5\n"
    r = import_file(write_csv(tmp_path, "code,class_code,owner_uscc,x,y\n" + rows), srid=4490)
    assert [(e.row, e.field) for e in r.errors] == [(51, "geometry"), (52, "class_code")]
    assert Component.objects.count() == 0


def test_retired_component_is_not_changed_by_import(tmp_path):
    from components.services import retire_component

    p = write_gpkg(tmp_path, 2)
    import_file(p)
    retire_component(Component.objects.get(code="3708120118000001"), reason="拆除")
    r = import_file(write_gpkg(tmp_path, 2, name="q.gpkg", fields={"name": np.array(["新", "新"], dtype=object)}))
    assert_refused_keep = [e for e in r.errors if e.field == "code"]
    assert assert_refused_keep and "retired" in assert_refused_keep[0].reason
    assert not Component.objects.filter(name="新").exists()


# ---------------------------------------------------------------- jobs, command, API


def test_job_progress_and_result(tmp_path):
    from components.importing.jobs import run_job

    p = write_gpkg(tmp_path, 10)
    job = ImportJob.objects.create(file=str(p), filename="p.gpkg")
    body = run_job(job.pk)
    assert body["status"] == "succeeded" and body["created"] == 10 and body["rows_done"] == 10
    bad = ImportJob.objects.create(file=str(write_csv(tmp_path, "class_code,x,y\n0118,1,2\n")), srid="4490")
    body = run_job(bad.pk)
    assert body["status"] == "failed" and body["errors"][0] == {
        "row": 1,
        "field": "geometry",
        "reason": body["errors"][0]["reason"],
    }
    assert "outside" in body["errors"][0]["reason"]


def test_management_command(tmp_path, capsys):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    p = write_gpkg(tmp_path, 4)
    call_command("import_components", str(p), "--dry-run")
    assert Component.objects.count() == 0
    call_command("import_components", str(p))
    assert Component.objects.count() == 4
    with pytest.raises(CommandError):
        call_command("import_components", str(write_csv(tmp_path, "class_code,x,y\n0118,1,2\n")))


def test_api_import_permissions_and_errors(tmp_path):
    reader = APIClient()
    reader.force_authenticate(make_user("disp", roles.DISPATCHER))
    r = reader.post("/api/imports/", {"file": io.BytesIO(b"x")}, format="multipart")
    assert r.status_code == 403
    editor = APIClient()
    editor.force_authenticate(make_user("gis", roles.GIS_EDITOR))
    r = editor.post("/api/imports/", {"srid": "4490"}, format="multipart")
    assert r.status_code == 400 and r.json()["field"] == "file"
    r = editor.post(
        "/api/imports/",
        {
            "file": (tmp_path / "x").open("wb+") if False else _upload("a.csv", b"class_code,x,y\n"),
            "mapping": "{not json",
        },
        format="multipart",
    )
    assert r.status_code == 400 and r.json()["field"] == "mapping"


def _upload(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


@pytest.mark.django_db(transaction=True)
def test_api_import_through_a_real_celery_worker(tmp_path, settings):
    from celery.contrib.testing.worker import start_worker

    from gis_core.celery import app

    settings.MEDIA_ROOT = tmp_path
    owner = OrganisationFactory()
    text = "class_code,name,owner_uscc,x,y\n" + "".join(f"0118,灯{i},{owner.uscc},116.8{i},35.5\n" for i in range(5))
    editor = APIClient()
    editor.force_authenticate(make_user("gis2", roles.GIS_EDITOR))
    with start_worker(app, perform_ping_check=False, pool="solo", loglevel="WARNING"):
        r = editor.post(
            "/api/imports/", {"file": _upload("lamps.csv", text.encode("gbk")), "srid": "4490"}, format="multipart"
        )
        assert r.status_code == 202, r.content
        job_id = r.json()["id"]
        deadline = time.time() + 30
        while time.time() < deadline:
            body = editor.get(f"/api/imports/{job_id}/").json()
            if body["status"] in ("succeeded", "failed"):
                break
            time.sleep(0.2)
    assert body["status"] == "succeeded", body
    assert body["created"] == 5 and body["rows_done"] == 5 and body["rows_per_s"] > 0
    assert Component.objects.filter(name="灯0").exists()
    # A job that reads as ended has left nothing of its upload behind.
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_bad_census_date_beside_a_change_date_is_reported_not_a_crash(tmp_path):
    owner = OrganisationFactory()
    text = (
        "class_code,owner_uscc,census_date,change_date,wkt\n"
        f"0118,{owner.uscc},2024-13-45,2025-01-01,POINT(116.83 35.55)\n"
        f"0118,{owner.uscc},2025-02-01,2025-01-01,POINT(116.83 35.56)\n"
    )
    r = import_file(write_csv(tmp_path, text), srid=4490)
    assert {(e.row, e.field) for e in r.errors} == {(1, "census_date"), (2, "change_date")}
    assert Component.objects.count() == 0
