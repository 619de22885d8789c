"""GetCapabilities (WMS 1.3.0, capabilities_1_3_0.xsd): one queryable layer per catalogue layer with
tiles that the user may see, inside one untitled-group root layer that carries the CRSs."""

import threading
import time
from xml.sax.saxutils import escape, quoteattr

from django.db import connection
from django.http import HttpResponse

from gis_core.mercator import WORLD_BOUNDS
from tiles.where import index_column

from .featureinfo import FORMATS as INFO_FORMATS
from .params import CRS, LAYER_LIMIT, MAX_SIZE, geographic, visible_layers

WMS_NS = "http://www.opengis.net/wms"
EXTENT_SECONDS = 300
_extents: dict[str, tuple[float, tuple | None]] = {}
_lock = threading.Lock()


def _extent(layer) -> tuple | None:
    """The layer's data extent in EPSG:3857, recomputed at most every few minutes (unscoped: it
    only frames the map)."""
    now = time.monotonic()
    with _lock:
        hit = _extents.get(layer.id)
    if hit and hit[0] > now:
        return hit[1]
    t = layer.tiles
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM "
            f"(SELECT ST_Extent({index_column(layer)})::geometry AS e FROM {t.table} WHERE {t.where}) s"
        )
        row = cur.fetchone()
    box = tuple(row) if row and row[0] is not None else None
    with _lock:
        _extents[layer.id] = (now + EXTENT_SECONDS, box)
    return box


def _bboxes(box) -> str:
    if box is None:
        box = WORLD_BOUNDS
    lon0, lat0 = geographic(box[0], box[1])
    lon1, lat1 = geographic(box[2], box[3])
    f = "{:.6f}".format
    out = [
        f"<EX_GeographicBoundingBox><westBoundLongitude>{f(lon0)}</westBoundLongitude>"
        f"<eastBoundLongitude>{f(lon1)}</eastBoundLongitude><southBoundLatitude>{f(lat0)}</southBoundLatitude>"
        f"<northBoundLatitude>{f(lat1)}</northBoundLatitude></EX_GeographicBoundingBox>"
    ]
    for name, (_, is_geographic, latlon) in CRS.items():
        if not is_geographic:
            b = tuple("{:.2f}".format(v) for v in box)
        elif latlon:  # 1.3.0: BoundingBox attributes follow the CRS axis order
            b = (f(lat0), f(lon0), f(lat1), f(lon1))
        else:
            b = (f(lon0), f(lat0), f(lon1), f(lat1))
        out.append(f'<BoundingBox CRS="{name}" minx="{b[0]}" miny="{b[1]}" maxx="{b[2]}" maxy="{b[3]}"/>')
    return "".join(out)


def _union(boxes):
    boxes = [b for b in boxes if b]
    if not boxes:
        return None
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _operation(name: str, formats, url: str) -> str:
    fmts = "".join(f"<Format>{escape(f)}</Format>" for f in formats)
    href = quoteattr(url + "?")
    return (
        f'<{name}>{fmts}<DCPType><HTTP><Get><OnlineResource xlink:type="simple" xlink:href={href}/></Get>'
        f"</HTTP></DCPType></{name}>"
    )


def _layer(layer, box) -> str:
    keywords = "".join(f"<Keyword>{escape(k)}</Keyword>" for k in layer.keywords)
    abstract = f"<Abstract>{escape(layer.abstract)}</Abstract>" if layer.abstract else ""
    title = f"{layer.title_zh} ({layer.title_en})" if layer.title_en else layer.title_zh
    return (
        f'<Layer queryable="1" opaque="0"><Name>{escape(layer.id)}</Name><Title>{escape(title)}</Title>'
        f"{abstract}{f'<KeywordList>{keywords}</KeywordList>' if keywords else ''}{_bboxes(box)}"
        "<Style><Name>default</Name><Title>default</Title></Style></Layer>"
    )


def get_capabilities(request, params, user) -> HttpResponse:
    url = request.build_absolute_uri(request.path)
    layers = [layer for layer, _ in visible_layers(user)]
    boxes = {layer.id: _extent(layer) for layer in layers}
    crs = "".join(f"<CRS>{c}</CRS>" for c in CRS)
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<WMS_Capabilities version="1.3.0" xmlns="{WMS_NS}" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:schemaLocation="{WMS_NS} http://schemas.opengis.net/wms/1.3.0/capabilities_1_3_0.xsd">'
        "<Service><Name>WMS</Name><Title>GridCity WMS</Title>"
        "<Abstract>城市网格化管理: the GridCity layer catalogue, rendered by mapnik.</Abstract>"
        f'<OnlineResource xlink:type="simple" xlink:href={quoteattr(url)}/>'
        "<Fees>none</Fees><AccessConstraints>login required</AccessConstraints>"
        f"<LayerLimit>{LAYER_LIMIT}</LayerLimit><MaxWidth>{MAX_SIZE}</MaxWidth><MaxHeight>{MAX_SIZE}</MaxHeight>"
        "</Service><Capability><Request>"
        f"{_operation('GetCapabilities', ['text/xml'], url)}"
        f"{_operation('GetMap', ['image/png'], url)}"
        f"{_operation('GetFeatureInfo', INFO_FORMATS, url)}"
        "</Request><Exception><Format>XML</Format></Exception>"
        f"<Layer><Title>GridCity</Title>{crs}{_bboxes(_union(boxes.values()))}"
        f"{''.join(_layer(layer, boxes[layer.id]) for layer in layers)}</Layer>"
        "</Capability></WMS_Capabilities>"
    )
    return HttpResponse(body, content_type="text/xml; charset=utf-8")
