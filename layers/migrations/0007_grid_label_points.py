from django.db import migrations

# One label point per grid, kept by PostgreSQL beside the geometry: the centre of the largest circle
# inside the grid (ST_MaximumInscribedCircle: visually the middle, even for L-shaped or ring grids),
# in Web Mercator for the tiles (tiles.sql writes it into the one tile that holds it).
FORWARD = """
SET LOCAL statement_timeout = 0;
ALTER TABLE layers_grid ADD COLUMN label_3857 geometry(Point, 3857)
    GENERATED ALWAYS AS (ST_Transform((ST_MaximumInscribedCircle(geom)).center, 3857)) STORED;
CREATE INDEX grid_label_3857 ON layers_grid USING gist (label_3857);
"""
BACKWARD = """
DROP INDEX IF EXISTS grid_label_3857;
ALTER TABLE layers_grid DROP COLUMN IF EXISTS label_3857;
"""


class Migration(migrations.Migration):
    dependencies = [("layers", "0006_grid_name_trigram_index")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
