from django.db import migrations, models

# The cluster-count SQL as it was when this migration was written (frozen here: a migration is history;
# the live version is components.cluster_cells, which owns the table since components 0008).
TRIGGERS = "\nCREATE OR REPLACE FUNCTION tiles_component_cells() RETURNS trigger LANGUAGE plpgsql AS $fn$\nBEGIN\n    IF TG_OP = 'INSERT' THEN\n        \nWITH d AS (SELECT geom_3857 AS g, component_class_id AS k, 1 AS s FROM new_rows WHERE NOT retired),\nfine AS (\n    SELECT floor((ST_X(p) + 20037508.342789244) / (2 * 20037508.342789244 / 2 ^ 20))::int AS cx,\n           floor((20037508.342789244 - ST_Y(p)) / (2 * 20037508.342789244 / 2 ^ 20))::int AS cy,\n           cl.major_code AS major, sum(s) AS n, sum(s * ST_X(p)) AS sx, sum(s * ST_Y(p)) AS sy\n    FROM (SELECT ST_PointOnSurface(g) AS p, k, s FROM d WHERE g IS NOT NULL) pts\n    JOIN components_componentclass cl ON cl.id = pts.k\n    GROUP BY 1, 2, 3\n)\nINSERT INTO tiles_componentcell AS c (z, cx, cy, major, n, sx, sy)\nSELECT z, cx >> (15 - z), cy >> (15 - z), major, sum(n), sum(sx), sum(sy)\nFROM fine CROSS JOIN generate_series(0, 15) AS z\nGROUP BY 1, 2, 3, 4\nON CONFLICT (z, cx, cy, major) DO UPDATE\n    SET n = c.n + EXCLUDED.n, sx = c.sx + EXCLUDED.sx, sy = c.sy + EXCLUDED.sy\n;\n    ELSIF TG_OP = 'DELETE' THEN\n        \nWITH d AS (SELECT geom_3857 AS g, component_class_id AS k, -1 AS s FROM old_rows WHERE NOT retired),\nfine AS (\n    SELECT floor((ST_X(p) + 20037508.342789244) / (2 * 20037508.342789244 / 2 ^ 20))::int AS cx,\n           floor((20037508.342789244 - ST_Y(p)) / (2 * 20037508.342789244 / 2 ^ 20))::int AS cy,\n           cl.major_code AS major, sum(s) AS n, sum(s * ST_X(p)) AS sx, sum(s * ST_Y(p)) AS sy\n    FROM (SELECT ST_PointOnSurface(g) AS p, k, s FROM d WHERE g IS NOT NULL) pts\n    JOIN components_componentclass cl ON cl.id = pts.k\n    GROUP BY 1, 2, 3\n)\nINSERT INTO tiles_componentcell AS c (z, cx, cy, major, n, sx, sy)\nSELECT z, cx >> (15 - z), cy >> (15 - z), major, sum(n), sum(sx), sum(sy)\nFROM fine CROSS JOIN generate_series(0, 15) AS z\nGROUP BY 1, 2, 3, 4\nON CONFLICT (z, cx, cy, major) DO UPDATE\n    SET n = c.n + EXCLUDED.n, sx = c.sx + EXCLUDED.sx, sy = c.sy + EXCLUDED.sy\n;\n    ELSE\n        \nWITH d AS (\nSELECT g, k, s FROM (\n    SELECT o.geom_3857 AS g, o.component_class_id AS k, -1 AS s, o.retired AS r, o.id\n    FROM old_rows o JOIN new_rows n USING (id)\n    WHERE (o.geom_3857, o.component_class_id, o.retired) IS DISTINCT FROM (n.geom_3857, n.component_class_id, n.retired)\n    UNION ALL\n    SELECT n.geom_3857, n.component_class_id, 1, n.retired, n.id\n    FROM old_rows o JOIN new_rows n USING (id)\n    WHERE (o.geom_3857, o.component_class_id, o.retired) IS DISTINCT FROM (n.geom_3857, n.component_class_id, n.retired)\n) moved WHERE NOT r\n),\nfine AS (\n    SELECT floor((ST_X(p) + 20037508.342789244) / (2 * 20037508.342789244 / 2 ^ 20))::int AS cx,\n           floor((20037508.342789244 - ST_Y(p)) / (2 * 20037508.342789244 / 2 ^ 20))::int AS cy,\n           cl.major_code AS major, sum(s) AS n, sum(s * ST_X(p)) AS sx, sum(s * ST_Y(p)) AS sy\n    FROM (SELECT ST_PointOnSurface(g) AS p, k, s FROM d WHERE g IS NOT NULL) pts\n    JOIN components_componentclass cl ON cl.id = pts.k\n    GROUP BY 1, 2, 3\n)\nINSERT INTO tiles_componentcell AS c (z, cx, cy, major, n, sx, sy)\nSELECT z, cx >> (15 - z), cy >> (15 - z), major, sum(n), sum(sx), sum(sy)\nFROM fine CROSS JOIN generate_series(0, 15) AS z\nGROUP BY 1, 2, 3, 4\nON CONFLICT (z, cx, cy, major) DO UPDATE\n    SET n = c.n + EXCLUDED.n, sx = c.sx + EXCLUDED.sx, sy = c.sy + EXCLUDED.sy\n;\n    END IF;\n    DELETE FROM tiles_componentcell WHERE n <= 0;\n    RETURN NULL;\nEND\n$fn$;\nCREATE TRIGGER tiles_cells_insert AFTER INSERT ON components_component\n    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tiles_component_cells();\nCREATE TRIGGER tiles_cells_update AFTER UPDATE ON components_component\n    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tiles_component_cells();\nCREATE TRIGGER tiles_cells_delete AFTER DELETE ON components_component\n    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tiles_component_cells();\n-- Bulk imports run with session_replication_role = replica to skip re-checking foreign keys;\n-- the counts must follow them all the same.\nALTER TABLE components_component ENABLE ALWAYS TRIGGER tiles_cells_insert;\nALTER TABLE components_component ENABLE ALWAYS TRIGGER tiles_cells_update;\nALTER TABLE components_component ENABLE ALWAYS TRIGGER tiles_cells_delete;\n"

