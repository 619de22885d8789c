"""Tables of the reports part (issue 10 section 5): stage deadlines as the clock set them, grid
populations, and the materialised 平安指数 (safety index) the choropleth layers read."""

from django.contrib.gis.db import models
from django.db.models import Q

__all__ = ["CaseStageDeadline", "GridPopulation", "SafetyIndex"]


class CaseStageDeadline(models.Model):
    """The deadline the clock gave a case while it was in a state. Case.due_at keeps only the current
    stage's; reports need the deadline of stages already left to judge them on time, so the last
    value seen for each (case, state) is kept here (written after each step, see reports_signals)."""

    case = models.ForeignKey("incidents.Case", on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=20)
    due_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "state"], name="case_stage_deadline_unique")]


class GridPopulation(models.Model):
    """Residents of a base grid on a date (户籍 + 常住 as the grid office counts them)."""

    grid_code = models.CharField("网格代码", max_length=18, unique=True)
    population = models.PositiveIntegerField("人口")
    as_of = models.DateField("统计日期")
    # Where the number came from: the grid register, an estimate from the area, or typed in by an admin.
    source = models.CharField(
        "数据来源",
        max_length=10,
        default="grid",
        choices=[("grid", "网格登记"), ("area", "按面积估算"), ("admin", "管理员录入")],
    )

    class Meta:
        ordering = ["grid_code"]
        verbose_name = "网格人口"
        verbose_name_plural = "网格人口"
        constraints = [
            models.CheckConstraint(condition=Q(grid_code__regex=r"^[0-9]{6,18}$"), name="grid_population_code_digits"),
            models.CheckConstraint(condition=Q(source__in=["grid", "area", "admin"]), name="grid_population_source"),
        ]

    def __str__(self):
        return f"{self.grid_code} {self.population}"


class SafetyIndex(models.Model):
    """平安指数 of one base grid (level 4) or community (level 3), rebuilt whole by
    safety_index.refresh(); the `safety_index` layers draw it."""

    grid_code = models.CharField("网格代码", max_length=18, unique=True)
    name = models.CharField("名称", max_length=100)
    level = models.PositiveSmallIntegerField("网格层级")
    geom = models.MultiPolygonField("范围", srid=4490)
    population = models.PositiveIntegerField("人口", null=True)
    cases = models.PositiveIntegerField("案件数", default=0)
    weighted_cases = models.FloatField("加权案件数", default=0)
    rate_per_1000 = models.FloatField("千人案件率", null=True)
    score = models.FloatField("平安指数", null=True, help_text="0–100，越高越平安；无人口数据时为空")
    window_days = models.PositiveSmallIntegerField("统计天数")
    computed_at = models.DateTimeField("计算时间")

    class Meta:
        ordering = ["grid_code"]
        verbose_name = "平安指数"
        verbose_name_plural = "平安指数"
        constraints = [
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100), name="safety_index_range"
            ),
        ]


from . import reports_signals  # noqa: E402,F401  (connects the stage-deadline recorder)
