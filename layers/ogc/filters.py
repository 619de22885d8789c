"""OGC Filter (FES 2.0, Filter 1.1, Filter 1.0) -> Django Q, over the catalogue only.

Every property name is checked against the layer's declared properties (+ `geometry`) and
replaced by its Property.source BEFORE a lookup is built; a client name never becomes an ORM path
(no owner__name, no ../x, no a/b). Values are typed from the catalogue; no SQL is string-built."""

import datetime
import re

from django.db.models import Q

from gis_core.text import is_ascii_digits

from . import crs as crslib
from . import geometry, limits
from .exceptions import OWSException
from .xmlsafe import children, local, text

GEOMETRY_NAME = "geometry"
_NAME = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_.\-]*:)?([A-Za-z_][A-Za-z0-9_]*)$")

COMPARISONS = {
    "PropertyIsEqualTo": "exact",
    "PropertyIsNotEqualTo": "exact",
    "PropertyIsLessThan": "lt",
    "PropertyIsGreaterThan": "gt",
    "PropertyIsLessThanOrEqualTo": "lte",
    "PropertyIsGreaterThanOrEqualTo": "gte",
}
SPATIAL = {
    "Intersects": "intersects",
    "Within": "within",
    "Contains": "contains",
    "Disjoint": "disjoint",
    "Equals": "equals",
    "Touches": "touches",
    "Crosses": "crosses",
    "Overlaps": "overlaps",
    "BBOX": "intersects",
}
ID_ELEMENTS = {"FeatureId": "fid", "GmlObjectId": None, "ResourceId": "rid"}
LOGICAL = ("And", "Or", "Not")
OPERATORS = frozenset(COMPARISONS) | frozenset(SPATIAL) | {"PropertyIsLike", "PropertyIsNull", "PropertyIsBetween"}


def resolve_name(layer, raw: str, locator: str = "PropertyName"):
    """Public name -> the Property (or GEOMETRY_NAME). Refuses anything not declared."""
    raw = (raw or "").strip()
    m = _NAME.match(raw)
    name = m.group(1) if m else None
    if name == GEOMETRY_NAME:
        return GEOMETRY_NAME
    prop = layer.property(name) if name and "__" not in name else None
    if prop is None:
        raise OWSException(f"feature type {layer.id} has no property {raw!r}", locator=locator)
    return prop


def convert(prop, value: str, locator: str = "Literal"):
    value = value.strip() if prop.type != "string" else value
    try:
        if prop.type in ("int", "long", "integer"):
            return int(value)
        if prop.type in ("double", "float", "decimal"):
            return float(value)
        if prop.type == "date":
            return datetime.date.fromisoformat(value[:10])
        if prop.type == "dateTime":
            return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if prop.type == "boolean":
            if value.lower() in ("true", "1"):
                return True
            if value.lower() in ("false", "0"):
                return False
            raise ValueError(value)
    except ValueError:
        raise OWSException(f"{value!r} is not a valid {prop.type} for {prop.name}", locator=locator) from None
    return value


def parse_feature_id(layer, fid: str):
    """'<type>.<pk>' -> pk for this layer, None when it names another type or is malformed."""
    typename, _, pk = (fid or "").strip().rpartition(".")
    typename = typename.rsplit(":", 1)[-1]
    if typename != layer.id or not is_ascii_digits(pk):
        return None
    return int(pk)


