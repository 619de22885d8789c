"""The mapnik side. Runs only inside the render processes (started with 'spawn'): importing mapnik
points PROJ at mapnik's own data, which breaks GDAL/pyproj, so the Django process never imports
this module's mapnik. Each process keeps one mapnik.Map and reuses it; a process renders one job
at a time, so the Map is never shared between threads.

A job is a plain dict (picklable, built by tiles.raster.render):
  width, height, srs ("epsg:3857" | "epsg:4326" | "epsg:4490"), bbox (minx, miny, maxx, maxy in srs),
  buffer (px rendered around the image so labels and markers at the edge are whole),
  background ("#rrggbb" or None = transparent), format (mapnik format string, e.g. "png8:m=h"),
  layers: [(style name, style XML, source)], source being {"postgis": subquery, "db": connection
    settings} (this process queries PostGIS itself, see tiles.raster.render) or {"geojson": text in EPSG:3857},
  scale_factor: symbols, lines and labels drawn that many times larger (a print at 2x the screen's pixels),
  cut: None, or the tile size to cut the image into (a metatile) -> {(col, row): png bytes}."""

import atexit
import hashlib
import os
import re
import shutil
import tempfile
from collections import OrderedDict
from xml.sax.saxutils import quoteattr

import mapnik

from gis_core.mercator import WORLD_BOUNDS

from .pool import RenderDatabaseError

# Preferred faces first: CJK labels need Noto Sans CJK (Debian fonts-noto-cjk); DejaVu is the fallback.
FACES = ("Noto Sans CJK SC Regular", "DejaVu Sans Book")
DEFAULT_FONT_DIRS = (
    "/usr/share/fonts/opentype/noto",
    "/usr/share/fonts/truetype/noto",
    "/usr/share/fonts/truetype/dejavu",
)

_map = None
_fontset_xml = ""
_styles: set[str] = set()
# PostGIS datasources by (database, subquery): mapnik reads the table's columns when one is made (a
# query), so each layer's text is made into a datasource once per process and reused.
_sources: OrderedDict = OrderedDict()
MAX_SOURCES = 64
WORLD = ",".join(f"{v:.2f}" for v in WORLD_BOUNDS)
# Markers drawn from an image of the marker rendered once (see tiles.raster.styles: "gridcity-marker:").
MARKER = re.compile(r'file="gridcity-marker:([^"]*)"')
_marker_dir = ""


def init(font_dirs=None):
    global _map, _fontset_xml
    for d in font_dirs or DEFAULT_FONT_DIRS:
        if os.path.isdir(d):
            mapnik.register_fonts(d)
    known = set(mapnik.FontEngine.face_names())
    faces = [f for f in FACES if f in known] or sorted(known)[:1]
    _fontset_xml = '<FontSet name="gridcity">' + "".join(f'<Font face-name="{f}"/>' for f in faces) + "</FontSet>"
    _map = mapnik.Map(256, 256)
    _map.aspect_fix_mode = mapnik.aspect_fix_mode.RESPECT  # WMS may ask for non-square pixels
    _load_styles(_map, "")


def _load_styles(m, style_xml: str):
    mapnik.load_map_from_string(m, f'<Map srs="epsg:3857">{_fontset_xml}{style_xml}</Map>')


