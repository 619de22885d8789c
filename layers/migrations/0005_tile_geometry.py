from importlib import import_module

from django.db import migrations

# Grids carry their Web Mercator geometry too (see components 0007). The gap view exposes the
# parent's indexed geometry, so a tile asks only for parents that touch it before any ST_Difference.
FORWARD = """
-- Rewrites every row: longer than the 30 s limit every connection gets (settings) at city scale.
SET LOCAL statement_timeout = 0;
ALTER TABLE layers_grid
    ADD COLUMN geom_3857 geometry(MultiPolygon, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED;
CREATE INDEX grid_geom_3857 ON layers_grid USING gist (geom_3857);
CREATE OR REPLACE VIEW layers_grid_gaps AS
SELECT p.id, p.code, p.name, p.level_id,
       ST_Multi(d.gap)::geometry(MultiPolygon, 4490) AS geom,
       ST_Area(ST_Transform(d.gap, gridcity_gk_srid(p.geom))) AS gap_area_m2,
       p.area_m2 AS parent_area_m2,
       p.geom_3857 AS parent_geom_3857,
       ST_Transform(d.gap, 3857)::geometry(Geometry, 3857) AS geom_3857
FROM layers_grid p
CROSS JOIN LATERAL (
    SELECT ST_CollectionExtract(ST_Difference(p.geom, coalesce(ST_Union(c.geom),
           ST_SetSRID('GEOMETRYCOLLECTION EMPTY'::geometry, 4490))), 3) AS gap
    FROM layers_grid c WHERE c.parent_code = p.code
) d
WHERE (p.level_id < 4 OR EXISTS (SELECT 1 FROM layers_grid c WHERE c.parent_code = p.code))
  AND NOT ST_IsEmpty(d.gap);
"""
# Back to 0004's view as 0004 wrote it (a new view: CREATE OR REPLACE cannot drop columns).
BACKWARD = (
    "DROP VIEW IF EXISTS layers_grid_gaps;\n"
    + import_module("layers.migrations.0004_grid_gaps_view").VIEW
    + ";\n"
    + "DROP INDEX IF EXISTS grid_geom_3857;\n"
    + "ALTER TABLE layers_grid DROP COLUMN IF EXISTS geom_3857;\n"
)


class Migration(migrations.Migration):
    dependencies = [("layers", "0004_grid_gaps_view"), ("components", "0007_tile_geometry")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
