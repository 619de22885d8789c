"""Coverage: the part of a grid that none of its children covers (gaps to fix in QGIS)."""
import json

from django.db import connection


def coverage_gaps(parent_code: str | None = None, min_area_m2: float = 1.0) -> list[dict]:
    """For each parent (or just `parent_code`) that has children: the uncovered area in m2 and its
    geometry as GeoJSON (EPSG:4490). Parents without any children are reported whole."""
    # Base grids have no children by design; a grid is a parent when it is above the base level or
    # has children (micro grids).
    where = "WHERE (p.level_id < 4 OR EXISTS (SELECT 1 FROM layers_grid c WHERE c.parent_code = p.code))"
    params = []
    if parent_code:
        where, params = "WHERE p.code = %s", [parent_code]
    sql = f"""
        SELECT p.code, p.name, p.level_id, gap,
               ST_Area(ST_Transform(gap, gridcity_gk_srid(p.geom))) AS area_m2, p.area_m2 AS parent_area_m2
        FROM layers_grid p
        CROSS JOIN LATERAL (
            SELECT ST_CollectionExtract(ST_Difference(p.geom, coalesce(ST_Union(c.geom), ST_SetSRID('GEOMETRYCOLLECTION EMPTY'::geometry, 4490))), 3) AS gap
            FROM layers_grid c WHERE c.parent_code = p.code
        ) d
        {where}
        ORDER BY p.code
    """
    out = []
    with connection.cursor() as cur:
        cur.execute(f"SELECT code, name, level_id, area_m2, parent_area_m2, ST_AsGeoJSON(gap, 7) FROM ({sql}) t "
                    "WHERE area_m2 > 0 AND area_m2 >= %s", params + [min_area_m2])
        for code, name, level, area, parent_area, gap in cur.fetchall():
            out.append({"code": code, "name": name, "level": level, "gap_area_m2": round(area, 1),
                        "gap_share": round(area / parent_area, 6) if parent_area else None,
                        "gap": json.loads(gap)})
    return out
