from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("components", "0001_initial")]

    operations = [
        # Nearest-in-metres queries run on geography; index that expression so they need no scan.
        migrations.RunSQL(
            "CREATE INDEX components_component_geog_idx ON components_component USING gist ((geom::geography))",
            "DROP INDEX components_component_geog_idx",
        ),
        migrations.RunSQL(
            "ALTER TABLE components_component ADD CONSTRAINT component_geom_not_empty CHECK (NOT ST_IsEmpty(geom))",
            "ALTER TABLE components_component DROP CONSTRAINT component_geom_not_empty",
        ),
    ]
