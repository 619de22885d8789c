"""Patrol fixes and what surrounds them. `PatrolFix` lives in a table partitioned by month on
fix_time, which Django cannot declare: migration 0001 records the model in Django's state but creates
the table with SQL (SeparateDatabaseAndState); the model stays managed so test flushes truncate it
(it holds a foreign key to auth_user). See docs/patrols.md. Tracks and positions are SQL views over it (same migration)."""

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField


class PatrolFix(models.Model):
    """One GPS fix of a grid worker, stored in EPSG:4490 whatever CRS the device sent.
    Unique (worker, fix_time): a batch posted twice is stored once."""

    id = models.BigAutoField(primary_key=True)  # in the table the key is (id, fix_time): partition key included
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    device_id = models.CharField(max_length=64, blank=True, default="")
    fix_time = models.DateTimeField("定位时间")
    send_time = models.DateTimeField("发送时间", null=True)
    receive_time = models.DateTimeField("接收时间")
    geom = models.PointField(srid=4490, spatial_index=False)  # the GiST is made on the partitioned table by SQL
    accuracy = models.FloatField("精度(米)", null=True)
    speed = models.FloatField("速度(米/秒)", null=True)
    heading = models.FloatField("方向(度)", null=True)
    source_crs = models.CharField("原坐标系", max_length=16)

    class Meta:
        db_table = "patrols_patrolfix"
        constraints = [models.UniqueConstraint(fields=["worker", "fix_time"], name="patrols_fix_once")]
        verbose_name = "巡查定位点"
        verbose_name_plural = "巡查定位点"


class QuarantinedFix(models.Model):
    """A fix refused as implausible (reason), kept with what the device sent for inspection."""

    class Reason(models.TextChoices):
        FUTURE = "future", "时间超前"
        TOO_OLD = "too_old", "时间过早(GPS周翻转?)"
        NULL_ISLAND = "null_island", "坐标为0,0"
        OUTSIDE = "outside_district", "在辖区范围外"
        INACCURATE = "inaccurate", "精度过差"
        SPEED = "impossible_speed", "速度不可能"

    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="网格员"
    )
    device_id = models.CharField("设备编号", max_length=64, blank=True, default="")
    fix_time = models.DateTimeField("定位时间")
    send_time = models.DateTimeField("发送时间", null=True)
    receive_time = models.DateTimeField("接收时间")
    geom = models.PointField("位置", srid=4490, null=True)  # null when the coordinates could not be converted
    accuracy = models.FloatField("精度(米)", null=True)
    speed = models.FloatField("速度(米/秒)", null=True)
    heading = models.FloatField("方向(度)", null=True)
    source_crs = models.CharField("原坐标系", max_length=16)
    reason = models.CharField("原因", max_length=24, choices=Reason.choices)
    raw = models.JSONField("原始数据")

    class Meta:
        verbose_name = "隔离定位点"
        verbose_name_plural = "隔离定位点"
        indexes = [models.Index(fields=["worker", "fix_time"])]

    def __str__(self):
        return f"{self.get_reason_display()} {self.fix_time:%Y-%m-%d %H:%M:%S}"


class DeviceClock(models.Model):
    """How far a worker's device clock is off (receive - send, seconds), from the last batch."""

    worker = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="网格员"
    )
    device_id = models.CharField("设备编号", max_length=64, blank=True, default="")
    skew_seconds = models.FloatField("时钟偏差(秒)")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "设备时钟"
        verbose_name_plural = "设备时钟"

    def __str__(self):
        return f"{self.device_id or '设备'} 偏差 {self.skew_seconds:+.0f} 秒"


class PatrolAssignment(models.Model):
    """A worker answers for a grid from valid_from to valid_to (open when null)."""

    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name="网格员"
    )
    grid_code = models.CharField("单元网格代码", max_length=32, db_index=True)
    valid_from = models.DateField("生效日期")
    valid_to = models.DateField("失效日期", null=True, blank=True)

    class Meta:
        verbose_name = "网格责任分配"
        verbose_name_plural = "网格责任分配"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="patrols_assignment_period",
            )
        ]

    def __str__(self):
        return f"{self.grid_code} {self.valid_from} 至 {self.valid_to or '今'}"


