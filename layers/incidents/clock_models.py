"""The clock's tables: time limits per (stage, class, severity), the database calendar (holidays and
make-up working days, years entered completely), working hours per unit, and the amounts of 延期
(extension) requests and decisions.

Rules that must hold are CHECKs and unique constraints; `deadlines.py` reads these tables and
`clock.py` computes. See docs/incidents-clock.md."""

from datetime import time

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Func, Q
from django.db.models.lookups import Exact

from components.models import Organisation

from .clock import Unit, WorkingHours

__all__ = ["TimeLimit", "CalendarOverride", "CalendarYear", "WorkingHoursSetting", "CaseExtension", "Stage"]

UNIT_CHOICES = [
    (Unit.WORKING_MINUTES.value, "工作分钟"),
    (Unit.WORKING_HOURS.value, "工作时"),
    (Unit.WORKING_DAYS.value, "工作日"),
    (Unit.CALENDAR_MINUTES.value, "自然分钟"),
    (Unit.CALENDAR_HOURS.value, "自然小时"),
    (Unit.CALENDAR_DAYS.value, "自然日"),
]
UNIT_VALUES = [value for value, _ in UNIT_CHOICES]
DAY_UNITS = [Unit.WORKING_DAYS.value, Unit.CALENDAR_DAYS.value]
# models.Severity's values (not imported: models.py imports this module); "" = any severity.
SEVERITY_CHOICES = [("", "任意"), ("normal", "一般"), ("major", "重大"), ("urgent", "紧急")]


class Stage(models.TextChoices):
    """The stages a clock runs in (STANDARDS.md: 受理/立案/派遣 -> 处置 -> 核查)."""

    DISPATCH = "dispatch", "受理派遣"  # reported until dispatched (待受理)
    HANDLE = "handle", "处置"  # dispatched until handled (立案派遣, 处理中, 督查)
    VERIFY = "verify", "核查结案"  # handled until closed (核查结案)


def _whole_days() -> Q:
    # A limit in days must be a whole number (clock.Limit refuses parts of a day).
    return ~Q(unit__in=DAY_UNITS) | Q(amount=models.Func(models.F("amount"), function="TRUNC"))


class TimeLimit(models.Model):
    """How long a stage may take. Empty class = every class without a row of its own (a major class's
    row applies to its sub-classes); empty severity = any severity. The most specific row wins."""

    stage = models.CharField("阶段", max_length=10, choices=Stage.choices)
    case_class = models.ForeignKey(
        "incidents.CaseClass",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="time_limits",
        verbose_name="案件类别",
        help_text="留空：未单独设置的类别使用此默认值",
    )
    severity = models.CharField("紧急程度", max_length=10, blank=True, default="", help_text="留空：任何紧急程度")
    amount = models.DecimalField("时限", max_digits=8, decimal_places=2)
    unit = models.CharField("单位", max_length=20, choices=UNIT_CHOICES)
    warn_fraction = models.DecimalField(
        "黄灯比例",
        max_digits=3,
        decimal_places=2,
        default=0.2,
        help_text="剩余时间少于此比例时亮黄灯",
    )
    note = models.CharField("依据", max_length=200, blank=True, help_text="时限的出处")

    class Meta:
        verbose_name = "处置时限"
        verbose_name_plural = "处置时限"
        ordering = ["stage", "case_class__code", "severity"]
        constraints = [
            models.UniqueConstraint(
                fields=["stage", "case_class", "severity"], nulls_distinct=False, name="time_limit_unique"
            ),
            models.CheckConstraint(condition=Q(stage__in=Stage.values), name="time_limit_stage_known"),
            models.CheckConstraint(condition=Q(unit__in=UNIT_VALUES), name="time_limit_unit_known"),
            models.CheckConstraint(
                condition=Q(severity__in=[value for value, _ in SEVERITY_CHOICES]),
                name="time_limit_severity_known",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="time_limit_amount_positive"),
            models.CheckConstraint(condition=_whole_days(), name="time_limit_days_whole"),
            models.CheckConstraint(
                condition=Q(warn_fraction__gte=0) & Q(warn_fraction__lt=1), name="time_limit_warn_fraction_range"
            ),
        ]

    def __str__(self):
        who = self.case_class.code if self.case_class_id else "默认"
        return f"{self.get_stage_display()} {who} {self.severity or '任意'}: {self.amount:g} {self.get_unit_display()}"


