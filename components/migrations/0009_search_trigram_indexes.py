from django.db import migrations

# The one search box (components.search) matches names, addresses and organisation names anywhere in
# the text, as Django's icontains writes it: UPPER(col::text) LIKE UPPER(%s). pg_trgm GIN indexes on
# that expression answer it without a scan (Chinese characters make trigrams under C.UTF-8 too).
# Component rows pay for two more index entries on write; GIN's pending list keeps bulk imports cheap.
FORWARD = """
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX IF NOT EXISTS component_name_trgm ON components_component USING gin (upper(name::text) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS component_location_trgm
    ON components_component USING gin (upper(location_desc::text) gin_trgm_ops);
CREATE INDEX IF NOT EXISTS organisation_name_trgm ON components_organisation USING gin (upper(name::text) gin_trgm_ops);
"""
BACKWARD = """
DROP INDEX IF EXISTS component_name_trgm;
DROP INDEX IF EXISTS component_location_trgm;
DROP INDEX IF EXISTS organisation_name_trgm;
"""


class Migration(migrations.Migration):
    dependencies = [("components", "0008_componentcell")]
    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
