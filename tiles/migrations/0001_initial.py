from django.db import migrations, models

from tiles.cluster_sql import DROP_TRIGGERS, REBUILD, TRIGGERS


class Migration(migrations.Migration):
    initial = True
    dependencies = [("components", "0007_tile_geometry")]

    operations = [
        migrations.CreateModel(
            name="ComponentCell",
            fields=[
                ("pk", models.CompositePrimaryKey("z", "cx", "cy", "major", blank=True, editable=False,
                                                  primary_key=True, serialize=False)),
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
