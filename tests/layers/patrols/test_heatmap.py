import datetime as dt
import io
import subprocess
import sys
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import mercantile
import numpy as np
import pytest
import rasterio
from django.test import Client
from PIL import Image
from rasterio.warp import transform as warp

from components import roles
from layers import catalogue
from layers.patrols import heatmap
from tests.factories import make_user
from tests.layers.test_wfs_support import basic

from .conftest import LAT, LON
from .helpers import fix, post

LOCAL = ZoneInfo("Asia/Shanghai")
# Yesterday 10:00 local: always in a partition made ahead, never "future", never across midnight.
DAY = dt.datetime.now(LOCAL).date() - dt.timedelta(days=1)
START = dt.datetime.combine(DAY, dt.time(10), LOCAL)
FAR_LON = LON + 0.05  # the other worker patrols ~5 km east
STAND_S, WALK_S, GAP_S = 300, 300, 60  # 30 intervals standing, 30 walking, one 5-minute gap capped to 60 s
TOTAL_MIN = (STAND_S + WALK_S + GAP_S) / 60


def walk(lon: float) -> list[dict]:
    """31 fixes standing at (lon, LAT), then 30 walking east ~1 m a step, then one after 5 minutes."""
    fixes = [fix(i, lon=lon, start=START) for i in range(31)]
    fixes += [fix(i, lon=lon + (i - 30) * 0.00001, start=START) for i in range(31, 61)]
    fixes.append(fix(0, lon=lon + 30 * 0.00001, start=START + dt.timedelta(seconds=600 + 300)))
    return fixes


