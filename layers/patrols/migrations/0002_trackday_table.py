"""Daily tracks kept in a table (patrols_trackday) instead of aggregated from every fix at query time:
the view patrols_track keeps its columns (the layer's and WFS's contract) and reads the table, plus
the simplified copies for low zooms. Backfilled from the fixes already stored."""

import django.contrib.gis.db.models.fields
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from layers.patrols import sql

# The SQL as it is at this migration: later changes go in a later migration.
TRACK_VIEW = """
DROP VIEW IF EXISTS patrols_track;
CREATE VIEW patrols_track AS
SELECT t.id, t.worker_id, u.username, t.day, t.first_time, t.last_time, t.fix_count, t.geom,
       t.geom_3857, t.geom_3857_mid, t.geom_3857_low
FROM patrols_trackday t JOIN auth_user u ON u.id = t.worker_id;
"""
OLD_TRACK_VIEW = "DROP VIEW IF EXISTS patrols_track;" + sql.VIEWS.split("CREATE VIEW patrols_position")[0]

BACKFILL = """
INSERT INTO patrols_trackday (id, worker_id, day, first_time, last_time, fix_count, geom, geom_3857,
                              geom_3857_mid, geom_3857_low)
SELECT worker_id::bigint * 100000 + (day - DATE '2000-01-01'), worker_id, day, first_time, last_time, fix_count,
       line, l3857, ST_Simplify(l3857, 2.388657133911758, true), ST_Simplify(l3857, 19.109257071294063, true)
FROM (
    SELECT worker_id, day, first_time, last_time, fix_count, line, ST_Transform(line, 3857) AS l3857
    FROM (
        SELECT worker_id, (fix_time AT TIME ZONE 'Asia/Shanghai')::date AS day, min(fix_time) AS first_time,
               max(fix_time) AS last_time, count(*)::integer AS fix_count,
               ST_MakeLine(geom ORDER BY fix_time) AS line
        FROM patrols_patrolfix
        GROUP BY 1, 2
        HAVING count(*) > 1
    ) g
) s;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("patrols", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="TrackDay",
            fields=[
                ("id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("day", models.DateField()),
                ("first_time", models.DateTimeField()),
                ("last_time", models.DateTimeField()),
                ("fix_count", models.IntegerField()),
                ("geom", django.contrib.gis.db.models.fields.LineStringField(spatial_index=False, srid=4490)),
                ("geom_3857", django.contrib.gis.db.models.fields.LineStringField(srid=3857)),
                ("geom_3857_mid", django.contrib.gis.db.models.fields.LineStringField(spatial_index=False, srid=3857)),
                ("geom_3857_low", django.contrib.gis.db.models.fields.LineStringField(spatial_index=False, srid=3857)),
                (
                    "worker",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL
                    ),
                ),
            ],
            options={
                "verbose_name": "巡查日轨迹",
                "verbose_name_plural": "巡查日轨迹",
                "indexes": [models.Index(fields=["day"], name="patrols_trackday_day")],
                "constraints": [models.UniqueConstraint(fields=("worker", "day"), name="patrols_trackday_once")],
            },
        ),
        migrations.RunSQL(TRACK_VIEW, OLD_TRACK_VIEW),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
