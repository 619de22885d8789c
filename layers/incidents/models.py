"""Cases (事件/案件), their class catalogue, their append-only event log, and the routing table.

The hard rules are the database's: unique case numbers from a per-day counter that only grows,
a valid point, known states, and an event log no UPDATE or DELETE can change (triggers)."""

import pgtrigger
from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q

from components.models import Component, ComponentClass, Organisation

from .workflow import STATE_CHOICES, State


class CaseClass(models.Model):
    """One node of a versioned, multi-level catalogue: a major class (parent empty) or a sub-class.
    Component-anomaly classes name the component class they are about; reports against them snap
    to a component of that class."""

    class Kind(models.TextChoices):
        COMPONENT = "component", "部件类"
        EVENT = "event", "事件类"

    version = models.CharField("目录版本", max_length=20, default="2026", help_text="案件目录版本")
    code = models.CharField("类别代码", max_length=12)
    name = models.CharField("类别名称", max_length=100)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name="上级类别"
    )
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    component_class = models.ForeignKey(
        ComponentClass,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="部件类案件所涉及的部件类别",
        verbose_name="部件类别",
    )
    requires_asset = models.BooleanField("须关联部件", default=False, help_text="上报时须指明（或就近关联）一个部件")
    active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = "案件类别"
        verbose_name_plural = "案件类别"
        ordering = ["version", "code"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="case_class_code_unique"),
            models.CheckConstraint(condition=Q(code__regex=r"^[0-9]{2,12}$"), name="case_class_code_digits"),
            models.CheckConstraint(
                condition=Q(requires_asset=False) | Q(component_class__isnull=False),
                name="case_class_asset_needs_component_class",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class CaseNumberCounter(models.Model):
    """The last serial given out per day: only ever grows, so a number is never given twice."""

    day = models.DateField(primary_key=True)
    last_serial = models.PositiveIntegerField(default=0)


class RoutingRule(models.Model):
    """Which unit answers for a class of case in a grid (any level; empty = everywhere)."""

    case_class = models.ForeignKey(CaseClass, on_delete=models.CASCADE, related_name="routes", verbose_name="案件类别")
    grid_code = models.CharField("网格代码", max_length=18, blank=True)
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+", verbose_name="处置单位")

    class Meta:
        verbose_name = "派遣规则"
        verbose_name_plural = "派遣规则"
        constraints = [models.UniqueConstraint(fields=["case_class", "grid_code"], name="routing_rule_unique")]


class Source(models.TextChoices):
    GRID_WORKER = "grid_worker", "网格员上报"
    HOTLINE = "hotline_12345", "12345 热线"
    CITIZEN = "open311", "市民 (Open311)"
    CAMERA = "camera", "视频监控"
    DISPATCHER = "dispatcher", "调度员"
    UNIT_PATROL = "unit_patrol", "单位巡查"


class Severity(models.TextChoices):
    NORMAL = "normal", "一般"
    MAJOR = "major", "重大"
    URGENT = "urgent", "紧急"


class Case(models.Model):
    Source = Source
    Severity = Severity

    number = models.CharField("案件编号", max_length=14, unique=True, editable=False)
    source = models.CharField("来源", max_length=20, choices=Source.choices)
    case_class = models.ForeignKey(CaseClass, on_delete=models.PROTECT, related_name="cases", verbose_name="案件类别")
    severity = models.CharField("严重程度", max_length=10, choices=Severity.choices, default=Severity.NORMAL)
    description = models.TextField("问题描述", blank=True)
    geom = models.PointField("位置", srid=4490)
    component = models.ForeignKey(
        Component, null=True, blank=True, on_delete=models.PROTECT, related_name="cases", verbose_name="部件"
    )
    # Fixed at registration: a later grid edit does not move an old case to another grid.
    grid_code = models.CharField("单元网格代码", max_length=18, blank=True)
    community_code = models.CharField("社区代码", max_length=18, blank=True)
    street_code = models.CharField("街道代码", max_length=18, blank=True)
    state = models.CharField("状态", max_length=20, choices=STATE_CHOICES, default=State.REPORTED)
    assigned_org = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="cases", verbose_name="处置单位"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name="上报人",
    )
    due_at = models.DateTimeField("本阶段时限", null=True, blank=True, help_text="当前阶段的办理期限")
    warn_at = models.DateTimeField("黄灯时间", null=True, blank=True, help_text="自此时起亮黄灯")
    stage_started_at = models.DateTimeField("本阶段开始时间", null=True, blank=True, help_text="当前阶段开始计时的时间")
    calendar_known = models.BooleanField("日历已录入", default=True, help_text="否：期限跨越了未录入日历的年份")
    # 0 base grid, 1 community, 2 street, 3 district: who answers for the case when it goes unclaimed.
    escalation_level = models.PositiveSmallIntegerField("升级层级", default=0)
    # A repeated report (a phone retrying after a lost answer) carries the same token: one case.
    client_token = models.CharField("提交标识", max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField("上报时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "案件"
        verbose_name_plural = "案件"
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "created_at"], name="case_state_created_idx"),
            models.Index(fields=["assigned_org", "state"], name="case_org_state_idx"),
            models.Index(fields=["grid_code"], name="case_grid_idx"),
            # The list's grid filter matches any of the three codes; its source filter counts by source.
            models.Index(fields=["community_code"], name="case_community_idx"),
            models.Index(fields=["street_code"], name="case_street_idx"),
            models.Index(fields=["source", "created_at"], name="case_source_created_idx"),
            models.Index(fields=["due_at"], name="case_due_idx"),
            # The list's order (newest first): at city scale the first page without a sort of every case.
            models.Index(fields=["-created_at", "-id"], name="case_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(number__regex=r"^[0-9]{14}$"), name="case_number_digits"),
            models.UniqueConstraint(
                fields=["reporter", "client_token"], condition=~Q(client_token=""), name="case_client_token_unique"
            ),
            models.CheckConstraint(condition=Q(geom__isvalid=True), name="case_geom_valid"),
            models.CheckConstraint(condition=Q(state__in=[s for s, _ in STATE_CHOICES]), name="case_state_known"),
            models.CheckConstraint(condition=Q(source__in=Source.values), name="case_source_known"),
            models.CheckConstraint(condition=Q(severity__in=Severity.values), name="case_severity_known"),
            models.CheckConstraint(condition=Q(escalation_level__lte=3), name="case_escalation_level_range"),
        ]

    def __str__(self):
        return self.number


class CaseEvent(models.Model):
    """One step of a case: who did what, when, from which state to which. Rows are only ever added."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="events", verbose_name="案件")
    at = models.DateTimeField("时间", auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="操作人",
    )
    from_state = models.CharField("原状态", max_length=20, blank=True)
    to_state = models.CharField("新状态", max_length=20)
    action = models.CharField("操作", max_length=20)
    note = models.TextField("备注", blank=True)
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="案件派往的单位（派遣、改派）",
        verbose_name="单位",
    )

    class Meta:
        verbose_name = "办理记录"
        verbose_name_plural = "办理记录"
        ordering = ["case", "at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="case_event_case_at_idx")]
        triggers = [
            pgtrigger.Protect(name="case_event_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]


from .clock_models import *  # noqa: E402,F401,F403
from .escalation_models import GridStaff, Level, Notification  # noqa: E402,F401
from .intake_models import *  # noqa: E402,F401,F403
from .open311.models import Open311Client, Open311Request  # noqa: E402,F401
from .reports_models import *  # noqa: E402,F401,F403