@pytest.fixture
def patrols(worker, other_worker, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert post(worker, {"fixes": walk(LON)}).json()["stored"] == 62
        assert post(other_worker, {"fixes": walk(FAR_LON)}).json()["stored"] == 62


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _cog(user, query: str = ""):
    answer = _client(user).get(f"/api/patrols/heatmap.tif?from={DAY}{query}")
    assert answer.status_code == 200, answer.content[:300]
    return answer


@contextmanager
def _open(answer):
    with rasterio.MemoryFile(b"".join(answer.streaming_content)) as mem, mem.open() as ds:
        yield ds


def _mercator(lon, lat):
    xs, ys = warp("EPSG:4326", "EPSG:3857", [lon], [lat])
    return xs[0], ys[0]


# ---------------------------------------------------------------- the raster


def test_the_raster_has_its_peak_where_the_worker_stood_and_the_right_total(patrols, worker, dispatcher):
    answer = _cog(dispatcher, f"&worker={worker.username}")
    assert answer["Content-Type"] == "image/tiff"
    assert f"patrol-heatmap-{DAY}.tif" in answer["Content-Disposition"]
    assert "private" in answer["Cache-Control"] and answer["ETag"]
    with _open(answer) as ds:
        minutes = ds.read(1)
        assert minutes.sum() == pytest.approx(TOTAL_MIN, rel=1e-4)
        row, col = np.unravel_index(np.argmax(minutes), minutes.shape)
        x, y = ds.xy(row, col)
        ax, ay = _mercator(LON, LAT)
        assert abs(x - ax) <= 10 and abs(y - ay) <= 10  # the cell the worker stood in
        assert ds.tags()["DATE_FROM"] == ds.tags()["DATE_TO"] == DAY.isoformat()


def test_the_cog_is_valid_tiled_with_overviews_and_a_crs(patrols, dispatcher):
    with _open(_cog(dispatcher)) as ds:
        assert ds.driver == "GTiff" and ds.crs.to_epsg() == 3857
        assert ds.dtypes[0] == "float32" and ds.nodata == -1
        assert ds.block_shapes[0] == (256, 256)
        assert ds.overviews(1), "a ~7 km wide raster of 10 m cells has overviews"
        assert ds.res == (10.0, 10.0)
        assert ds.tags()["CELL_SIZE"].startswith("10 m") and "minutes" in ds.tags()["UNIT"]
        assert ds.read(1).sum() == pytest.approx(2 * TOTAL_MIN, rel=1e-4)
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"


def test_cog_is_cached_on_disk_until_fixes_of_those_days_change(patrols, worker, dispatcher, settings):
    first = _cog(dispatcher)
    assert _cog(dispatcher)["ETag"] == first["ETag"]
    cached = list((settings.STATE_DIR / "heatmaps").glob("*.tif"))
    assert cached
    late = fix(0, lon=LON, start=START + dt.timedelta(hours=3))
    assert post(worker, {"fixes": [late]}).json()["stored"] == 1
    assert _cog(dispatcher)["ETag"] != first["ETag"]


def test_cell_size_is_a_parameter(patrols, worker, dispatcher):
    with _open(_cog(dispatcher, f"&worker={worker.username}&cell=50")) as ds:
        assert ds.res == (50.0, 50.0)
        assert ds.read(1).sum() == pytest.approx(TOTAL_MIN, rel=1e-4)


def test_smoothing_keeps_the_total():
    grid = np.zeros((9, 9))
    grid[4, 4] = 60.0
    smoothed = heatmap.smooth(grid)
    assert smoothed.sum() == pytest.approx(60.0) and smoothed.max() == smoothed[4, 4] < 60.0


# ---------------------------------------------------------------- who sees what


def test_a_worker_sees_only_their_own_time(patrols, worker):
    with _open(_cog(worker)) as ds:
        assert ds.read(1).sum() == pytest.approx(TOTAL_MIN, rel=1e-4)


def test_unit_users_see_nothing(patrols):
    unit = make_user("heat_unit_user", roles.MAINTENANCE_UNIT)
    c = _client(unit)
    answer = c.get(f"/api/patrols/heatmap.tif?from={DAY}")
    assert answer.status_code == 403 and answer.json()["message"]
    tile = mercantile.tile(LON, LAT, 16)
    assert c.get(f"/tiles/patrol_heatmap/16/{tile.x}/{tile.y}.png?from={DAY}").status_code == 403
    wms = Client().get(_getmap(), HTTP_AUTHORIZATION=basic(unit.username, "test-pass-123"))
    assert b"LayerNotDefined" in wms.content
    assert Client().get(f"/api/patrols/heatmap.tif?from={DAY}").status_code in (401, 403)


# ---------------------------------------------------------------- bad parameters


@pytest.mark.parametrize(
    "query, field",
    [
        ("from=2026-13-01", "from"),
        ("from=2026-01-01&to=2026-03-01", "to"),
        ("from=2026-02-01&to=2026-01-01", "to"),
        ("cell=1", "cell"),
        ("cell=abc", "cell"),
        ("worker=nobody-here", "worker"),
        ("unit=nope", "unit"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(dispatcher, query, field):
    answer = _client(dispatcher).get(f"/api/patrols/heatmap.tif?{query}")
    assert answer.status_code == 400
    assert answer.json()["field"] == field and answer.json()["message"]


def test_too_many_cells_is_400(patrols, dispatcher, monkeypatch):
    monkeypatch.setattr(heatmap, "MAX_CELLS", 100)
    answer = _client(dispatcher).get(f"/api/patrols/heatmap.tif?from={DAY}")
    assert answer.status_code == 400 and answer.json()["field"] == "cell"


# ---------------------------------------------------------------- the map layer


def _png(answer) -> np.ndarray:
    assert answer.status_code == 200, answer.content[:300]
    assert answer["Content-Type"] == "image/png"
    return np.asarray(Image.open(io.BytesIO(answer.content)).convert("RGBA"))


def test_png_tiles_are_coloured_where_fixes_are_and_transparent_elsewhere(patrols, dispatcher):
    c = _client(dispatcher)
    tile = mercantile.tile(LON, LAT, 16)
    answer = c.get(f"/tiles/patrol_heatmap/16/{tile.x}/{tile.y}.png?from={DAY}")
    pixels = _png(answer)
    assert pixels.shape == (256, 256, 4) and pixels[..., 3].max() > 200
    assert "private" in answer["Cache-Control"] and answer["ETag"]
    # the pixel where the worker stood is the reddest
    west, south, east, north = mercantile.xy_bounds(tile)
    ax, ay = _mercator(LON, LAT)
    px, py = int((ax - west) / (east - west) * 256), int((north - ay) / (north - south) * 256)
    hot = pixels[max(0, py - 3) : py + 4, max(0, px - 3) : px + 4]
    assert hot[..., 3].max() == pixels[..., 3].max()
    assert c.get(answer.request["PATH_INFO"] + f"?from={DAY}", HTTP_IF_NONE_MATCH=answer["ETag"]).status_code == 304
    # a tile with no fixes is fully transparent; so is the same tile on a day without patrols
    empty = mercantile.tile(LON - 0.1, LAT + 0.1, 16)
    assert _png(c.get(f"/tiles/patrol_heatmap/16/{empty.x}/{empty.y}.png?from={DAY}"))[..., 3].max() == 0
    assert _png(c.get(f"/tiles/patrol_heatmap/16/{tile.x}/{tile.y}.png?from=2021-01-01"))[..., 3].max() == 0


def test_the_tile_filters_apply(patrols, worker, other_worker, dispatcher):
    c = _client(dispatcher)
    tile = mercantile.tile(LON, LAT, 16)
    url = f"/tiles/patrol_heatmap/16/{tile.x}/{tile.y}.png?from={DAY}&worker="
    assert _png(c.get(url + worker.username))[..., 3].max() > 0
    assert _png(c.get(url + other_worker.username))[..., 3].max() == 0


def test_bad_tile_parameters_are_400_json(dispatcher):
    c = _client(dispatcher)
    tile = mercantile.tile(LON, LAT, 16)
    answer = c.get(f"/tiles/patrol_heatmap/16/{tile.x}/{tile.y}.png?from=yesterday")
    assert answer.status_code == 400 and answer.json()["field"] == "from"
    answer = c.get(f"/tiles/patrol_heatmap/16/{tile.x}/{tile.y}.png?colour=red")
    assert answer.status_code == 400 and answer.json()["field"] == "colour"
    assert c.get(f"/tiles/patrol_heatmap/16/{tile.x}/{tile.y}.mvt").status_code == 404


def _getmap(crs="EPSG:4490", extra="", layers="patrol_heatmap") -> str:
    if crs == "EPSG:4490":
        box = f"{LAT - 0.002},{LON - 0.002},{LAT + 0.002},{LON + 0.002}"
    else:
        x0, y0 = _mercator(LON - 0.002, LAT - 0.002)
        x1, y1 = _mercator(LON + 0.002, LAT + 0.002)
        box = f"{x0},{y0},{x1},{y1}"
    return (
        f"/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS={layers}&STYLES=&CRS={crs}"
        f"&BBOX={box}&WIDTH=256&HEIGHT=256&FORMAT=image/png&TRANSPARENT=TRUE&FROM={DAY}{extra}"
    )


@pytest.mark.parametrize("crs", ["EPSG:4490", "EPSG:3857"])
def test_wms_getmap_draws_the_heat_map(patrols, dispatcher, crs):
    auth = basic(dispatcher.username, "test-pass-123")
    pixels = _png(Client().get(_getmap(crs), HTTP_AUTHORIZATION=auth))
    assert pixels[..., 3].max() > 200
    # the worker stood at the centre of the box
    assert pixels[120:136, 120:136, 3].max() == pixels[..., 3].max()
    assert pixels[0:20, 0:20, 3].max() == 0


def test_wms_getmap_lays_the_heat_map_over_mapnik_layers(patrols, dispatcher):
    auth = basic(dispatcher.username, "test-pass-123")
    answer = Client().get(_getmap(layers="tracks,patrol_heatmap", extra="&TRANSPARENT=FALSE"), HTTP_AUTHORIZATION=auth)
    pixels = _png(answer)
    assert pixels[..., 3].min() == 255  # opaque background
    assert len(np.unique(pixels.reshape(-1, 4), axis=0)) > 3


def test_wms_bad_filter_is_an_ogc_exception(patrols, dispatcher):
    auth = basic(dispatcher.username, "test-pass-123")
    answer = Client().get(_getmap(extra="&TO=2020-01-01"), HTTP_AUTHORIZATION=auth)
    assert answer.status_code == 400 and b"ServiceException" in answer.content
    assert b'locator="TO"' in answer.content


def test_the_layer_is_in_the_style_as_a_raster_source(dispatcher):
    c = _client(dispatcher)
    style = c.get("/tiles/style.json").json()
    source = style["sources"]["patrol_heatmap"]
    assert source["type"] == "raster" and source["tiles"][0].endswith(".png") and source["tileSize"] == 256
    heat = [sl for sl in style["layers"] if sl.get("source") == "patrol_heatmap"]
    assert heat and heat[0]["type"] == "raster" and "source-layer" not in heat[0]
    entry = next(e for e in c.get("/tiles/").json()["layers"] if e["id"] == "patrol_heatmap")
    assert entry["raster"] is True and {"from", "to", "worker"} <= {f["param"] for f in entry["filters"]}
    assert catalogue.get("patrol_heatmap").group == "巡查"


def test_legend(dispatcher):
    answer = _client(dispatcher).get("/api/patrols/heatmap/legend/")
    assert answer.status_code == 200 and answer["Cache-Control"]
    body = answer.json()
    values = [s["value"] for s in body["stops"]]
    assert values == sorted(values) and body["unit"] == "minutes per hectare"
    assert all(s["colour"].startswith("#") and len(s["colour"]) == 7 for s in body["stops"])


# ---------------------------------------------------------------- rasterio beside mapnik


def test_rasterio_works_in_a_process_that_also_rendered_tiles(patrols, dispatcher):
    """mapnik renders in the pool's own processes: this one, having served a mapnik tile, still
    writes and reads a COG (mapnik here would have broken PROJ: "Cannot find proj.db")."""
    tile = mercantile.tile(LON, LAT, 16)
    c = _client(dispatcher)
    assert _png(c.get(f"/tiles/tracks/16/{tile.x}/{tile.y}.png")).shape[2] == 4
    assert "mapnik" not in sys.modules
    with _open(_cog(dispatcher, "&cell=20")) as ds:
        assert ds.crs.to_epsg() == 3857
    assert rasterio.crs.CRS.from_epsg(4490).is_geographic


def test_the_heatmap_module_does_not_import_mapnik():
    code = "import django, os; os.environ['GRIDCITY_ENV']='test'; django.setup(); import layers.patrols.heatmap, sys; "
    code += "import rasterio.warp; print('mapnik' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "DJANGO_SETTINGS_MODULE": "gis_core.settings", "GRIDCITY_ENV": "test"},
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-500:]
    assert out.stdout.strip() == "False"


def test_a_heat_map_over_the_statement_timeout_is_503_with_advice(patrols, dispatcher, monkeypatch):
    from django.db import OperationalError

    def too_slow(*args, **kwargs):
        raise OperationalError("canceling statement due to statement timeout")

    monkeypatch.setattr(heatmap, "cell_sums", too_slow)
    answer = _client(dispatcher).get(f"/api/patrols/heatmap.tif?from={DAY}&cell=30")
    assert answer.status_code == 503 and "fewer days" in answer.json()["message"]
    assert answer["Retry-After"]


def test_the_disk_cache_is_pruned_by_age_then_least_recently_used_beyond_the_cap(settings, tmp_path):
    import os
    import time

    from layers.patrols.tasks import prune_heatmaps

    settings.STATE_DIR = tmp_path
    folder = tmp_path / "heatmaps"
    folder.mkdir()
    now = time.time()
    day = 86400

    def put(name, age_days, size=1000):
        path = folder / name
        path.write_bytes(b"x" * size)
        os.utime(path, (now - age_days * day, now - age_days * day))
        return path

    stale = put("a" * 32 + ".tif", 8)  # unused for 8 days: gone
    old, mid, new = put("b" * 32 + ".tif", 3), put("c" * 32 + ".tif", 2), put("d" * 32 + ".tif", 1)
    dead_write = put("tmpq1w2e3.tif", 0.1)  # a write that died 2.4 hours ago
    live_write = put("tmpr4t5y6.tif", 0.001)  # being written now: kept
    other = put("notes.txt", 30)  # not ours: kept
    result = heatmap.prune_cache(max_age_days=7, max_bytes=2000, now=now)
    assert not stale.exists() and not dead_write.exists()
    assert not old.exists() and mid.exists() and new.exists()  # 3 x 1000 bytes over the 2000 cap: the oldest goes
    assert live_write.exists() and other.exists()
    assert result == {"deleted": 3, "freed_bytes": 3000, "kept": 2, "kept_bytes": 2000}
    settings.GRIDCITY_PATROL_HEATMAP_CACHE_DAYS = 1.5  # the beat task reads the settings
    assert prune_heatmaps()["deleted"] == 1
    assert not mid.exists() and new.exists()
    assert "patrols.prune_heatmaps" in {e["task"] for e in settings.CELERY_BEAT_SCHEDULE.values()}


def test_a_cache_hit_counts_as_a_use(patrols, dispatcher, settings, tmp_path):
    import os

    settings.STATE_DIR = tmp_path
    _cog(dispatcher)
    (path,) = (settings.STATE_DIR / "heatmaps").glob("*.tif")
    os.utime(path, (1, 1))
    _cog(dispatcher)
    assert path.stat().st_mtime > 1e9
    heatmap.prune_cache(max_age_days=7, max_bytes=10**9)
    assert path.exists()
