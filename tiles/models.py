from django.db import models

# Components are drawn as counted clusters below CLUSTER_ZOOMS_BELOW. Each cluster zoom z groups
# points into square cells that are the tiles of zoom z + CELL_LEVELS (32 x 32 cells per tile).
CLUSTER_MAX_ZOOM = 15
CELL_LEVELS = 5


class ComponentCell(models.Model):
    """Counts of live components per cluster cell, zoom and major class, kept by statement-level
    triggers on components_component (tiles 0001), so every write path keeps them exact. The sums
    of projected coordinates place each cluster at its members' mean position."""

    pk = models.CompositePrimaryKey("z", "cx", "cy", "major")
    z = models.SmallIntegerField()
    cx = models.IntegerField()
    cy = models.IntegerField()
    major = models.CharField(max_length=2)
    n = models.IntegerField()
    sx = models.FloatField()
    sy = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["z"], name="cell_emptied", condition=models.Q(n__lte=0))]
