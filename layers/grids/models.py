"""Multi-level grids (网格): district > street > community > base grid (> micro grid), time-versioned.

The rules that must never break live in the database (see migrations): valid geometry, one current
version per code, and no two current siblings sharing interior area, checked at commit under a
per-parent lock so that concurrent edits cannot both slip in."""
from django.contrib.gis.db import models
from django.db.models import Q

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
    code = models.CharField(max_length=18)
    name = models.CharField(max_length=100)
    level = models.ForeignKey(GridLevel, on_delete=models.PROTECT)
    # By code, not by row: a parent's boundary edit makes a new version (a new row) of the same grid.
    parent_code = models.CharField(max_length=18, blank=True, db_index=True)
    geom = models.MultiPolygonField(srid=4490)
    area_m2 = models.FloatField(editable=False, default=0, help_text="in the CGCS2000 Gauss-Krueger zone of the grid")
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    population = models.PositiveIntegerField(null=True, blank=True)
    households = models.PositiveIntegerField(null=True, blank=True)
    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField(null=True, blank=True, help_text="empty for the current version")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["code", "version"]
        constraints = [
            models.UniqueConstraint(fields=["code"], condition=Q(valid_to__isnull=True), name="grid_one_current_version"),
            models.UniqueConstraint(fields=["code", "version"], name="grid_code_version_unique"),
            models.CheckConstraint(condition=Q(code__regex=r"^[0-9]{6,18}$"), name="grid_code_digits"),
            models.CheckConstraint(condition=Q(parent_code="") | Q(code__startswith=models.F("parent_code")),
                                   name="grid_code_extends_parent"),
            models.CheckConstraint(condition=Q(geom__isvalid=True), name="grid_geom_valid"),
            models.CheckConstraint(condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                                   name="grid_validity_interval"),
        ]
        indexes = [models.Index(fields=["parent_code", "valid_to"])]

    def __str__(self):
        return f"{self.code} {self.name}"


class GridStaff(models.Model):
    class Role(models.TextChoices):
        HEAD = "head", "网格长"
        FULL_TIME = "full_time", "专职网格员"
        PART_TIME = "part_time", "兼职网格员"

    grid_code = models.CharField(max_length=18, db_index=True, help_text="staff follow the grid across versions")
    role = models.CharField(max_length=20, choices=Role.choices)
    name = models.CharField(max_length=50)
    phone = models.CharField(max_length=30, blank=True)

    class Meta:
        ordering = ["grid_code", "role", "name"]