def marker_file(spec: str) -> str:
    """A PNG of the marker `spec` ("fill=#rrggbb;size=6;stroke=#ffffff;stroke_width=1"), drawn once by
    mapnik's own MarkersSymbolizer. Blitting it is ~3x faster than drawing the ellipse per point
    (1024 px, 130k components: ~1.1 s -> ~0.4 s), for the same pixels up to anti-aliasing."""
    global _marker_dir
    if not _marker_dir:
        _marker_dir = tempfile.mkdtemp(prefix="gridcity-markers-")
        atexit.register(shutil.rmtree, _marker_dir, True)
    path = os.path.join(_marker_dir, hashlib.sha1(spec.encode()).hexdigest()[:16] + ".png")
    if os.path.exists(path):
        return path
    s = dict(part.split("=", 1) for part in spec.split(";") if "=" in part)
    size, stroke_width = float(s.get("size", 6)), float(s.get("stroke_width", 1))
    n = 2 * int((size + 2 * stroke_width + 3) // 2)  # even, so the point falls on a pixel corner as for markers
    symbolizer = (
        f"<MarkersSymbolizer fill={quoteattr(s.get('fill', '#000000'))} width={quoteattr(str(size))} "
        f"height={quoteattr(str(size))} stroke={quoteattr(s.get('stroke', '#ffffff'))} "
        f'stroke-width={quoteattr(str(stroke_width))} allow-overlap="true"/>'
    )
    m = mapnik.Map(n, n)
    mapnik.load_map_from_string(m, f'<Map srs="epsg:3857"><Style name="m"><Rule>{symbolizer}</Rule></Style></Map>')
    ds = mapnik.MemoryDatasource()
    feature = mapnik.Feature(mapnik.Context(), 1)
    feature.geometry = mapnik.Geometry.from_wkt("POINT(0 0)")
    ds.add_feature(feature)
    layer = mapnik.Layer("m", "epsg:3857")
    layer.datasource = ds
    layer.styles.append("m")
    m.layers.append(layer)
    m.zoom_to_box(mapnik.Box2d(-n / 2, -n / 2, n / 2, n / 2))
    image = mapnik.Image(n, n)
    mapnik.render(m, image)
    image.save(path + ".tmp", "png32")
    os.replace(path + ".tmp", path)
    return path


def _ensure_style(name: str, xml: str):
    if name in _styles:
        return
    xml = MARKER.sub(lambda found: f"file={quoteattr(marker_file(found.group(1)))}", xml)
    scratch = mapnik.Map(1, 1)
    _load_styles(scratch, xml)
    _map.append_style(name, scratch.find_style(name))
    _styles.add(name)


def _datasource(source: dict):
    if "geojson" in source:
        return mapnik.Datasource(type="geojson", inline=source["geojson"])
    db = source["db"]
    key = (tuple(sorted(db.items())), source["postgis"])
    ds = _sources.get(key)
    if ds is not None:
        _sources.move_to_end(key)
        return ds
    if db.get("options"):
        os.environ["PGOPTIONS"] = db["options"]  # libpq: statement_timeout for this process's connections
    params = {k: db[k] for k in ("host", "port", "dbname", "user", "password") if db.get(k)}
    ds = mapnik.Datasource(
        type="postgis",
        table=source["postgis"],
        geometry_field="geom",
        srid=3857,
        extent=WORLD,
        persist_connection=True,
        max_size=4,
        **params,
    )
    _sources[key] = ds
    if len(_sources) > MAX_SOURCES:
        _sources.popitem(last=False)
    return ds


def render(job: dict):
    try:
        return _render(job)
    except RuntimeError as exc:
        # mapnik's PostGIS plugin reports a failed query or connection as a RuntimeError
        if "postgis" in str(exc).lower() or "statement timeout" in str(exc):
            raise RenderDatabaseError(str(exc)[:500]) from None
        raise


def _render(job: dict):
    if _map is None:
        init()
    m = _map
    m.resize(job["width"], job["height"])
    m.srs = job["srs"]
    m.buffer_size = job.get("buffer", 0)
    m.background = mapnik.Color(job["background"]) if job.get("background") else mapnik.Color(0, 0, 0, 0)
    m.layers.clear()
    for name, xml, source in job["layers"]:
        if not source.get("postgis") and not source.get("geojson"):
            continue
        _ensure_style(name, xml)
        layer = mapnik.Layer(name, "epsg:3857")
        layer.datasource = _datasource(source)
        layer.styles.append(name)
        m.layers.append(layer)
    m.zoom_to_box(mapnik.Box2d(*job["bbox"]))
    image = mapnik.Image(job["width"], job["height"])
    if len(m.layers):
        mapnik.render(m, image, float(job.get("scale_factor", 1.0)))
    m.layers.clear()  # drop the datasources now, not at the next job
    fmt = job.get("format", "png8:m=h")
    size = job.get("cut")
    if not size:
        return image.to_string(fmt)
    return {
        (col, row): image.view(col * size, row * size, size, size).to_string(fmt)
        for col in range(job["width"] // size)
        for row in range(job["height"] // size)
    }
