"""Coverage: the part of a parent grid that none of its children covers (gaps to fix in QGIS).
Computed by the database view layers_grid_gaps (model GridGap), which also backs the map layer."""

import json

from django.contrib.gis.db.models.functions import AsGeoJSON

from .models import GridGap


def coverage_gaps(parent_code: str | None = None, min_area_m2: float = 1.0) -> list[dict]:
    """Each parent (or just `parent_code`) with uncovered area of at least `min_area_m2`: the area in
    m2, its share of the parent, and the gap as GeoJSON (EPSG:4490). A parent without any children
    is reported whole."""
    qs = GridGap.objects.filter(gap_area_m2__gt=0, gap_area_m2__gte=min_area_m2)
    if parent_code:
        qs = qs.filter(code=parent_code)
    rows = qs.annotate(gap=AsGeoJSON("geom", precision=7)).values(
        "code", "name", "level_id", "gap_area_m2", "parent_area_m2", "gap"
    )
    return [
        {
            "code": r["code"],
            "name": r["name"],
            "level": r["level_id"],
            "gap_area_m2": round(r["gap_area_m2"], 1),
            "gap_share": round(r["gap_area_m2"] / r["parent_area_m2"], 6) if r["parent_area_m2"] else None,
            "gap": json.loads(r["gap"]),
        }
        for r in rows
    ]
