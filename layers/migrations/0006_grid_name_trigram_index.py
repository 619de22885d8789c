from django.db import migrations

# Grid names in the one search box (layers.search): UPPER(name::text) LIKE UPPER(%s) under pg_trgm.
FORWARD = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS grid_name_trgm ON layers_grid USING gin (upper(name::text) gin_trgm_ops);
"""
BACKWARD = "DROP INDEX IF EXISTS grid_name_trgm;"


class Migration(migrations.Migration):
    dependencies = [("layers", "0005_tile_geometry"), ("components", "0009_search_trigram_indexes")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