DROP_TRIGGERS = "\nDROP TRIGGER IF EXISTS tiles_cells_insert ON components_component;\nDROP TRIGGER IF EXISTS tiles_cells_update ON components_component;\nDROP TRIGGER IF EXISTS tiles_cells_delete ON components_component;\nDROP FUNCTION IF EXISTS tiles_component_cells();\n"

REBUILD = "TRUNCATE tiles_componentcell;\n\nWITH d AS (SELECT geom_3857 AS g, component_class_id AS k, 1 AS s FROM components_component WHERE NOT retired),\nfine AS (\n    SELECT floor((ST_X(p) + 20037508.342789244) / (2 * 20037508.342789244 / 2 ^ 20))::int AS cx,\n           floor((20037508.342789244 - ST_Y(p)) / (2 * 20037508.342789244 / 2 ^ 20))::int AS cy,\n           cl.major_code AS major, sum(s) AS n, sum(s * ST_X(p)) AS sx, sum(s * ST_Y(p)) AS sy\n    FROM (SELECT ST_PointOnSurface(g) AS p, k, s FROM d WHERE g IS NOT NULL) pts\n    JOIN components_componentclass cl ON cl.id = pts.k\n    GROUP BY 1, 2, 3\n)\nINSERT INTO tiles_componentcell AS c (z, cx, cy, major, n, sx, sy)\nSELECT z, cx >> (15 - z), cy >> (15 - z), major, sum(n), sum(sx), sum(sy)\nFROM fine CROSS JOIN generate_series(0, 15) AS z\nGROUP BY 1, 2, 3, 4\nON CONFLICT (z, cx, cy, major) DO UPDATE\n    SET n = c.n + EXCLUDED.n, sx = c.sx + EXCLUDED.sx, sy = c.sy + EXCLUDED.sy\n"


class Migration(migrations.Migration):
    initial = True
    dependencies = [("components", "0007_tile_geometry")]

    operations = [
        migrations.CreateModel(
            name="ComponentCell",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "z", "cx", "cy", "major", blank=True, editable=False, primary_key=True, serialize=False
                    ),
                ),
                ("z", models.SmallIntegerField()),
                ("cx", models.IntegerField()),
                ("cy", models.IntegerField()),
                ("major", models.CharField(max_length=2)),
                ("n", models.IntegerField()),
                ("sx", models.FloatField()),
                ("sy", models.FloatField()),
            ],
            options={"indexes": [models.Index(condition=models.Q(("n__lte", 0)), fields=["z"], name="cell_emptied")]},
        ),
        migrations.RunSQL(TRIGGERS, DROP_TRIGGERS),
        # Counts every existing component: longer than the 30 s per-statement limit at city scale.
        migrations.RunSQL("SET LOCAL statement_timeout = 0;\n" + REBUILD, migrations.RunSQL.noop),
    ]
