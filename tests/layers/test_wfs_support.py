"""Shared fixtures and helpers for the WFS tests: a small grid hierarchy, users, Basic auth,
and the official OGC schemas resolved offline (GRIDCITY_REFERENCE, default ../shared/reference
beside the repo). Missing schemas fail the tests that need them: a skip would hide a broken set-up."""

import base64
import os
from pathlib import Path

import pytest
from django.contrib.gis.geos import Polygon
from django.db import connection

X0, Y0 = 116.80, 35.52
REFERENCE = Path(os.environ.get("GRIDCITY_REFERENCE") or Path(__file__).resolve().parents[3] / "shared" / "reference")
SCHEMAS = REFERENCE / "ogc-schemas"
TRAFFIC = REFERENCE / "qgis-traffic"
PASSWORD = "wfs-pass-123"
TARGET_PK = 6  # the QGIS traffic edits base_grids.6


def box(x0, y0, x1, y1):
    return Polygon.from_bbox((X0 + x0, Y0 + y0, X0 + x1, Y0 + y1))


def basic(username, password=PASSWORD):
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def make_grids():
    """District > street > community > three base grids (base_grids.6 among them)."""
    from layers.grids.services import create_grid

    with connection.cursor() as cur:  # keep the sequence clear of the explicit id 6
        cur.execute(
            "SELECT setval(pg_get_serial_sequence('layers_grid', 'id'), "
            "GREATEST((SELECT last_value FROM layers_grid_id_seq), 100))"
        )
    create_grid(code="370812", name="兖州区", level=1, geom=box(0, 0, 0.1, 0.1))
    create_grid(code="370812001", name="鼓楼街道", level=2, parent_code="370812", geom=box(0, 0, 0.05, 0.1))
    create_grid(code="370812001001", name="龙桥社区", level=3, parent_code="370812001", geom=box(0, 0, 0.05, 0.05))
    grids = [
        create_grid(
            code="37081200100101",
            name="一号网格",
            level=4,
            parent_code="370812001001",
            geom=box(0.02, 0.02, 0.03, 0.03),
            id=TARGET_PK,
            population=100,
        ),
        create_grid(
            code="37081200100102",
            name="二号网格",
            level=4,
            parent_code="370812001001",
            geom=box(0.03, 0.02, 0.04, 0.03),
        ),
        create_grid(
            code="37081200100103",
            name="三号网格",
            level=4,
            parent_code="370812001001",
            geom=box(0.02, 0.03, 0.03, 0.04),
        ),
    ]
    return grids


def official_schema(path):
    if not Path(path).is_file():
        pytest.fail(
            f"official OGC schema not found at {path}: set GRIDCITY_REFERENCE to the reference folder "
            "(default ../shared/reference beside the repo)"
        )
    return _schema(str(path))


_cache = {}


def _uri_mapper(uri: str) -> str:
    """The official schema URLs (and the few dangling relative paths) -> the copies on disk."""
    w20, w11, wms = SCHEMAS / "wfs20" / "xsd", SCHEMAS / "wfs11" / "xsd", SCHEMAS / "wms130" / "xsd"
    if uri.startswith("http://schemas.opengis.net/wms/1.3.0/"):
        return str(wms / "ogc/wms/1.3.0" / uri.rsplit("/", 1)[1])
    exact = {
        "http://schemas.opengis.net/gml/3.2.1/gml.xsd": w20 / "opengis/gml/3.2.1/gml-3.2.1.xsd",
        "http://schemas.opengis.net/ows/1.1.0/owsAll.xsd": w20 / "opengis/ows/1.1/ows-1.1.0.xsd",
        "http://schemas.opengis.net/filter/2.0/filterAll.xsd": w20 / "opengis/filter/2.0/filter-2.0.2.xsd",
        "http://schemas.opengis.net/wfs/2.0/wfs.xsd": w20 / "opengis/wfs/2.0/wfs.xsd",
        "http://www.w3.org/2001/xml.xsd": w20 / "w3c/2009/01/xml.xsd",
        "http://www.w3.org/1999/xlink.xsd": w20 / "w3c/2008/06/xlink.xsd",
        "http://schemas.opengis.net/wfs/1.1.0/wfs.xsd": w11 / "ogc/wfs/1.1.0/wfs.xsd",
        "http://schemas.opengis.net/gml/3.1.1/base/gml.xsd": w11 / "ogc/gml/3.1.1/base/gml.xsd",
        "http://schemas.opengis.net/ows/1.0.0/owsAll.xsd": w11 / "ogc/ows/1.0.0/owsAll.xsd",
        "http://schemas.opengis.net/ows/1.0.0/owsExceptionReport.xsd": w11 / "ogc/ows/1.0.0/owsExceptionReport.xsd",
    }
    if uri in exact:
        return str(exact[uri])
    if uri.endswith("/xml/2001/xml.xsd") or uri.endswith("/xml.xsd"):
        return str(w20 / "w3c/2009/01/xml.xsd")
    if uri.endswith("xlinks.xsd") or uri.endswith("1999/xlink.xsd"):
        return str(w11 / "w3c/xlink/1999/xlink.xsd") if "wfs11" in uri else str(w20 / "w3c/2008/06/xlink.xsd")
    return uri


def _schema(path):
    import xmlschema

    if path not in _cache:
        _cache[path] = xmlschema.XMLSchema(
            path, uri_mapper=_uri_mapper, allow="local", defuse="always", validation="lax"
        )  # GML 3.1.1 has restrictions strict XSD 1.0 rejects
    return _cache[path]
