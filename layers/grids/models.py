"""Multi-level grids (网格): district > street > community > base grid (> micro grid).

`Grid` holds each grid's current state under a stable id (QGIS keeps feature ids across edits);
a database trigger keeps every version in `GridVersion`, so history is queryable as of a date
whichever path made the change. The rules that must never break live in the database (see the
migrations): valid geometry, unique codes, a child's code extending its parent's, and no two
siblings sharing interior area, checked at commit under a per-parent lock."""

from django.contrib.gis.db import models
from django.db.models import F, Q

from components.models import Organisation


class GridLevel(models.Model):
    level = models.PositiveSmallIntegerField(primary_key=True, help_text="1 = district ... 5 = micro grid")
    slug = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=30)
    code_length = models.PositiveSmallIntegerField(help_text="digits of a code at this level")

    class Meta:
        ordering = ["level"]

    def __str__(self):
        return self.name


class Grid(models.Model):
    code = models.CharField(max_length=18, unique=True)
    name = models.CharField(max_length=100)
    level = models.ForeignKey(GridLevel, on_delete=models.PROTECT)
    parent_code = models.CharField(max_length=18, blank=True, db_index=True)
    geom = models.MultiPolygonField(srid=4490)
    area_m2 = models.FloatField(editable=False, default=0, help_text="in the CGCS2000 Gauss-Krueger zone of the grid")
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    population = models.PositiveIntegerField(null=True, blank=True)
    households = models.PositiveIntegerField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    valid_from = models.DateTimeField(null=True, editable=False, help_text="start of the current version")

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[0-9]{6,18}$"), name="grid_code_digits"),
            models.CheckConstraint(
                condition=Q(parent_code="") | Q(code__startswith=F("parent_code")), name="grid_code_extends_parent"
            ),
            models.CheckConstraint(condition=Q(geom__isvalid=True), name="grid_geom_valid"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class GridVersion(models.Model):
    """Every version of every grid, written by a trigger; valid_to is empty for the current one."""

    grid_id = models.BigIntegerField(db_index=True)
    version = models.PositiveIntegerField()
    code = models.CharField(max_length=18, db_index=True)
    name = models.CharField(max_length=100)
    level = models.ForeignKey(GridLevel, on_delete=models.PROTECT, db_constraint=False)
    parent_code = models.CharField(max_length=18, blank=True)
    geom = models.MultiPolygonField(srid=4490)
    area_m2 = models.FloatField()
    organisation_id = models.BigIntegerField(null=True)
    population = models.PositiveIntegerField(null=True)
    households = models.PositiveIntegerField(null=True)
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField(null=True)

    class Meta:
        ordering = ["code", "version"]
        constraints = [
            models.UniqueConstraint(fields=["grid_id", "version"], name="grid_version_unique"),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=F("valid_from")), name="grid_version_interval"
            ),
        ]


class GridStaff(models.Model):
    class Role(models.TextChoices):
        HEAD = "head", "网格长"
        FULL_TIME = "full_time", "专职网格员"
        PART_TIME = "part_time", "兼职网格员"

    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(max_length=20, choices=Role.choices)
    name = models.CharField(max_length=50)
    phone = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["grid", "role", "name"]


class GridReassignment(models.Model):
    """A re-assignment of components to grids after a boundary edit, run by Celery and reported here."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队"
        RUNNING = "running", "运行中"
        DONE = "done", "完成"
        FAILED = "failed", "失败"

    reason = models.CharField(max_length=200)
    bbox = models.JSONField(null=True, help_text="[minx, miny, maxx, maxy] in EPSG:4490; null = everywhere")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    components_changed = models.PositiveIntegerField(null=True)
    queued_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-queued_at"]


class GridGap(models.Model):
    """A parent grid's area that none of its children covers (a read-only database view)."""

    id = models.BigIntegerField(primary_key=True, help_text="the parent grid's id")
    code = models.CharField(max_length=18)
    name = models.CharField(max_length=100)
    level = models.ForeignKey(GridLevel, on_delete=models.DO_NOTHING, db_constraint=False)
    geom = models.MultiPolygonField(srid=4490)
    gap_area_m2 = models.FloatField()
    parent_area_m2 = models.FloatField()

    class Meta:
        managed = False
        db_table = "layers_grid_gaps"
        ordering = ["code"]