class FilterBuilder:
    def __init__(self, layer, default_crs: crslib.Crs):
        self.layer = layer
        self.default_crs = default_crs

    def build(self, filter_elem) -> Q:
        parts = children(filter_elem)
        if not parts:
            raise OWSException("empty Filter", locator="Filter")
        _check_size(filter_elem)
        ids = [p for p in parts if local(p.tag) in ID_ELEMENTS]
        if ids:
            if len(ids) != len(parts):
                raise OWSException("feature ids cannot be mixed with other filter operators", locator="Filter")
            return self.ids(ids)
        q = Q()
        for p in parts:
            q &= self.op(p)
        return q

    def ids(self, elems) -> Q:
        pks = []
        for e in elems:
            fid = (
                e.get("fid")
                or e.get("rid")
                or e.get("{http://www.opengis.net/gml}id")
                or e.get("{http://www.opengis.net/gml/3.2}id")
                or ""
            )
            pk = parse_feature_id(self.layer, fid)
            if pk is not None:
                pks.append(pk)
        return Q(**{f"{self.layer.pk}__in": pks})

    def _operands(self, elem):
        prop = literal = None
        for c in children(elem):
            name = local(c.tag)
            if name in ("PropertyName", "ValueReference"):
                prop = resolve_name(self.layer, text(c), locator=name)
            elif name == "Literal":
                literal = text(c)
            else:
                raise OWSException(f"unsupported operand {name} in {local(elem.tag)}", locator=local(elem.tag))
        if prop is None or literal is None:
            raise OWSException(f"{local(elem.tag)} needs a property name and a literal", locator=local(elem.tag))
        if prop == GEOMETRY_NAME:
            raise OWSException("compare geometries with spatial operators", locator=local(elem.tag))
        return prop, literal

    def op(self, elem) -> Q:
        name = local(elem.tag)
        if name == "And" or name == "Or":
            parts = [self.op(c) for c in children(elem)]
            if len(parts) < 2:
                raise OWSException(f"{name} needs two operands", locator=name)
            q = parts[0]
            for p in parts[1:]:
                q = (q & p) if name == "And" else (q | p)
            return q
        if name == "Not":
            parts = children(elem)
            if len(parts) != 1:
                raise OWSException("Not takes one operand", locator=name)
            return ~self.op(parts[0])
        if name in COMPARISONS:
            prop, literal = self._operands(elem)
            value = convert(prop, literal)
            lookup = COMPARISONS[name]
            if lookup == "exact" and prop.type == "string" and elem.get("matchCase", "true").lower() == "false":
                lookup = "iexact"
            q = Q(**{f"{prop.source}__{lookup}": value})
            return ~q if name == "PropertyIsNotEqualTo" else q
        if name == "PropertyIsLike":
            prop, literal = self._operands(elem)
            if prop.type != "string":
                raise OWSException("PropertyIsLike applies to text properties", locator=name)
            _check_pattern(literal, elem.get("wildCard", "*"), elem.get("singleChar", "?"))
            regex = like_to_regex(
                literal,
                elem.get("wildCard", "*"),
                elem.get("singleChar", "?"),
                elem.get("escapeChar") or elem.get("escape") or "\\",
            )
            lookup = "iregex" if elem.get("matchCase", "true").lower() == "false" else "regex"
            return Q(**{f"{prop.source}__{lookup}": regex})
        if name == "PropertyIsNull":
            ref = next((c for c in children(elem) if local(c.tag) in ("PropertyName", "ValueReference")), None)
            prop = resolve_name(self.layer, text(ref))
            source = self.layer.geometry_field if prop == GEOMETRY_NAME else prop.source
            return Q(**{f"{source}__isnull": True})
        if name == "PropertyIsBetween":
            ref = next((c for c in children(elem) if local(c.tag) in ("PropertyName", "ValueReference")), None)
            prop = resolve_name(self.layer, text(ref))
            lower, upper = (next(iter(children(elem, b)), None) for b in ("LowerBoundary", "UpperBoundary"))
            if prop == GEOMETRY_NAME or lower is None or upper is None:
                raise OWSException("PropertyIsBetween needs a property and two boundaries", locator=name)
            return Q(
                **{f"{prop.source}__gte": convert(prop, text(lower)), f"{prop.source}__lte": convert(prop, text(upper))}
            )
        if name in SPATIAL:
            geom_elem = None
            for c in children(elem):
                if local(c.tag) in ("PropertyName", "ValueReference"):
                    if resolve_name(self.layer, text(c), locator=local(c.tag)) != GEOMETRY_NAME:
                        raise OWSException(f"{name} applies to the geometry", locator=name)
                else:
                    geom_elem = c
            if geom_elem is None:
                raise OWSException(f"{name} needs a geometry", locator=name)
            geom = geometry.gml_to_geos(geom_elem, self.default_crs, self.layer.srid, locator=name)
            return Q(**{f"{self.layer.geometry_field}__{SPATIAL[name]}": geom})
        raise OWSException(
            f"unsupported filter operator {name}",
            code="OperationNotSupported" if name in ("DWithin", "Beyond") else "InvalidParameterValue",
            locator="Filter",
        )


def _check_size(filter_elem) -> None:
    """Operators and ids of a whole Filter counted before any is built: a flat Or of tens of thousands
    of comparisons is refused here, not after the database has spent a minute on it."""
    operators = ids = 0
    for e in filter_elem.iter():
        name = local(e.tag)
        if name in OPERATORS or name in LOGICAL:
            operators += 1
        elif name in ID_ELEMENTS:
            ids += 1
    limits.check_count(operators, "MAX_FILTER_OPERATORS", "filter operators", "Filter")
    limits.check_count(ids, "MAX_FEATURE_IDS", "feature ids", "ResourceId")


def _check_pattern(pattern: str, wild: str, single: str) -> None:
    """PropertyIsLike runs as a PostgreSQL regex: length and wildcards bounded so no pattern backtracks
    for long."""
    cap = limits.limit("MAX_LIKE_PATTERN")
    if len(pattern) > cap:
        raise OWSException(f"PropertyIsLike pattern longer than {cap} characters", locator="PropertyIsLike")
    wildcards = sum(pattern.count(c) for c in {wild, single} if c)
    cap = limits.limit("MAX_LIKE_WILDCARDS")
    if wildcards > cap:
        raise OWSException(
            f"PropertyIsLike pattern has {wildcards} wildcards (at most {cap})", locator="PropertyIsLike"
        )


def like_to_regex(pattern: str, wild: str, single: str, escape: str) -> str:
    out, i = ["^"], 0
    while i < len(pattern):
        ch = pattern[i]
        if escape and ch == escape and i + 1 < len(pattern):
            i += 1
            out.append(_literal(pattern[i]))
        elif ch == wild:
            if out[-1] != ".*":  # ** matches what * does, with more backtracking
                out.append(".*")
        elif ch == single:
            out.append(".")
        else:
            out.append(_literal(ch))
        i += 1
    out.append("$")
    return "".join(out)


def _literal(ch: str) -> str:
    return ch if ch.isalnum() or ord(ch) > 127 or ch == " " else "\\" + ch
