"""GetFeature: GML 3.2 (2.0), GML 3.1.1 (1.1), GML 2 (1.0) or GeoJSON, generated in PostGIS and
streamed. Rows come out as tuples (values_list), never as model instances; always ordered by the
primary key so pages are stable."""

import json
import math
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from django.db.models import F, Q
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone

from . import crs as crslib
from . import geometry, limits
from .common import NS, PREFIX, format_value, gml_ns, layer_for, layers_for
from .deadline import DbBudget
from .exceptions import OWSException
from .filters import GEOMETRY_NAME, FilterBuilder, parse_feature_id, resolve_name
from .xmlsafe import children, local, parse, text

MAX_FEATURES = 100_000
CHUNK = 1000
JSON_FORMATS = ("application/json", "json", "geojson", "application/geo+json", "application/vnd.geo+json")


@dataclass
class Query:
    layer: object
    q: Q = field(default_factory=Q)
    names: list | None = None  # selected public property names; None = all


@dataclass
class GetFeatureRequest:
    version: str
    queries: list
    crs: crslib.Crs | None = None
    count: int | None = None
    start: int = 0
    hits: bool = False
    json: bool = False


def _int(value, locator):
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise OWSException(f"{locator} must be a whole number", locator=locator) from None
    if n < 0:
        raise OWSException(f"{locator} must not be negative", locator=locator)
    return n


def _output_format(value: str | None, version: str) -> bool:
    """True for GeoJSON; GML otherwise (its version follows the request version)."""
    if not value:
        return False
    v = value.strip().lower()
    if v in JSON_FORMATS or v.startswith("application/json"):
        return True
    if "gml" in v or v.startswith("text/xml") or v.startswith("application/xml"):
        return False
    raise OWSException(f"unsupported outputFormat {value!r}", locator="outputFormat")


def _select(layer, value: str | None):
    if not value or value.strip().strip("()") in ("*", ""):
        return None
    names = []
    raw_names = value.strip("()").split(",")
    limits.check_count(len(raw_names), "MAX_PROPERTY_NAMES", "property names", "propertyName")
    for raw in raw_names:
        if raw.strip():
            prop = resolve_name(layer, raw, locator="propertyName")
            names.append(GEOMETRY_NAME if prop == GEOMETRY_NAME else prop.name)
    return names


def from_kvp(params: dict, version: str) -> GetFeatureRequest:
    srs = params.get("SRSNAME")
    out_crs = crslib.parse(srs) if srs else None
    ids = params.get("RESOURCEID") or params.get("FEATUREID")
    typenames = params.get("TYPENAMES") or params.get("TYPENAME")
    type_locator = "typeNames" if version == "2.0.0" else "typeName"
    if ids:
        limits.check_count(
            ids.count(",") + 1,
            "MAX_FEATURE_IDS",
            "feature ids",
            "resourceId" if params.get("RESOURCEID") else "featureId",
        )
    if typenames:
        limits.check_count(typenames.count(",") + typenames.count(")(") + 1, "MAX_QUERIES", "type names", type_locator)
        layers = layers_for(typenames, "typeNames" if version == "2.0.0" else "typeName")
    elif ids:
        layers = []
        for fid in ids.split(","):
            layer = layer_for(fid.strip().rpartition(".")[0] or fid, locator="resourceId")
            if layer not in layers:
                layers.append(layer)
    else:
        raise OWSException(
            "TYPENAMES (or TYPENAME) is required",
            code="MissingParameterValue",
            locator="typeNames" if version == "2.0.0" else "typeName",
        )
    queries = []
    filters = params.get("FILTER")
    filter_list = _split_filters(filters) if filters else []
    if filter_list and len(filter_list) not in (1, len(layers)):
        raise OWSException("give one FILTER per type name", locator="filter")
    bbox = params.get("BBOX")
    for i, layer in enumerate(layers):
        default_crs = out_crs or crslib.default(layer)
        query = Query(layer, names=_select(layer, params.get("PROPERTYNAME")))
        if ids:
            pks = [pk for pk in (parse_feature_id(layer, f) for f in ids.split(",")) if pk is not None]
            query.q &= Q(**{f"{layer.pk}__in": pks})
        if bbox:
            query.q &= _bbox(layer, bbox, default_crs)
        if filter_list:
            root = parse(filter_list[i if len(filter_list) > 1 else 0].encode("utf-8"), locator="filter")
            if local(root.tag) != "Filter":
                raise OWSException("FILTER must be a Filter element", locator="filter")
            query.q &= FilterBuilder(layer, default_crs).build(root)
        queries.append(query)
    count = params.get("COUNT") or params.get("MAXFEATURES")
    start = params.get("STARTINDEX")
    return GetFeatureRequest(
        version=version,
        queries=queries,
        crs=out_crs,
        count=_int(count, "count" if version == "2.0.0" else "maxFeatures") if count else None,
        start=_int(start, "startIndex") if start else 0,
        hits=(params.get("RESULTTYPE") or "results").lower() == "hits",
        json=_output_format(params.get("OUTPUTFORMAT"), version),
    )


