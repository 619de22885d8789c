from django.db import migrations

# Tiles are cut in Web Mercator: a stored generated column keeps the projected point beside the
# CGCS2000 one (as components_component does), so tile queries use an index and no write path can
# forget to keep the two in step.
FORWARD = """
ALTER TABLE incidents_case
    ADD COLUMN geom_3857 geometry(Point, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED;
CREATE INDEX case_geom_3857 ON incidents_case USING gist (geom_3857);
"""
BACKWARD = """
DROP INDEX IF EXISTS case_geom_3857;
ALTER TABLE incidents_case DROP COLUMN IF EXISTS geom_3857;
"""


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
