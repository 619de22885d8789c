"""Components as GeoJSON Features, fast: one values() query, geometry encoded by PostGIS.

The same output as ComponentSerializer (which documents it in the OpenAPI schema) without building
a model, a GEOS geometry and a DRF field tree per feature: reads by ID and nearest-first searches
are the maintenance units' everyday lookups and must answer in milliseconds."""

import json

from django.conf import settings
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.utils import timezone

_ORG_ROLES = ("department", "owner", "maintainer")
_SCALAR = [
    ("code", "code"),
    ("class_code", "component_class__code"),
    ("class_name", "component_class__name"),
    ("major_code", "component_class__major_code"),
    ("major_name", "component_class__major_name"),
    ("name", "name"),
    ("admin_code", "admin_code"),
    ("street_code", "street_code"),
    ("community_code", "community_code"),
    ("grid_code", "grid_code"),
    ("location_desc", "location_desc"),
]
_AFTER_ORGS = [
    ("state", "state_id"),
    ("state_name", "state__name"),
    ("census_date", "census_date"),
    ("change_date", "change_date"),
    ("data_source", "data_source"),
    ("note", "note"),
    ("attributes", "attributes"),
    ("retired", "retired"),
    ("retired_at", "retired_at"),
    ("retired_reason", "retired_reason"),
]
_ORG_PATHS = [f"{role}__{f}" for role in _ORG_ROLES for f in ("uscc", "name", "phone")]
_PATHS = [p for _, p in _SCALAR] + _ORG_PATHS + [p for _, p in _AFTER_ORGS]


def _value(v):
    if v is None or isinstance(v, (str, int, float, bool, dict, list)):
        return v
    if hasattr(v, "tzinfo"):  # datetime: local time, as DRF renders it
        return timezone.localtime(v).isoformat()
    return v.isoformat()  # date


def feature_rows(qs, with_distance: bool = False):
    """A values() queryset of what the features need (slice or paginate it before iterating)."""
    paths = list(_PATHS) + (["distance_m"] if with_distance else [])
    return qs.annotate(geojson=AsGeoJSON("geom", precision=7)).values(*paths, "geojson")


def to_feature(row: dict) -> dict:
    props = {name: row[path] for name, path in _SCALAR[1:]}  # the ID is the feature's id
    for role in _ORG_ROLES:
        uscc = row[f"{role}__uscc"]
        props[role] = (
            None if uscc is None else {"uscc": uscc, "name": row[f"{role}__name"], "phone": row[f"{role}__phone"]}
        )
    for name, path in _AFTER_ORGS:
        props[name] = _value(row[path])
    d = row.get("distance_m")
    props["distance_m"] = None if d is None else round(d, 2)
    props["card_url"] = f"{settings.PUBLIC_BASE_URL}/c/{row['code']}"
    return {"type": "Feature", "id": row["code"], "geometry": json.loads(row["geojson"]), "properties": props}


def ownership(row: dict) -> dict:
    """Who is in charge of, owns and maintains a component (from a feature row)."""
    f = {"code": row["code"], **to_feature(row)["properties"]}
    keys = (
        "code",
        "class_code",
        "class_name",
        "name",
        "location_desc",
        "grid_code",
        "state",
        "state_name",
        "department",
        "owner",
        "maintainer",
        "retired",
    )
    return {k: f[k] for k in keys}


_SENTINEL = "00000000000000000"
_compiled: dict[str, tuple[str, list, list[str]]] = {}


def row_by_code(qs_all, code: str) -> dict | None:
    """feature_rows(qs_all.filter(code=code)).first(), with the SQL compiled once per process:
    building this 5-join query cost more than running it. `qs_all` must be the same queryset
    (every visible component, unfiltered) on every call."""
    entry = _compiled.get("by_code")
    if entry is None:
        query = feature_rows(qs_all.filter(code=_SENTINEL))[:1].query
        sql, params = query.sql_with_params()
        names = list(query.values_select) + list(query.annotation_select)
        entry = _compiled["by_code"] = (sql, list(params), names)
    sql, params, names = entry
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(sql, [code if p == _SENTINEL else p for p in params])
        found = cur.fetchone()
    if found is None:
        return None
    row = dict(zip(names, found))
    if isinstance(row.get("attributes"), str):
        row["attributes"] = json.loads(row["attributes"])
    return row