def _split_filters(value: str) -> list[str]:
    value = value.strip()
    if value.startswith("("):
        parts = [p for p in value[1:-1].split(")(")]
        return [p for p in parts if p.strip()]
    return [value]


def _bbox(layer, value: str, default_crs):
    parts = [p.strip() for p in value.split(",")]
    if len(parts) not in (4, 5):
        raise OWSException("BBOX is minx,miny,maxx,maxy[,crs]", locator="bbox")
    try:
        nums = [float(p) for p in parts[:4]]
    except ValueError:
        raise OWSException("BBOX coordinates must be numbers", locator="bbox") from None
    if not all(math.isfinite(n) for n in nums):
        raise OWSException("BBOX coordinates must be finite numbers", locator="bbox")
    crs = crslib.parse(parts[4], locator="bbox") if len(parts) == 5 else default_crs
    poly = geometry.bbox_polygon(nums, crs, layer.srid)
    return Q(**{f"{layer.geometry_field}__intersects": poly})


def from_xml(root, version: str) -> GetFeatureRequest:
    out_crs = None
    queries = []
    query_elems = children(root, "Query")
    limits.check_count(len(query_elems), "MAX_QUERIES", "wfs:Query elements", "Query")
    for qe in query_elems:
        srs = qe.get("srsName")
        if srs:
            out_crs = crslib.parse(srs)
        layers = layers_for(qe.get("typeNames") or qe.get("typeName") or "", "typeName")
        for layer in layers:
            default_crs = out_crs or crslib.default(layer)
            names = [text(c) for c in children(qe) if local(c.tag) in ("PropertyName", "ValueReference")]
            query = Query(layer, names=_select(layer, ",".join(names)) if names else None)
            f = next(iter(children(qe, "Filter")), None)
            if f is not None:
                query.q &= FilterBuilder(layer, default_crs).build(f)
            queries.append(query)
            limits.check_count(len(queries), "MAX_QUERIES", "queries (type names of all wfs:Query elements)", "Query")
    if not queries:
        raise OWSException("GetFeature needs a Query", code="MissingParameterValue", locator="Query")
    count = root.get("count") or root.get("maxFeatures")
    return GetFeatureRequest(
        version=version,
        queries=queries,
        crs=out_crs,
        count=_int(count, "count") if count else None,
        start=_int(root.get("startIndex"), "startIndex") if root.get("startIndex") else 0,
        hits=(root.get("resultType") or "results").lower() == "hits",
        json=_output_format(root.get("outputFormat"), version),
    )


def _plan(req: GetFeatureRequest, user, deadline: DbBudget):
    """(layer, queryset, names, offset, limit) per query, and the totals; each count within the
    request's database time, so a request of many queries is refused before anything is sent."""
    limit = min(req.count if req.count is not None else MAX_FEATURES, MAX_FEATURES)
    start = req.start
    plans, matched = [], 0
    for query in req.queries:
        qs = query.layer.queryset(user).filter(query.q).order_by(query.layer.pk)
        n = deadline.count(qs)
        matched += n
        if limit > 0 and start < n:
            take = min(limit, n - start)
            plans.append((query, qs, start, take))
            limit -= take
            start = 0
        else:
            start = max(0, start - n)
    returned = sum(p[3] for p in plans)
    return plans, matched, returned


def _rows(query, qs, offset, take, kind, out_crs, deadline):
    layer = query.layer
    props = [p for p in layer.properties if query.names is None or p.name in query.names]
    with_geom = query.names is None or GEOMETRY_NAME in query.names
    fields = [layer.pk] + [p.source for p in props]
    if with_geom:
        qs = qs.annotate(
            _ogc_geom=geometry.GeomOut(
                F(layer.geometry_field), F(layer.pk), geometry.output_expression(layer, out_crs, kind, layer.id)
            )
        )
        fields.append("_ogc_geom")
    rows = qs.values_list(*fields)[offset : offset + take].iterator(chunk_size=CHUNK)
    return props, with_geom, deadline.rows(rows)


def _srs_fix(gml: str, out_crs):
    if out_crs.form == "short":
        return gml
    return gml.replace(f'srsName="EPSG:{out_crs.srid}"', f'srsName="{out_crs.name}"', 1)


def _unique_ids(gml: str, gid: str) -> str:
    """ST_AsGML repeats the geometry's gml:id on every member; GML 3.2 wants them unique."""
    token = f'gml:id="{gid}"'
    parts = gml.split(token)
    if len(parts) <= 2:
        return gml
    out = [parts[0], token, parts[1]]
    for i, part in enumerate(parts[2:], 1):
        out += [f'gml:id="{gid}.{i}"', part]
    return "".join(out)