class CalendarOverride(models.Model):
    """A day that is not what the weekend rule says: a public holiday (working False) or a make-up
    working day (调休, working True). Copied from `chinesecalendar` by `manage.py load_holidays`,
    extended by admins for years the package does not cover yet."""

    date = models.DateField("日期", unique=True)
    working = models.BooleanField("上班", help_text="勾选：上班日（调休）；不勾选：休息日")
    note = models.CharField("说明", max_length=100, blank=True)

    class Meta:
        verbose_name = "节假日/调休"
        verbose_name_plural = "节假日/调休"
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {'上班' if self.working else '休息'} {self.note}".strip()


class CalendarYear(models.Model):
    """A year whose holidays and make-up days are all in CalendarOverride: its other days follow the
    weekend rule and deadlines through it are not flagged."""

    year = models.PositiveSmallIntegerField("年份", unique=True)
    note = models.CharField("来源", max_length=100, blank=True, help_text="如 国务院办公厅通知 或 chinesecalendar")

    class Meta:
        verbose_name = "已录入年份"
        verbose_name_plural = "已录入年份"
        ordering = ["year"]
        constraints = [
            models.CheckConstraint(condition=Q(year__gte=1949) & Q(year__lte=2200), name="calendar_year_range")
        ]

    def __str__(self):
        return str(self.year)


def parse_periods(value) -> WorkingHours:
    """[["08:30", "12:00"], ["13:30", "17:30"]] -> WorkingHours; ValidationError naming the fault."""
    if not isinstance(value, list) or not value:
        raise ValidationError({"periods": 'a list of [from, to] pairs, e.g. [["08:30", "12:00"]]'})
    periods = []
    for pair in value:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not all(isinstance(t, str) for t in pair):
            raise ValidationError({"periods": f'{pair!r}: each period is a pair of "HH:MM" times'})
        try:
            begin, end = (time.fromisoformat(t) for t in pair)
        except ValueError:
            raise ValidationError({"periods": f'{pair!r}: times are "HH:MM"'}) from None
        periods.append((begin, end))
    try:
        return WorkingHours(tuple(periods))
    except ValueError as exc:
        raise ValidationError({"periods": str(exc)}) from None


class WorkingHoursSetting(models.Model):
    """The working periods of a unit's working days (empty organisation = the default for every unit
    without a row, and for the dispatch desk)."""

    organisation = models.OneToOneField(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name="单位",
        help_text="留空：默认值",
    )
    periods = models.JSONField(
        "工作时段", help_text='本地时间，按先后排列、互不重叠：[["08:30", "12:00"], ["13:30", "17:30"]]'
    )

    class Meta:
        verbose_name = "工作时间"
        verbose_name_plural = "工作时间"
        constraints = [
            # One default row: NULL organisations are not distinct here.
            models.UniqueConstraint(
                fields=["organisation"], nulls_distinct=False, name="working_hours_one_per_organisation"
            ),
            models.CheckConstraint(
                condition=Exact(Func(F("periods"), function="jsonb_typeof", output_field=models.CharField()), "array"),
                name="working_hours_periods_array",
            ),
        ]

    def clean(self):
        parse_periods(self.periods)

    def save(self, *args, **kwargs):
        parse_periods(self.periods)  # every write path, not only forms
        super().save(*args, **kwargs)

    def hours(self) -> WorkingHours:
        return parse_periods(self.periods)

    def __str__(self):
        who = self.organisation.name if self.organisation_id else "默认"
        return f"{who}: " + ", ".join(f"{a}-{b}" for a, b in self.periods)


class CaseExtension(models.Model):
    """The amount of one 延期 event: requested (request_extension) or granted (approve_extension).
    One row per event, written with it and never changed, like the event log itself."""

    event = models.OneToOneField(
        "incidents.CaseEvent", on_delete=models.PROTECT, related_name="extension", verbose_name="办理记录"
    )
    amount = models.DecimalField("延期时长", max_digits=8, decimal_places=2)
    unit = models.CharField("单位", max_length=20, choices=UNIT_CHOICES)

    class Meta:
        verbose_name = "延期"
        verbose_name_plural = "延期"
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="case_extension_amount_positive"),
            models.CheckConstraint(condition=Q(unit__in=UNIT_VALUES), name="case_extension_unit_known"),
            models.CheckConstraint(condition=_whole_days(), name="case_extension_days_whole"),
        ]
