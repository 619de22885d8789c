"""GetFeatureInfo: what is under pixel I,J of a GetMap, per queried layer, nearest first.

One indexed SQL per layer finds the ids within a few pixels (same table, scope and index as the
render); the attributes come through the layer's own queryset (the WFS properties, with the same
permissions). Formats: application/json (GeoJSON, EPSG:4490 lon/lat), text/html, text/xml, text/plain."""

import json
from xml.sax.saxutils import escape, quoteattr

from django.contrib.gis.db.models.functions import AsGeoJSON
from django.db import connection
from django.http import HttpResponse

from tiles.where import index_column, layer_conditions

from ..common import NS, format_value
from .errors import WMSError, missing
from .params import FEATURE_COUNT_MAX, int_param, mercator, parse_layers, parse_map

FORMATS = ("application/json", "text/html", "text/xml", "text/plain")
TOLERANCE_PX = 4


def _pick(layer, scope, point, tolerance, count) -> list:
    t = layer.tiles
    conditions, params = layer_conditions(layer, *scope)
    sql = (
        f"SELECT {t.id_column} FROM {t.table} "
        f"WHERE {index_column(layer)} && ST_Expand(ST_SetSRID(ST_MakePoint(%s, %s), 3857), %s) AND {conditions} "
        f"AND ST_DWithin({t.geometry}, ST_SetSRID(ST_MakePoint(%s, %s), 3857), %s) "
        f"ORDER BY ST_Distance({t.geometry}, ST_SetSRID(ST_MakePoint(%s, %s), 3857)), {t.id_column} LIMIT %s"
    )
    x, y = point
    with connection.cursor() as cur:
        cur.execute(sql, [x, y, tolerance, *params, x, y, tolerance, x, y, count])
        return [row[0] for row in cur.fetchall()]


def _features(layer, user, ids) -> list[dict]:
    if not ids:
        return []
    sources = {p.name: p.source for p in layer.properties}
    rows = (
        layer.queryset(user)
        .filter(**{f"{layer.pk}__in": ids})
        .annotate(_geojson=AsGeoJSON(layer.geometry_field, precision=7))
        .values(layer.pk, "_geojson", *sources.values())
    )
    by_id = {row[layer.pk]: row for row in rows}
    out = []
    for pk in ids:
        row = by_id.get(pk)
        if row is not None:  # the scope and the queryset agree; a row may vanish in between
            props = {name: row[src] for name, src in sources.items()}
            out.append(
                {"id": pk, "geometry": json.loads(row["_geojson"]) if row["_geojson"] else None, "properties": props}
            )
    return out


def _point(req, i: int, j: int) -> tuple[tuple[float, float], float]:
    """The pixel centre in EPSG:3857 and metres per pixel there."""
    x0, y0, x1, y1 = req.bbox
    fx = x0 + (i + 0.5) * (x1 - x0) / req.width
    fy = y1 - (j + 0.5) * (y1 - y0) / req.height
    if req.srs == "epsg:3857":
        return (fx, fy), max((x1 - x0) / req.width, (y1 - y0) / req.height)
    px, py = mercator(fx, fy)
    ex, ey = mercator(fx + (x1 - x0) / req.width, fy + (y1 - y0) / req.height)
    return (px, py), max(abs(ex - px), abs(ey - py))


def get_feature_info(request, params, user) -> HttpResponse:
    req = parse_map(params, user)
    queried, _ = parse_layers(params, user, "QUERY_LAYERS")
    drawn = {layer.id for layer in req.layers}
    for layer in queried:
        if layer.id not in drawn:
            raise WMSError(f"QUERY_LAYERS names {layer.id}, which LAYERS does not", "LayerNotDefined", "QUERY_LAYERS")
    fmt = (params.get("INFO_FORMAT") or "").strip().lower()
    if not fmt:
        raise missing("INFO_FORMAT")
    if fmt not in FORMATS:
        raise WMSError(f"INFO_FORMAT {fmt[:40]!r} is not offered: {', '.join(FORMATS)}", "InvalidFormat", "INFO_FORMAT")
    i_name, j_name = ("I", "J") if req.version == "1.3.0" else ("X", "Y")
    pixel = [
        int_param(params, i_name, 0, req.width - 1, "InvalidPoint"),
        int_param(params, j_name, 0, req.height - 1, "InvalidPoint"),
    ]
    count = int_param({"FEATURE_COUNT": "1", **params}, "FEATURE_COUNT", 1, FEATURE_COUNT_MAX)
    point, res = _point(req, *pixel)
    results = [
        (layer, _features(layer, user, _pick(layer, req.scopes[layer.id], point, res * TOLERANCE_PX, count)))
        for layer in queried
    ]
    body, content_type = RENDERERS[fmt](results)
    return HttpResponse(body, content_type=content_type)


def _json(results):
    features = []
    for layer, rows in results:
        for row in rows:
            features.append(
                {
                    "type": "Feature",
                    "id": f"{layer.id}.{row['id']}",
                    "geometry": row["geometry"],
                    "properties": {"layer": layer.id, **row["properties"]},
                }
            )
    body = {"type": "FeatureCollection", "features": features}
    return json.dumps(body, ensure_ascii=False, default=format_value), "application/json; charset=utf-8"


def _html(results):
    parts = ['<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>GetFeatureInfo</title></head><body>']
    for layer, rows in results:
        parts.append(f"<h2>{escape(layer.title_zh)} ({escape(layer.id)})</h2>")
        if not rows:
            parts.append("<p>无要素 (no features)</p>")
            continue
        names = [p.name for p in layer.properties]
        titles = {p.name: p.title or p.name for p in layer.properties}
        parts.append("<table><tr>" + "".join(f"<th>{escape(titles[n])}</th>" for n in names) + "</tr>")
        for row in rows:
            parts.append(
                "<tr>" + "".join(f"<td>{escape(format_value(row['properties'][n]))}</td>" for n in names) + "</tr>"
            )
        parts.append("</table>")
    parts.append("</body></html>")
    return "".join(parts), "text/html; charset=utf-8"


def _xml(results):
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<FeatureInfoResponse xmlns="{NS}">']
    for layer, rows in results:
        parts.append(f"<Layer name={quoteattr(layer.id)}>")
        for row in rows:
            fid = f"{layer.id}.{row['id']}"
            parts.append(f"<Feature id={quoteattr(fid)}>")
            parts.extend(
                f"<Attribute name={quoteattr(k)}>{escape(format_value(v))}</Attribute>"
                for k, v in row["properties"].items()
            )
            parts.append("</Feature>")
        parts.append("</Layer>")
    parts.append("</FeatureInfoResponse>")
    return "".join(parts), "text/xml; charset=utf-8"


def _text(results):
    lines = []
    for layer, rows in results:
        lines.append(f"Layer '{layer.id}': {len(rows)} feature(s)")
        for row in rows:
            lines.append(f"  Feature {row['id']}:")
            lines.extend(f"    {k} = {format_value(v)}" for k, v in row["properties"].items())
    return "\n".join(lines) + "\n", "text/plain; charset=utf-8"


RENDERERS = {"application/json": _json, "text/html": _html, "text/xml": _xml, "text/plain": _text}
