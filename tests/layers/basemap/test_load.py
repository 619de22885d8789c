"""Basemap layers from any GeoPackage: every layer one catalogue layer, any EPSG, all rows or none,
a same-named layer replaced; drawn under every other layer and served as vector tiles."""

import numpy as np
import pyogrio.raw
import pytest
import shapely
from django.core.management import CommandError, call_command

from components import roles
from layers import catalogue
from layers.basemap.models import BasemapFeature, BasemapLayer
from layers.basemap.services import load_basemap
from tests.factories import make_user
from tests.tiles.conftest import _empty_tile_cache  # noqa: F401
from tiles import style as styles

POND = shapely.Polygon([(116.820, 35.540), (116.822, 35.540), (116.822, 35.542), (116.820, 35.542)])
HOUSE = shapely.box(116.823, 35.541, 116.8233, 35.5412)


def _write(path, layer, geoms, names=None, crs="EPSG:4490"):
    pyogrio.raw.write(
        path,
        np.array([None if g is None else shapely.to_wkb(g) for g in geoms], dtype=object),
        [np.array(names or [f"{layer}{i}" for i in range(len(geoms))], dtype=object)],
        fields=["name"],
        layer=layer,
        crs=crs,
        geometry_type="Unknown",
        driver="GPKG",
        append=path.exists(),
    )
    return path


@pytest.fixture
def gpkg(tmp_path):
    path = tmp_path / "base.gpkg"
    _write(path, "water", [POND, shapely.LineString([(116.81, 35.53), (116.83, 35.55)])], ["莲花塘", "小河"])
    _write(path, "buildings", [HOUSE])
    return path


def test_every_layer_becomes_a_basemap_layer_drawn_under_the_rest(db, gpkg):
    report = load_basemap(gpkg)
    assert report.ok and report.layers == {"water": 2, "buildings": 1}
    water = BasemapLayer.objects.get(name="water")
    assert (water.kind, water.title, water.geometry_type) == ("water", "水系", "Geometry")
    assert BasemapLayer.objects.get(name="buildings").geometry_type == "MultiPolygon"
    assert BasemapFeature.objects.get(name="莲花塘").geom.geom_type == "MultiPolygon"
    catalogue.reset()
    layer = catalogue.get("basemap_water")
    assert layer.basemap and layer.group == "底图" and catalogue.get("roads").basemap
    drawn = [sl for sl in styles.style(catalogue.layers(), "/tiles/")["layers"] if sl["type"] != "background"]
    first_other = next(i for i, sl in enumerate(drawn) if not sl["metadata"]["gridcity:basemap"])
    assert all(sl["metadata"]["gridcity:basemap"] for sl in drawn[:first_other])
    assert not any(sl["metadata"]["gridcity:basemap"] for sl in drawn[first_other:])
    assert {"basemap_water-fill", "basemap_buildings-fill", "roads-lines"} <= {sl["id"] for sl in drawn[:first_other]}


def test_a_bad_row_anywhere_writes_nothing(db, gpkg):
    _write(gpkg, "green", [shapely.Polygon([(116.8, 35.5), (116.81, 35.51), (116.81, 35.5), (116.8, 35.51)]), None])
    report = load_basemap(gpkg)
    assert not report.ok and BasemapLayer.objects.count() == 0 and BasemapFeature.objects.count() == 0
    assert [(e.layer, e.row, e.field) for e in report.errors] == [("green", 1, "geometry"), ("green", 2, "geometry")]
    assert "invalid" in report.errors[0].reason and "empty" in report.errors[1].reason


def test_projected_layers_are_transformed_and_reloading_replaces(db, tmp_path):
    path = _write(
        tmp_path / "gk.gpkg", "parks", [shapely.box(39_483_000, 3_933_000, 39_483_100, 3_933_080)], crs="EPSG:4527"
    )
    assert load_basemap(path).layers == {"parks": 1}
    feature = BasemapFeature.objects.get()
    assert feature.layer.kind == "green"
    assert 116.7 < feature.geom.extent[0] < 117.0 and 35.4 < feature.geom.extent[1] < 35.7
    again = load_basemap(path)
    assert again.replaced == ["parks"] and BasemapFeature.objects.count() == 1


def test_the_command_reports_rows_and_refuses(db, gpkg, tmp_path, capsys):
    call_command("load_basemap", str(gpkg), "--layer", "buildings", "--kind", "buildings=other")
    assert "basemap_buildings: 1 features" in capsys.readouterr().out
    assert BasemapLayer.objects.get().kind == "other"
    call_command("load_basemap", str(gpkg), "--if-empty")
    assert "skipped" in capsys.readouterr().out
    with pytest.raises(CommandError, match="no such file"):
        call_command("load_basemap", str(tmp_path / "none.gpkg"))
    with pytest.raises(CommandError, match="has no layer"):
        call_command("load_basemap", str(gpkg), "--layer", "roads")
    bad = _write(tmp_path / "bad.gpkg", "water", [POND, shapely.Point(116.8, 35.5).buffer(0)])
    with pytest.raises(CommandError, match="1 bad rows in 2; nothing was written"):
        call_command("load_basemap", str(bad))
    assert "layer water, row 2, geometry" in capsys.readouterr().err


@pytest.mark.usefixtures("_empty_tile_cache")
def test_served_as_vector_tiles_to_readers_only(db, gpkg, client):
    load_basemap(gpkg)
    catalogue.reset()
    client.force_login(make_user("basemap-reader", roles.DISPATCHER))
    # z16 tile holding the pond
    n = 2**16
    x = int((116.821 + 180) / 360 * n)
    lat = np.radians(35.541)
    y = int((1 - np.log(np.tan(lat) + 1 / np.cos(lat)) / np.pi) / 2 * n)
    r = client.get(f"/tiles/basemap_water/16/{x}/{y}.mvt")
    assert r.status_code == 200 and len(r.content) > 20
    client.force_login(make_user("basemap-nobody"))
    assert client.get(f"/tiles/basemap_water/16/{x}/{y}.mvt").status_code in (401, 403)


def test_drawn_by_wms_in_its_pale_colour(db, gpkg, client):
    import io

    from PIL import Image

    from layers.ogc.wms.params import mercator

    load_basemap(gpkg)
    catalogue.reset()
    client.force_login(make_user("basemap-wms", roles.DISPATCHER))
    x0, y0 = mercator(116.8205, 35.5405)
    x1, y1 = mercator(116.8215, 35.5415)  # inside the pond
    r = client.get(
        "/wms",
        {
            "SERVICE": "WMS",
            "VERSION": "1.3.0",
            "REQUEST": "GetMap",
            "LAYERS": "basemap_water",
            "STYLES": "",
            "CRS": "EPSG:3857",
            "BBOX": f"{x0},{y0},{x1},{y1}",
            "WIDTH": "64",
            "HEIGHT": "64",
            "FORMAT": "image/png",
        },
    )
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(r.content)).convert("RGB").getpixel((32, 32)) == (0xC9, 0xDC, 0xEF)
