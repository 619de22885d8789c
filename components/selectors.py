"""Reads of components, with permissions applied. Views never build these querysets themselves."""

from django.contrib.gis.geos import GEOSGeometry, Polygon
from django.db.models import BooleanField, Count, FloatField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404

from . import visibility
from .models import Component, Organisation

_POINT_GEOG = "ST_SetSRID(ST_MakePoint(%s, %s), 4490)::geography"
MAX_RADIUS_M = 5000


def visible_components(user) -> QuerySet:
    """What `user` may see (the rule lives in components.visibility)."""
    qs = Component.objects.select_related("component_class", "state", "department", "owner", "maintainer")
    return visibility.filter_visible(qs, user)


def written_component(pk: int) -> Component:
    """The row a write just saved, read back for the answer without the visibility scope: the
    writer was allowed to write it, and a write must never answer 404 after it has committed."""
    return Component.objects.select_related("component_class", "state", "department", "owner", "maintainer").get(pk=pk)


def get_component(user, code: str) -> Component:
    try:
        return visible_components(user).get(code=code)
    except Component.DoesNotExist:
        raise Http404(f"no component {code}") from None


def filter_components(qs: QuerySet, f: dict) -> QuerySet:
    """Applies already-parsed filters (see components.api.filters)."""
    if "class_code" in f:
        qs = qs.filter(component_class__code__in=f["class_code"])
    if "major" in f:
        qs = qs.filter(component_class__major_code__in=f["major"])
    if "state" in f:
        qs = qs.filter(state__code__in=f["state"])
    for role in ("owner", "maintainer", "department"):
        if role in f:
            qs = qs.filter(**{f"{role}__uscc": f[role]})
    if "unit" in f:
        qs = qs.filter(Q(owner__uscc=f["unit"]) | Q(maintainer__uscc=f["unit"]) | Q(department__uscc=f["unit"]))
    for name in ("admin_code", "street_code", "community_code", "grid_code"):
        if name in f:
            qs = qs.filter(**{name: f[name]})
    for name, lookup in (
        ("census_from", "census_date__gte"),
        ("census_to", "census_date__lte"),
        ("changed_from", "change_date__gte"),
        ("changed_to", "change_date__lte"),
    ):
        if name in f:
            qs = qs.filter(**{lookup: f[name]})
    retired = f.get("retired", False)
    if retired is not None:
        qs = qs.filter(retired=retired)
    if "bbox" in f:
        qs = qs.filter(geom__intersects=Polygon.from_bbox(f["bbox"]))
    if "within" in f:
        qs = qs.filter(geom__intersects=f["within"])
    if "near" in f:
        lon, lat = f["near"]
        radius = f.get("radius", 50.0)
        qs = (
            qs.annotate(
                distance_m=RawSQL(
                    f"ST_Distance(components_component.geom::geography, {_POINT_GEOG})",
                    (lon, lat),
                    output_field=FloatField(),
                )
            )
            .filter(
                RawSQL(
                    f"ST_DWithin(components_component.geom::geography, {_POINT_GEOG}, %s)",
                    (lon, lat, radius),
                    output_field=BooleanField(),
                )
            )
            .order_by("distance_m", "code")
        )
    return qs


def unit_summary(user, organisation: Organisation) -> dict:
    """Everything an organisation owns, maintains or is in charge of, counted per class and state."""
    base = visible_components(user).filter(retired=False)
    result = {}
    for role in ("owner", "maintainer", "department"):
        rows = (
            base.filter(**{role: organisation})
            .values("component_class__code", "component_class__name", "state__code", "state__name")
            .annotate(count=Count("id"))
            .order_by("component_class__code", "state__code")
        )
        per_class: dict[str, dict] = {}
        total = 0
        for r in rows:
            entry = per_class.setdefault(
                r["component_class__code"],
                {
                    "class_code": r["component_class__code"],
                    "class_name": r["component_class__name"],
                    "total": 0,
                    "states": {},
                },
            )
            entry["states"][r["state__code"]] = r["count"]
            entry["total"] += r["count"]
            total += r["count"]
        result[role] = {"total": total, "classes": list(per_class.values())}
    return result


def parse_geometry(value) -> GEOSGeometry:
    """GeoJSON (dict or text) or WKT -> GEOS in EPSG:4490."""
    import json

    text = json.dumps(value) if isinstance(value, dict) else str(value)
    geom = GEOSGeometry(text)
    if geom.srid is None or geom.srid == 4326:
        geom.srid = 4490
    return geom