class TrackDay(models.Model):
    """A worker's day (Asia/Shanghai) as one stored line, refreshed by ingest for the days a batch
    added fixes to (`trackdays.refresh`), so a tile reads lines, not fixes. Simplified copies for
    low zooms (`geom_3857_mid` at z13-15, `geom_3857_low` up to z12) keep low-zoom tiles small and
    cheap; the GiST is on the full line, whose box holds the simplified ones (their vertices are a
    subset). Days with fewer than two fixes have no row (a line needs two points)."""

    id = models.BigIntegerField(primary_key=True)  # worker_id * 100000 + days since 2000-01-01
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    first_time = models.DateTimeField()
    last_time = models.DateTimeField()
    fix_count = models.IntegerField()
    geom = models.LineStringField(srid=4490, spatial_index=False)
    geom_3857 = models.LineStringField(srid=3857)
    geom_3857_mid = models.LineStringField(srid=3857, spatial_index=False)
    geom_3857_low = models.LineStringField(srid=3857, spatial_index=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["worker", "day"], name="patrols_trackday_once")]
        indexes = [models.Index(fields=["day"], name="patrols_trackday_day")]
        verbose_name = "巡查日轨迹"
        verbose_name_plural = "巡查日轨迹"


class Track(models.Model):
    """One line per worker per day (Asia/Shanghai): the view `patrols_track` over TrackDay (with the
    worker's username), the columns the layer and WFS read."""

    id = models.BigIntegerField(primary_key=True)
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False)
    username = models.CharField(max_length=150)
    day = models.DateField()
    first_time = models.DateTimeField()
    last_time = models.DateTimeField()
    fix_count = models.IntegerField()
    geom = models.LineStringField(srid=4490)

    class Meta:
        managed = False
        db_table = "patrols_track"


class Position(models.Model):
    """Each worker's last fix within the on-duty window, a view over the fixes."""

    id = models.BigIntegerField(primary_key=True)
    worker = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False)
    username = models.CharField(max_length=150)
    fix_time = models.DateTimeField()
    accuracy = models.FloatField(null=True)
    speed = models.FloatField(null=True)
    heading = models.FloatField(null=True)
    geom = models.PointField(srid=4490)

    class Meta:
        managed = False
        db_table = "patrols_position"


class GridCoverage(models.Model):
    """How well a base grid was patrolled on a day (layers/patrols/coverage.py; docs/patrols.md)."""

    grid_code = models.CharField("单元网格代码", max_length=32)
    day = models.DateField("日期")
    street_m = models.FloatField("道路长度(米)")
    walked_m = models.FloatField("巡查道路长度(米)")
    street_share = models.FloatField("道路覆盖率", null=True, help_text="已巡道路长度 / 道路总长；为空：网格内无道路")
    area_share = models.FloatField("面积覆盖率")
    minutes = models.FloatField("巡查时长(分钟)")
    workers = ArrayField(models.CharField(max_length=150), default=list, verbose_name="在场网格员")
    worker_minutes = models.JSONField("各网格员时长(分钟)", default=dict)
    computed_at = models.DateTimeField("计算时间")

    class Meta:
        verbose_name = "网格巡查覆盖"
        verbose_name_plural = "网格巡查覆盖"
        constraints = [models.UniqueConstraint(fields=["grid_code", "day"], name="patrols_coverage_grid_day")]
        indexes = [models.Index(fields=["day", "grid_code"])]


class CoverageMap(models.Model):
    """A base grid's coverage on a day with the grid's outline (view patrols_coverage_map)."""

    id = models.BigIntegerField(primary_key=True)
    grid_code = models.CharField(max_length=32)
    grid_name = models.CharField(max_length=100)
    day = models.DateField()
    street_m = models.FloatField()
    walked_m = models.FloatField()
    street_share = models.FloatField(null=True)
    area_share = models.FloatField()
    minutes = models.FloatField()
    workers = models.TextField()
    geom = models.MultiPolygonField(srid=4490)

    class Meta:
        managed = False
        db_table = "patrols_coverage_map"
