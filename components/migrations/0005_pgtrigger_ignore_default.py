from django.db import migrations

# pgtrigger's triggers read the setting pgtrigger.ignore inside an EXCEPTION block: when it is unset,
# every row raises and catches an error (a subtransaction), which made bulk writes ~8x slower.
# A database default of '{}' (ignore nothing) keeps every history trigger firing, for every client
# (Django, psql, ogr2ogr, QGIS), without that cost.
SET_DEFAULT = """
DO $$ BEGIN
  EXECUTE format('ALTER DATABASE %I SET pgtrigger.ignore = %L', current_database(), '{}');
END $$;
"""
RESET = """
DO $$ BEGIN
  EXECUTE format('ALTER DATABASE %I RESET pgtrigger.ignore', current_database());
END $$;
"""


class Migration(migrations.Migration):
    dependencies = [("components", "0004_importjob")]
    operations = [migrations.RunSQL(SET_DEFAULT, RESET)]
