"""A maintenance unit reads only its organisation's components through WFS GetFeature (every version and
output format, paged and counted) and /api/exports/ (every format), as the tiles and WMS already check."""

import csv
import io
import json
import sqlite3
from xml.etree import ElementTree as ET

import pytest
from django.contrib.gis.geos import Point
from django.test import Client

from components import roles
from components.models import Component
from tests.factories import ComponentFactory, OrganisationFactory, make_user

from .test_wfs_support import PASSWORD, X0, Y0, basic

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry():
    """Two organisations; the unit's organisation is owner of one component, maintainer of another and
    department of a third; three more belong to the other organisation alone."""
    mine, other = OrganisationFactory(name="兖州城管局"), OrganisationFactory(name="兖州供电公司")
    at = iter(Point(X0 + 0.021 + i * 0.001, Y0 + 0.021, srid=4490) for i in range(6))
    ours = [
        ComponentFactory(geom=next(at), owner=mine, maintainer=other),
        ComponentFactory(geom=next(at), owner=other, maintainer=mine),
        ComponentFactory(geom=next(at), owner=other, maintainer=other, department=mine),
    ]
    theirs = [ComponentFactory(geom=next(at), owner=other, maintainer=other) for _ in range(3)]
    make_user("scope_unit", roles.MAINTENANCE_UNIT, organisation=mine, password=PASSWORD)
    make_user("scope_reader", roles.DISPATCHER, password=PASSWORD)
    return {c.code for c in ours}, {c.code for c in theirs}


def wfs(username, **params):
    r = Client().get("/wfs", params, HTTP_AUTHORIZATION=basic(username))
    body = b"".join(r.streaming_content) if r.streaming else r.content
    assert r.status_code == 200, body[:500]
    return body


def codes_in_gml(body: bytes) -> set[str]:
    return {e.text for e in ET.fromstring(body).iter() if e.tag.endswith("}code") and e.text}


@pytest.mark.parametrize("version,typename", [("2.0.0", "TYPENAMES"), ("1.1.0", "TYPENAME"), ("1.0.0", "TYPENAME")])
def test_wfs_getfeature_gives_a_unit_only_its_organisations_components(registry, version, typename):
    ours, theirs = registry
    params = {"SERVICE": "WFS", "VERSION": version, "REQUEST": "GetFeature", typename: "components"}
    assert codes_in_gml(wfs("scope_unit", **params)) == ours
    assert codes_in_gml(wfs("scope_reader", **params)) == ours | theirs  # the rows are there for others


def test_wfs_geojson_counts_and_pages_stay_within_the_unit(registry):
    ours, _ = registry
    params = {
        "SERVICE": "WFS",
        "VERSION": "2.0.0",
        "REQUEST": "GetFeature",
        "TYPENAMES": "components",
        "OUTPUTFORMAT": "application/json",
    }
    data = json.loads(wfs("scope_unit", **params))
    assert data["numberMatched"] == 3 and {f["properties"]["code"] for f in data["features"]} == ours
    pages = [json.loads(wfs("scope_unit", COUNT="2", STARTINDEX=str(start), **params)) for start in (0, 2)]
    assert {f["properties"]["code"] for p in pages for f in p["features"]} == ours
    hits = ET.fromstring(
        wfs(
            "scope_unit",
            SERVICE="WFS",
            VERSION="2.0.0",
            REQUEST="GetFeature",
            TYPENAMES="components",
            RESULTTYPE="hits",
        )
    )
    assert hits.get("numberMatched") == "3"


def test_wfs_filter_by_id_cannot_reach_another_organisations_component(registry):
    _, theirs = registry
    pk = Component.objects.get(code=sorted(theirs)[0]).pk
    body = wfs(
        "scope_unit",
        SERVICE="WFS",
        VERSION="2.0.0",
        REQUEST="GetFeature",
        TYPENAMES="components",
        RESOURCEID=f"components.{pk}",
        OUTPUTFORMAT="application/json",
    )
    assert json.loads(body)["features"] == []
    body = wfs(
        "scope_reader",
        SERVICE="WFS",
        VERSION="2.0.0",
        REQUEST="GetFeature",
        TYPENAMES="components",
        RESOURCEID=f"components.{pk}",
        OUTPUTFORMAT="application/json",
    )
    assert len(json.loads(body)["features"]) == 1


def export(username, fmt, tmp_path, query="") -> set[str]:
    client = Client()
    client.login(username=username, password=PASSWORD)
    r = client.get(f"/api/exports/?format={fmt}{query}")
    assert r.status_code == 200, r.content[:300] if not r.streaming else r
    data = b"".join(r.streaming_content)
    if fmt == "geojson":
        return {f["properties"]["code"] for f in json.loads(data)["features"]}
    if fmt == "csv":
        return {row["code"] for row in csv.DictReader(io.StringIO(data.decode("utf-8-sig")))}
    path = tmp_path / f"{username}.gpkg"  # a GeoPackage is SQLite: read its one feature table
    path.write_bytes(data)
    with sqlite3.connect(path) as db:
        (table,) = db.execute("SELECT table_name FROM gpkg_contents WHERE data_type = 'features'").fetchone()
        return {row[0] for row in db.execute(f'SELECT code FROM "{table}"')}


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg"])
def test_exports_give_a_unit_only_its_organisations_components(registry, tmp_path, fmt):
    ours, theirs = registry
    assert export("scope_unit", fmt, tmp_path) == ours
    assert export("scope_reader", fmt, tmp_path) == ours | theirs


def test_an_export_filter_naming_another_organisation_still_gives_the_unit_nothing_of_it(registry, tmp_path):
    _, theirs = registry
    other = Component.objects.get(code=sorted(theirs)[0]).owner
    assert export("scope_unit", "geojson", tmp_path, f"&owner={other.uscc}") <= registry[0]
    assert export("scope_reader", "geojson", tmp_path, f"&owner={other.uscc}") >= theirs
