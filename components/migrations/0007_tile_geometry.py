from django.db import migrations

# Tiles are cut in Web Mercator. A stored generated column keeps the projected geometry beside the
# CGCS2000 one, so tile queries filter by index and encode with no per-row ST_Transform, and no
# write path (service, import, raw SQL) can forget to keep it in step.
FORWARD = """
-- Rewrites every row: longer than the 30 s limit every connection gets (settings) at city scale.
SET LOCAL statement_timeout = 0;
ALTER TABLE components_component
    ADD COLUMN geom_3857 geometry(Geometry, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED;
CREATE INDEX component_geom_3857_live ON components_component USING gist (geom_3857) WHERE NOT retired;
"""
BACKWARD = """
DROP INDEX IF EXISTS component_geom_3857_live;
ALTER TABLE components_component DROP COLUMN IF EXISTS geom_3857;
"""


class Migration(migrations.Migration):
    dependencies = [("components", "0006_lean_component_indexes")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
