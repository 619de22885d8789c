from django.db import migrations

# The history table is written on every change (bulk imports included) and read by component:
# keep only the indexes those reads use, so that writes stay cheap.
DROP = """
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT indexname FROM pg_indexes
           WHERE tablename = 'components_componentevent'
             AND indexname NOT LIKE '%pkey'
             AND indexname NOT LIKE '%pgh_obj_id%'
             AND indexname NOT LIKE '%pgh_context_id%'
  LOOP
    EXECUTE format('DROP INDEX %I', r.indexname);
  END LOOP;
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("components", "0002_geography_index")]
    operations = [migrations.RunSQL(DROP, migrations.RunSQL.noop)]
