"""GET /api/print/: the current view as a PNG or PDF page drawn by our own WMS path, only the layers
the account may see, every refusal a JSON 400 naming the parameter."""

import io
import re

import numpy as np
import pyogrio.raw
import pytest
import shapely
from PIL import Image

from components import roles
from layers import catalogue
from layers.basemap.services import load_basemap
from tests.factories import make_user

BBOX = "116.8200,35.5400,116.8300,35.5460"
POND = shapely.box(116.8220, 35.5415, 116.8280, 35.5445)  # around the centre of BBOX
WATER = (0xC9, 0xDC, 0xEF)


@pytest.fixture
def water(db, tmp_path):
    path = tmp_path / "water.gpkg"
    pyogrio.raw.write(
        path,
        np.array([shapely.to_wkb(POND)], dtype=object),
        [np.array(["大水塘"], dtype=object)],
        fields=["name"],
        layer="water",
        crs="EPSG:4490",
        geometry_type="Polygon",
        driver="GPKG",
    )
    assert load_basemap(path).ok
    catalogue.reset()


def _get(client, **params):
    query = {"bbox": BBOX, "width": "400", "height": "300", "scale": "2", "layers": "basemap_water,roads"}
    query.update(params)
    return client.get("/api/print/", {k: v for k, v in query.items() if v is not None})


def test_png_page_with_the_map_drawn_by_our_wms(client, water):
    client.force_login(make_user("printer", roles.DISPATCHER))
    r = _get(client, title="兖州区打印测试")
    assert r.status_code == 200 and r["Content-Type"] == "image/png"
    assert "attachment" in r["Content-Disposition"] and "X-GridCity-Omitted-Layers" not in r
    page = Image.open(io.BytesIO(r.content))
    assert page.width == 800 + 2 * 48 and page.height > 600 + 160
    assert page.info["dpi"][0] == pytest.approx(192, abs=0.1)
    # the map sits under the title; its centre is the pond, in the basemap's water colour
    assert page.convert("RGB").getpixel((48 + 400, 160 + 300)) == WATER


def test_pdf_page_of_the_same_size(client, water):
    client.force_login(make_user("printer", roles.DISPATCHER))
    r = _get(client, format="pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    box = re.search(rb"/MediaBox \[ ?0 0 ([\d.]+) ([\d.]+) ?\]", r.content)
    assert box, r.content[:400]
    # points = pixels / 192 dpi * 72
    assert float(box.group(1)) == pytest.approx(896 / 192 * 72, abs=1)


def test_layers_the_account_may_not_see_are_left_out(client, water):
    client.force_login(make_user("unit", roles.MAINTENANCE_UNIT))
    r = _get(client, layers="basemap_water,tracks")
    assert r.status_code == 200 and r["X-GridCity-Omitted-Layers"] == "tracks"
    client.force_login(make_user("nobody"))
    r = _get(client)
    assert r.status_code == 200 and r["X-GridCity-Omitted-Layers"] == "basemap_water,roads"
    page = Image.open(io.BytesIO(r.content)).convert("RGB")
    assert page.getpixel((48 + 400, 160 + 300)) != WATER


@pytest.mark.parametrize(
    "params, field",
    [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "116.83,35.54,116.82,35.546"}, "bbox"),
        ({"bbox": "116.8,35.5,116.9,nan"}, "bbox"),
        ({"bbox": None}, "bbox"),
        ({"width": "10"}, "width"),
        ({"width": "abc"}, "width"),
        ({"height": None}, "height"),
        ({"width": "4000", "height": "3000", "scale": "2"}, "scale"),
        ({"scale": "9"}, "scale"),
        ({"format": "gif"}, "format"),
        ({"layers": "nope"}, "layers"),
        ({"layers": ""}, "layers"),
        ({"layers": ",".join(["roads"] * 21)}, "layers"),
        ({"title": "长" * 61}, "title"),
        ({"title": "a\x00b"}, "title"),
    ],
)
def test_bad_input_is_a_json_400_naming_the_field(client, db, params, field):
    client.force_login(make_user("printer", roles.DISPATCHER))
    r = _get(client, **params)
    assert r.status_code == 400, r.content[:200]
    body = r.json()
    assert body["field"] == field and body["message"]


def test_anonymous_is_refused(client, db):
    r = _get(client)
    assert r.status_code == 401 and r.json()["message"]
