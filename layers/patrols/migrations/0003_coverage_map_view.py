from django.db import migrations

# Base grids with a day's coverage, for the `patrol_coverage` layer (tiles, WMS, WFS).
VIEW = """
CREATE VIEW patrols_coverage_map AS
SELECT c.id, c.grid_code, g.name AS grid_name, c.day, c.street_m, c.walked_m, c.street_share, c.area_share,
       c.minutes, array_to_string(c.workers, ',') AS workers, g.geom, g.geom_3857
FROM patrols_gridcoverage c JOIN layers_grid g ON g.code = c.grid_code AND g.level_id = 4;
"""


class Migration(migrations.Migration):
    dependencies = [("patrols", "0002_grid_coverage"), ("layers", "0005_tile_geometry")]

    operations = [migrations.RunSQL(VIEW, "DROP VIEW IF EXISTS patrols_coverage_map;")]
