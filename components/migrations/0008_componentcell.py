from django.db import migrations, models


class Migration(migrations.Migration):
    """The cluster cell table moves from the tiles app to components, which keeps it (state only: the
    table, its name and its triggers stay as tiles 0001 made them)."""

    dependencies = [("components", "0007_tile_geometry"), ("tiles", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
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
                    options={
                        "db_table": "tiles_componentcell",
                        "indexes": [models.Index(condition=models.Q(("n__lte", 0)), fields=["z"], name="cell_emptied")],
                    },
                ),
            ]
        ),
    ]
