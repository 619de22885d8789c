"""The mapnik side. Runs only inside the render processes (started with 'spawn'): importing mapnik
points PROJ at mapnik's own data, which breaks GDAL/pyproj, so the Django process never imports
this module's mapnik. Each process keeps one mapnik.Map and reuses it; a process renders one job
at a time, so the Map is never shared between threads.

A job is a plain dict (picklable, built by tiles.raster.render):
  width, height, srs ("epsg:3857" | "epsg:4326" | "epsg:4490"), bbox (minx, miny, maxx, maxy in srs),
  buffer (px rendered around the image so labels and markers at the edge are whole),
  background ("#rrggbb" or None = transparent), format (mapnik format string, e.g. "png8:m=h"),
  layers: [(style name, style XML, GeoJSON FeatureCollection text in EPSG:3857)],
  cut: None, or the tile size to cut the image into (a metatile) -> {(col, row): png bytes}."""
import os

import mapnik

# Preferred faces first: CJK labels need Noto Sans CJK (Debian fonts-noto-cjk); DejaVu is the fallback.
FACES = ("Noto Sans CJK SC Regular", "DejaVu Sans Book")
DEFAULT_FONT_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/truetype/noto",
                     "/usr/share/fonts/truetype/dejavu")

_map = None
_fontset_xml = ""
_styles: set[str] = set()


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


def _ensure_style(name: str, xml: str):
    if name in _styles:
        return
    scratch = mapnik.Map(1, 1)
    _load_styles(scratch, xml)
    _map.append_style(name, scratch.find_style(name))
    _styles.add(name)


def render(job: dict):
    if _map is None:
        init()
    m = _map
    m.resize(job["width"], job["height"])
    m.srs = job["srs"]
    m.buffer_size = job.get("buffer", 0)
    m.background = mapnik.Color(job["background"]) if job.get("background") else mapnik.Color(0, 0, 0, 0)
    m.layers.clear()
    for name, xml, geojson in job["layers"]:
        if not geojson:
            continue
        _ensure_style(name, xml)
        layer = mapnik.Layer(name, "epsg:3857")
        layer.datasource = mapnik.Datasource(type="geojson", inline=geojson)
        layer.styles.append(name)
        m.layers.append(layer)
    m.zoom_to_box(mapnik.Box2d(*job["bbox"]))
    image = mapnik.Image(job["width"], job["height"])
    if len(m.layers):
        mapnik.render(m, image)
    m.layers.clear()  # drop the datasources now, not at the next job
    fmt = job.get("format", "png8:m=h")
    size = job.get("cut")
    if not size:
        return image.to_string(fmt)
    return {(col, row): image.view(col * size, row * size, size, size).to_string(fmt)
            for col in range(job["width"] // size) for row in range(job["height"] // size)}
