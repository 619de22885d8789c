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
    level = models.PositiveSmallIntegerField(primary_key=True, help_text="1 = 区 …… 5 = 微网格", verbose_name="层级")
    slug = models.SlugField(max_length=20, unique=True, verbose_name="标识")
    name = models.CharField(max_length=30, verbose_name="名称")
    code_length = models.PositiveSmallIntegerField(help_text="本层级网格代码的位数", verbose_name="代码位数")

    class Meta:
        verbose_name = "网格层级"
        verbose_name_plural = "网格层级"
        ordering = ["level"]

    def __str__(self):
        return self.name


class Grid(models.Model):
    code = models.CharField(max_length=18, unique=True, verbose_name="网格代码")
    name = models.CharField(max_length=100, verbose_name="名称")
    level = models.ForeignKey(GridLevel, on_delete=models.PROTECT, verbose_name="层级")
    parent_code = models.CharField(max_length=18, blank=True, db_index=True, verbose_name="上级网格代码")
    geom = models.MultiPolygonField(srid=4490, verbose_name="边界")
    area_m2 = models.FloatField(
        editable=False,
        default=0,
        help_text="在网格所在的 CGCS2000 高斯-克吕格投影带中计算",
        verbose_name="面积(平方米)",
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="责任单位"
    )
    population = models.PositiveIntegerField(null=True, blank=True, verbose_name="人口")
    households = models.PositiveIntegerField(null=True, blank=True, verbose_name="户数")
    version = models.PositiveIntegerField(default=1, editable=False, verbose_name="版本")
    valid_from = models.DateTimeField(
        null=True, editable=False, help_text="当前版本的起始时间", verbose_name="当前版本起始时间"
    )

    class Meta:
        verbose_name = "网格"
        verbose_name_plural = "网格"
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

    grid_id = models.BigIntegerField(db_index=True, verbose_name="网格编号")
    version = models.PositiveIntegerField(verbose_name="版本")
    code = models.CharField(max_length=18, db_index=True, verbose_name="网格代码")
    name = models.CharField(max_length=100, verbose_name="名称")
    level = models.ForeignKey(GridLevel, on_delete=models.PROTECT, db_constraint=False, verbose_name="层级")
    parent_code = models.CharField(max_length=18, blank=True, verbose_name="上级网格代码")
    geom = models.MultiPolygonField(srid=4490, verbose_name="边界")
    area_m2 = models.FloatField(verbose_name="面积(平方米)")
    organisation_id = models.BigIntegerField(null=True, verbose_name="责任单位编号")
    population = models.PositiveIntegerField(null=True, verbose_name="人口")
    households = models.PositiveIntegerField(null=True, verbose_name="户数")
    valid_from = models.DateTimeField(verbose_name="起始时间")
    valid_to = models.DateTimeField(null=True, verbose_name="终止时间")

    class Meta:
        verbose_name = "网格历史版本"
        verbose_name_plural = "网格历史版本"
        ordering = ["code", "version"]
        # The version trigger closes a grid's open version on every edit: found through this, not by
        # reading every past version of the grid (thousands for a grid edited often).
        indexes = [models.Index(fields=["grid_id"], condition=Q(valid_to__isnull=True), name="grid_version_open")]
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

    grid = models.ForeignKey(Grid, on_delete=models.CASCADE, related_name="staff", verbose_name="网格")
    role = models.CharField(max_length=20, choices=Role.choices, verbose_name="岗位")
    name = models.CharField(max_length=50, verbose_name="姓名")
    phone = models.CharField(max_length=30, blank=True, verbose_name="电话")

    class Meta:
        verbose_name = "网格人员"
        verbose_name_plural = "网格人员"
        ordering = ["grid", "role", "name"]


class GridReassignment(models.Model):
    """A re-assignment of components to grids after a boundary edit, run by Celery and reported here.
    An edit that moves a border over at most 100 components re-assigns them in its own transaction
    instead (layers.grids.assignment.reassign), with no row here: their history says grid_assignment."""

    class Status(models.TextChoices):
        QUEUED = "queued", "排队"
        RUNNING = "running", "运行中"
        DONE = "done", "完成"
        FAILED = "failed", "失败"

    reason = models.CharField(max_length=200, verbose_name="原因")
    bbox = models.JSONField(
        null=True, help_text="[最小经度, 最小纬度, 最大经度, 最大纬度]（EPSG:4490）；为空表示全区", verbose_name="范围"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, verbose_name="状态")
    components_changed = models.PositiveIntegerField(null=True, verbose_name="变更部件数")
    queued_at = models.DateTimeField(auto_now_add=True, verbose_name="排队时间")
    finished_at = models.DateTimeField(null=True, verbose_name="完成时间")
    error = models.CharField(max_length=500, blank=True, verbose_name="错误")

    class Meta:
        verbose_name = "部件重新归属网格"
        verbose_name_plural = "部件重新归属网格"
        ordering = ["-queued_at"]


class GridGap(models.Model):
    """A parent grid's area that none of its children covers (a read-only database view)."""

    id = models.BigIntegerField(primary_key=True, help_text="上级网格的 id")
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