def _gml_stream(req, plans, matched, returned, out_crs_for, deadline):
    version = req.version
    kind = {"2.0.0": "gml32", "1.1.0": "gml311", "1.0.0": "gml2"}[version]
    stamp = timezone.now().replace(microsecond=0).isoformat()
    gns = gml_ns(version)
    decl = f'xmlns:gml="{gns}" xmlns:{PREFIX}="{NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    if version == "2.0.0":
        head = (
            f'<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0" {decl} timeStamp="{stamp}" '
            f'numberMatched="{matched}" numberReturned="{0 if req.hits else returned}">'
        )
        member_open, member_close, tail = "<wfs:member>", "</wfs:member>", "</wfs:FeatureCollection>"
        id_attr = "gml:id"
    elif version == "1.1.0":
        head = (
            f'<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs" {decl} timeStamp="{stamp}" '
            f'numberOfFeatures="{matched if req.hits else returned}">'
        )
        member_open, member_close, tail = "<gml:featureMember>", "</gml:featureMember>", "</wfs:FeatureCollection>"
        id_attr = "gml:id"
    else:
        head = (
            f'<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs" {decl}>'
            "<gml:boundedBy><gml:null>unknown</gml:null></gml:boundedBy>"
        )
        member_open, member_close, tail = "<gml:featureMember>", "</gml:featureMember>", "</wfs:FeatureCollection>"
        id_attr = "fid"
    yield ('<?xml version="1.0" encoding="UTF-8"?>\n' + head).encode()
    if not req.hits:
        for query, qs, offset, take in plans:
            layer = query.layer
            out_crs = out_crs_for(layer)
            props, with_geom, rows = _rows(query, qs, offset, take, kind, out_crs, deadline)
            tag = f"{PREFIX}:{layer.id}"
            buf = []
            for row in rows:
                parts = [member_open, f'<{tag} {id_attr}="{layer.id}.{row[0]}">']
                for prop, value in zip(props, row[1:]):
                    if value is not None:
                        parts.append(f"<{PREFIX}:{prop.name}>{escape(format_value(value))}</{PREFIX}:{prop.name}>")
                if with_geom and row[-1] is not None:
                    gml = _srs_fix(row[-1], out_crs)
                    if kind == "gml32":
                        gml = _unique_ids(gml, f"{layer.id}.{row[0]}.geom")
                    parts.append(f"<{PREFIX}:geometry>{gml}</{PREFIX}:geometry>")
                parts.append(f"</{tag}>{member_close}")
                buf.append("".join(parts))
                if len(buf) >= 200:
                    yield "".join(buf).encode()
                    buf = []
            if buf:
                yield "".join(buf).encode()
    yield tail.encode()


def _json_stream(req, plans, matched, returned, out_crs_for, deadline):
    yield (
        f'{{"type":"FeatureCollection","numberMatched":{matched},'
        f'"numberReturned":{0 if req.hits else returned},"features":['
    ).encode()
    first = True
    if not req.hits:
        for query, qs, offset, take in plans:
            layer = query.layer
            props, with_geom, rows = _rows(query, qs, offset, take, "geojson", out_crs_for(layer), deadline)
            buf = []
            for row in rows:
                properties = {
                    p.name: (v if isinstance(v, (int, float, str, bool)) or v is None else format_value(v))
                    for p, v in zip(props, row[1:])
                }
                geom = row[-1] if with_geom and row[-1] is not None else "null"
                buf.append(
                    ("" if first else ",") + f'{{"type":"Feature","id":"{layer.id}.{row[0]}","geometry":{geom},'
                    f'"properties":{json.dumps(properties, ensure_ascii=False)}}}'
                )
                first = False
                if len(buf) >= 200:
                    yield "".join(buf).encode()
                    buf = []
            if buf:
                yield "".join(buf).encode()
    yield b"]}"


def get_feature(request, ows_request, user):
    version = ows_request.version
    if ows_request.xml is not None:
        req = from_xml(ows_request.xml, version)
    else:
        req = from_kvp(ows_request.params, version)
    deadline = DbBudget()
    plans, matched, returned = _plan(req, user, deadline)

    def out_crs_for(layer):
        return req.crs or crslib.default(layer)

    if req.json:
        stream = _json_stream(req, plans, matched, returned, out_crs_for, deadline)
        content_type = "application/json; charset=utf-8"
    else:
        stream = _gml_stream(req, plans, matched, returned, out_crs_for, deadline)
        content_type = {
            "2.0.0": "application/gml+xml; version=3.2",
            "1.1.0": "text/xml; subtype=gml/3.1.1",
            "1.0.0": "text/xml; subtype=gml/2.1.2",
        }[version]
    if req.hits:
        return HttpResponse(b"".join(stream), content_type=content_type)
    return StreamingHttpResponse(stream, content_type=content_type)
