"""Vector tiles against the real database: decoded tiles match the rows, filters, scopes, caching,
invalidation by every write path, and bad input."""

import gzip
import io
import json

import mapbox_vector_tile
import mercantile
import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test import Client

from components import roles
from components.cluster_cells import REBUILD
from components.importing import import_file
from components.models import Component, ComponentClass, ComponentState
from components.services import retire_component, update_component
from layers import catalogue
from tests.factories import ComponentFactory, OrganisationFactory, make_user
from tests.layers.test_wfs_support import PASSWORD, TARGET_PK, basic, make_grids
from tiles import cache

# Every test here runs against both ways in: the Django view and the tile service (conftest.tile_path).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("tile_path")]

# A z16 tile in the test grids' area; the components sit well inside it, around its middle.
Z = 16
TILE = mercantile.tile(116.8255, 35.5455, Z)
_B = mercantile.bounds(TILE)
LON, LAT = (_B.west + _B.east) / 2 - 0.0003, (_B.south + _B.north) / 2 - 0.0002


@pytest.fixture
def viewer(db):
    return make_user("tile_viewer", roles.DISPATCHER, password=PASSWORD)


@pytest.fixture
def client(viewer):
    c = Client()
    c.force_login(viewer)
    return c


@pytest.fixture
def lights(db):
    owner, other = OrganisationFactory(name="兖州城管局"), OrganisationFactory(name="兖州供电公司")
    light = ComponentClass.objects.get(code="0118") if ComponentClass.objects.filter(code="0118").exists() else None
    made = []
    for i in range(12):
        made.append(
            ComponentFactory(
                geom=Point(LON + (i % 4) * 0.0002, LAT + (i // 4) * 0.0002, srid=4490),
                owner=owner if i % 2 == 0 else other,
                maintainer=other,
                **({"component_class": light} if light else {}),
            )
        )
    return made


def decode(response) -> dict:
    body = response.content
    if response.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return mapbox_vector_tile.decode(body) if body else {}


def tile_url(layer="components", z=Z, x=TILE.x, y=TILE.y, query=""):
    return f"/tiles/{layer}/{z}/{x}/{y}.mvt" + (f"?{query}" if query else "")


def codes(tile: dict, layer="components") -> set[str]:
    return {f["properties"]["code"] for f in tile.get(layer, {}).get("features", []) if "code" in f["properties"]}


def rows_in_tile(z, x, y, extra_sql="TRUE", params=()):
    west, south, east, north = mercantile.xy_bounds(x, y, z)
    pad = (east - west) * 64 / 4096
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT code FROM components_component WHERE NOT retired AND {extra_sql} AND "
            "geom_3857 && ST_MakeEnvelope(%s, %s, %s, %s, 3857)",
            [*params, west - pad, south - pad, east + pad, north + pad],
        )
        return {r[0] for r in cur.fetchall()}


# ---------------------------------------------------------------- catalogue, TileJSON, style


def test_catalogue_lists_every_tile_layer_once(client):
    body = client.get("/tiles/").json()
    ids = [layer["id"] for layer in body["layers"]]
    assert len(ids) == len(set(ids))
    for expected in (
        "components",
        "components_01",
        "components_06",
        "district_grids",
        "street_grids",
        "community_grids",
        "base_grids",
        "grid_gaps",
    ):
        assert expected in ids
    comp = next(layer for layer in body["layers"] if layer["id"] == "components")
    assert comp["title_zh"] and comp["group"] == "部件"
    assert {f["param"] for f in comp["filters"]} == {"class", "state", "owner", "maintainer", "grid"}
    assert comp["tiles"][0].endswith("/tiles/components/{z}/{x}/{y}.mvt")


def test_tilejson_3_and_style_come_from_the_same_declarations(client):
    tj = client.get("/tiles/base_grids.json").json()
    assert tj["tilejson"] == "3.0.0" and tj["minzoom"] == 12 and tj["maxzoom"] == 18
    assert tj["vector_layers"][0]["id"] == "base_grids" and "code" in tj["vector_layers"][0]["fields"]
    style = client.get("/tiles/style.json").json()
    assert style["version"] == 8
    tile_layers = {layer.id for layer in catalogue.layers() if layer.tiles}
    assert set(style["sources"]) == tile_layers
    for sl in style["layers"][1:]:
        assert sl["source"] == sl.get("source-layer", sl["source"]) == sl["metadata"]["gridcity:layer"]
    assert client.get("/tiles/nope.json").status_code == 404


# ---------------------------------------------------------------- tiles match the database


def test_decoded_tile_matches_the_database(client, lights):
    r = client.get(tile_url(), HTTP_ACCEPT_ENCODING="gzip")
    assert r.status_code == 200 and r["Content-Type"] == "application/vnd.mapbox-vector-tile"
    assert r["Content-Encoding"] == "gzip"
    tile = decode(r)
    assert codes(tile) == rows_in_tile(Z, TILE.x, TILE.y) == {c.code for c in lights}
    by_code = {f["properties"]["code"]: f for f in tile["components"]["features"]}
    for c in lights:
        f = by_code[c.code]
        assert f["id"] == c.pk
        assert f["properties"]["class_code"] == c.component_class.code
        assert f["properties"]["state"] == c.state_id
        # Position: the decoded tile pixel is where the component projects (extent 4096, y up).
        west, south, east, north = mercantile.xy_bounds(TILE.x, TILE.y, Z)
        mx, my = mercantile.xy(c.geom.x, c.geom.y)
        px, py = f["geometry"]["coordinates"]
        assert abs(px - (mx - west) / (east - west) * 4096) <= 1
        assert abs(py - (my - south) / (north - south) * 4096) <= 1


def test_low_zoom_tiles_carry_counted_clusters_that_add_up(client, lights):
    t = mercantile.tile(LON, LAT, 12)
    tile = decode(client.get(tile_url(z=12, x=t.x, y=t.y)))
    feats = tile["components"]["features"]
    assert all(f["properties"]["cluster"] for f in feats)
    assert sum(f["properties"]["count"] for f in feats) == len(lights)
    # The stored counts are what a recount from scratch gives.
    with connection.cursor() as cur:
        cur.execute("SELECT z, cx, cy, major, n FROM tiles_componentcell ORDER BY 1, 2, 3, 4")
        kept = cur.fetchall()
        cur.execute(REBUILD)
        cur.execute("SELECT z, cx, cy, major, n FROM tiles_componentcell ORDER BY 1, 2, 3, 4")
        assert cur.fetchall() == kept


def test_cluster_counts_follow_moves_retirements_and_sql(lights):
    def recount():
        with connection.cursor() as cur:
            cur.execute("SELECT z, cx, cy, major, n, round(sx), round(sy) FROM tiles_componentcell ORDER BY 1, 2, 3, 4")
            kept = cur.fetchall()
            cur.execute(REBUILD)
            cur.execute("SELECT z, cx, cy, major, n, round(sx), round(sy) FROM tiles_componentcell ORDER BY 1, 2, 3, 4")
            return kept, cur.fetchall()

    update_component(lights[0], geom=Point(116.9, 35.6, srid=4490))
    retire_component(lights[1], reason="拆除")
    Component.objects.filter(pk=lights[2].pk).delete()
    Component.objects.filter(pk__in=[c.pk for c in lights[3:6]]).update(
        state=ComponentState.objects.get(code="damaged")
    )
    kept, fresh = recount()
    assert kept == fresh
    with connection.cursor() as cur:
        cur.execute("SELECT sum(n) FROM tiles_componentcell WHERE z = 0")
        assert cur.fetchone()[0] == len(lights) - 2


def test_polygon_layers_and_combined_tiles(client, lights):
    make_grids()
    t = mercantile.tile(LON, LAT, 14)
    both = decode(client.get(tile_url("base_grids,components", 14, t.x, t.y)))
    alone = decode(client.get(tile_url("base_grids", 14, t.x, t.y)))
    assert set(both) == {"base_grids", "components"}
    assert (
        {f["properties"]["code"] for f in both["base_grids"]["features"]}
        == {f["properties"]["code"] for f in alone["base_grids"]["features"]}
        >= {"37081200100101"}
    )
    feature = next(f for f in alone["base_grids"]["features"] if f["properties"]["code"] == "37081200100101")
    assert feature["properties"]["level"] == 4 and feature["properties"]["parent_code"] == "370812001001"
    # Below its first zoom a layer's tile is empty, not an error.
    low = mercantile.tile(LON, LAT, 8)
    r = client.get(tile_url("base_grids", 8, low.x, low.y))
    assert r.status_code == 200 and r.content == b""


def test_a_combined_tile_leaves_out_layers_the_user_may_not_see(lights):
    """The viewer groups every catalogue layer into one source: a layer hidden from this user (patrol
    tracks for a maintenance unit) is left out of the tile, not a 403 for all of them."""
    make_grids()
    c = Client()
    c.force_login(make_user("unit_only", roles.MAINTENANCE_UNIT))
    t = mercantile.tile(LON, LAT, 14)
    r = c.get(tile_url("base_grids,tracks", 14, t.x, t.y))
    assert r.status_code == 200 and set(decode(r)) == {"base_grids"}
    alone = c.get(tile_url("tracks", 14, t.x, t.y))
    assert alone.status_code == 403 and alone.json()["field"] == "layer"


# ---------------------------------------------------------------- filters and scopes


def test_filters_are_bound_and_checked(client, lights):
    owner = lights[0].owner
    tile = decode(client.get(tile_url(query=f"owner={owner.uscc}")))
    assert codes(tile) == {c.code for c in lights if c.owner_id == owner.pk}
    tile = decode(client.get(tile_url(query=f"class={lights[0].component_class.code}&state=intact")))
    assert codes(tile) == {c.code for c in lights}
    tile = decode(client.get(tile_url(query=f"class={lights[0].component_class.major_code}")))
    assert codes(tile) == {c.code for c in lights}
    assert decode(client.get(tile_url(query="state=damaged"))) == {}
    for query, field in (
        ("class=1'; DROP TABLE x--", "class"),
        ("class=9999", "class"),
        ("state=gone", "state"),
        ("owner=91370812MA0000000X", "owner"),
        ("grid=999", "grid"),
        ("colour=red", "colour"),
        ("owner=", "owner"),
    ):
        r = client.get(tile_url(query=query))
        assert r.status_code == 400, query
        assert r.json()["field"] == field and r.json()["message"], query
    assert Component.objects.count() == len(lights)


def test_grid_filter_uses_the_level_of_the_code(client, lights):
    Component.objects.filter(pk=lights[0].pk).update(grid_code="37081200100101", community_code="370812001001")
    assert client.get(tile_url(query="grid=37081200100101")).json()["field"] == "grid"  # no such grid yet
    make_grids()
    assert codes(decode(client.get(tile_url(query="grid=37081200100101")))) == {lights[0].code}
    assert codes(decode(client.get(tile_url(query="grid=370812001001")))) == {lights[0].code}


def test_a_maintenance_unit_sees_only_its_own_components(lights):
    owner = lights[0].owner
    unit = make_user("tile_unit", roles.MAINTENANCE_UNIT, organisation=owner, password=PASSWORD)
    c = Client()
    c.force_login(unit)
    assert codes(decode(c.get(tile_url()))) == {x.code for x in lights if x.owner_id == owner.pk}
    t = mercantile.tile(LON, LAT, 12)
    clusters = decode(c.get(tile_url(z=12, x=t.x, y=t.y)))["components"]["features"]
    assert sum(f["properties"]["count"] for f in clusters) == len([x for x in lights if x.owner_id == owner.pk])


def test_anonymous_and_wrong_credentials_get_401_basic_works(lights, viewer):
    r = Client().get(tile_url())
    assert r.status_code == 401 and "Basic" in r["WWW-Authenticate"]
    assert Client().get(tile_url(), HTTP_AUTHORIZATION=basic(viewer.username, "wrong")).status_code == 401
    r = Client().get(tile_url(), HTTP_AUTHORIZATION=basic(viewer.username))
    assert r.status_code == 200 and codes(decode(r)) == {c.code for c in lights}


@pytest.mark.parametrize(
    "path, status, field",
    [
        ("/tiles/nope/1/0/0.mvt", 404, "layer"),
        ("/tiles/components,nope/1/0/0.mvt", 404, "layer"),
        ("/tiles/components,components/1/0/0.mvt", 400, "layer"),
        ("/tiles/components/x/0/0.mvt", 400, "z"),
        ("/tiles/components/-1/0/0.mvt", 400, "z"),
        ("/tiles/components/99/0/0.mvt", 400, "z"),
        ("/tiles/components/19/0/0.mvt", 400, "z"),
        ("/tiles/components/2/4/0.mvt", 400, "x"),
        ("/tiles/components/2/0/4.mvt", 400, "y"),
        ("/tiles/components/2/0/1e3.mvt", 400, "y"),
        ("/tiles/components/3/99999999999/0.mvt", 400, "x"),
    ],
)
def test_bad_tile_requests(client, path, status, field):
    r = client.get(path)
    assert r.status_code == status, path
    assert r.json()["field"] == field and r.json()["message"]


def test_many_filter_values_stay_fast_and_bounded(client, lights):
    many = ",".join(f"{n:04d}" for n in range(101, 301))
    assert client.get(tile_url(query=f"class={many}")).status_code == 400  # unknown classes, named
    assert client.get(tile_url(query="state=" + ",".join(["intact"] * 201 + ["x"]))).status_code == 400
    with connection.cursor() as cur:
        cur.execute("SHOW statement_timeout")
        assert cur.fetchone()[0] not in ("0", "")


# ---------------------------------------------------------------- HTTP caching


def test_etag_304_gzip_and_cache_control(client, lights):
    first = client.get(tile_url(), HTTP_ACCEPT_ENCODING="gzip, br")
    etag = first["ETag"]
    assert etag.startswith('"') and first["Cache-Control"].startswith("private, max-age=")
    assert "Accept-Encoding" in first["Vary"]
    again = client.get(tile_url(), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again.content == b""
    plain = client.get(tile_url())
    assert "Content-Encoding" not in plain and plain["ETag"] == etag
    assert gzip.decompress(first.content) == plain.content


# ---------------------------------------------------------------- invalidation by every write path


def _cached(layer_id, z, x, y, scope="all"):
    entry, _ = cache.lookup(catalogue.get(layer_id), z, x, y, f"mvt|{scope}")
    return entry


def test_rest_edit_moves_a_component_on_the_map_and_leaves_far_tiles_cached(
    client, lights, django_capture_on_commit_callbacks
):
    editor = make_user("tile_editor", roles.GIS_EDITOR)
    api = Client()
    api.force_login(editor)
    far = mercantile.tile(116.60, 35.70, Z)
    client.get(tile_url())
    client.get(tile_url(x=far.x, y=far.y))
    assert _cached("components", Z, far.x, far.y) is not None
    moved = lights[0]
    dest = mercantile.tile(LON + 0.02, LAT, Z)
    with django_capture_on_commit_callbacks(execute=True):
        r = api.patch(
            f"/api/components/{moved.code}/",
            json.dumps({"geometry": {"type": "Point", "coordinates": [LON + 0.02, LAT]}}),
            content_type="application/json",
        )
    assert r.status_code == 200, r.content
    assert moved.code not in codes(decode(client.get(tile_url())))
    assert moved.code in codes(decode(client.get(tile_url(x=dest.x, y=dest.y))))
    assert _cached("components", Z, far.x, far.y) is not None  # untouched tiles stay cached


def test_wfs_t_grid_edit_shows_on_the_grid_tiles(client, django_capture_on_commit_callbacks):
    make_grids()
    editor = make_user("tile_gis", roles.GIS_EDITOR, password=PASSWORD)
    t = mercantile.tile(LON, LAT, 14)
    before = decode(client.get(tile_url("base_grids", 14, t.x, t.y)))
    names = {f["properties"]["code"]: f["properties"]["name"] for f in before["base_grids"]["features"]}
    assert names["37081200100101"] == "一号网格"
    body = (
        '<wfs:Transaction xmlns:wfs="http://www.opengis.net/wfs" version="1.1.0" service="WFS" '
        'xmlns:ogc="http://www.opengis.net/ogc"><wfs:Update typeName="gridcity:base_grids">'
        "<wfs:Property><wfs:Name>name</wfs:Name><wfs:Value>改名网格</wfs:Value></wfs:Property>"
        f'<ogc:Filter><ogc:FeatureId fid="base_grids.{TARGET_PK}"/></ogc:Filter></wfs:Update></wfs:Transaction>'
    )
    with django_capture_on_commit_callbacks(execute=True):
        r = Client().post("/wfs", body.encode(), content_type="text/xml", HTTP_AUTHORIZATION=basic(editor.username))
    assert r.status_code == 200 and b"totalUpdated>1<" in r.content
    after = decode(client.get(tile_url("base_grids", 14, t.x, t.y)))
    assert {f["properties"]["code"]: f["properties"]["name"] for f in after["base_grids"]["features"]}[
        "37081200100101"
    ] == "改名网格"


def test_a_grid_edit_drops_its_level_and_the_gaps_and_leaves_the_other_levels_cached(
    django_capture_on_commit_callbacks,
):
    from layers.grids.services import update_grid
    from layers.models import Grid

    make_grids()
    grid = Grid.objects.get(pk=TARGET_PK)
    z = 14
    t = mercantile.tile(*grid.geom.centroid.coords, z)
    viewer = Client()
    viewer.force_login(make_user("tile_viewer_levels", roles.GIS_EDITOR))
    layers = ("district_grids", "street_grids", "community_grids", "base_grids", "grid_gaps")
    for layer in layers:
        assert viewer.get(tile_url(layer, z, t.x, t.y)).status_code == 200
        assert _cached(layer, z, t.x, t.y) is not None, layer
    with django_capture_on_commit_callbacks(execute=True):
        update_grid(grid.code, name="改名网格")
    assert _cached("base_grids", z, t.x, t.y) is None
    assert _cached("grid_gaps", z, t.x, t.y) is None  # one table for every level: any edit drops it
    for layer in ("district_grids", "street_grids", "community_grids"):
        assert _cached(layer, z, t.x, t.y) is not None, layer


def test_import_invalidates_the_tiles_it_touched(client, tmp_path, django_capture_on_commit_callbacks):
    owner = OrganisationFactory()
    before = decode(client.get(tile_url()))
    assert codes(before) == set()
    csv = tmp_path / "lights.csv"
    csv.write_text(
        f"class_code,x,y,owner_uscc,state\n0118,{LON + 0.0001},{LAT + 0.0001},{owner.uscc},intact\n", encoding="utf-8"
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = import_file(csv, srid=4490)
    assert result.created == 1, result
    assert len(codes(decode(client.get(tile_url())))) == 1


def test_a_change_too_wide_to_name_tiles_drops_whole_zooms(client, lights):
    from components.signals import components_changed
    from tiles.invalidation import invalidate

    client.get(tile_url())
    report = invalidate(components_changed, (116.55, 35.38, 117.05, 35.75))
    assert Z in report["components"]["whole_zooms"] and 10 not in report["components"]["whole_zooms"]
    assert _cached("components", Z, TILE.x, TILE.y) is None


# ---------------------------------------------------------------- seeding


def test_seed_command_and_task_fill_the_cache(lights):
    from django.core.management import call_command

    from tiles.tasks import seed_tiles

    t = mercantile.tile(LON, LAT, 12)
    out = io.StringIO()
    call_command(
        "seed_tiles",
        "--layers",
        "components",
        "--zooms",
        "12",
        "--bbox",
        f"{LON},{LAT},{LON},{LAT}",
        stdout=out,
        verbosity=0,
    )
    assert "seeded 1 tiles (1 with features)" in out.getvalue()
    assert _cached("components", 12, t.x, t.y) is not None
    result = seed_tiles.apply(args=[["base_grids"], 13, 13, [LON, LAT, LON, LAT]]).get()
    assert result == {"tiles": 1, "non_empty": 0}


def test_a_tile_query_cut_by_the_statement_timeout_is_a_503(client, lights, monkeypatch):
    from tiles import render

    # Stands in for any query made slow: the database's statement timeout ends it, the client gets a
    # clear 503 and nothing is cached.
    monkeypatch.setattr(render, "tile_sql", lambda req: ("SELECT pg_sleep(2)::text::bytea", []))
    with connection.cursor() as cur:
        cur.execute("SET LOCAL statement_timeout = 100")
    r = client.get(tile_url())
    assert r.status_code == 503 and "try again" in r.json()["message"]
    assert _cached("components", Z, TILE.x, TILE.y) is None


def test_many_class_codes_are_checked_in_one_query(client, lights, django_assert_max_num_queries):
    from components.tile_filters import COMPONENT_FILTERS

    parse = next(f for f in COMPONENT_FILTERS if f.param == "class").parse
    codes_ = list(ComponentClass.objects.values_list("code", flat=True)) + ["01", "02"]
    with django_assert_max_num_queries(1):
        (ids,) = parse(codes_)
    assert set(ids) == set(ComponentClass.objects.values_list("id", flat=True).filter(code__in=codes_)) | set(
        ComponentClass.objects.filter(major_code__in=["01", "02"]).values_list("id", flat=True)
    )
    with pytest.raises(ValueError, match="no component class 0199"):
        parse(["01", "0199"])
