"""Who answers for a case at each grid level (网格 / 社区 / 街道 / 区), and the messages the escalation
and reminder tasks leave for users. A reminder is sent once per case, kind and stage: the unique
constraint, not the task's care, is what guarantees it."""

from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q

__all__ = ["Level", "GridStaff", "Notification"]


class Level(models.IntegerChoices):
    """Case.escalation_level: who answers for the case when it goes unclaimed or overdue."""

    GRID = 0, "网格"
    COMMUNITY = 1, "社区"
    STREET = 2, "街道"
    DISTRICT = 3, "区"


class GridStaff(models.Model):
    """A person who answers at one grid level: a base grid's 网格员, a community's 社区网格长, a street's
    街道指挥中心, the district's 区指挥中心. `user` is empty for staff reached only by phone."""

    level = models.PositiveSmallIntegerField("层级", choices=Level.choices)
    grid_code = models.CharField("网格代码", max_length=18, help_text="单元网格、社区、街道或区（6 位行政区划）代码")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="grid_duties",
        verbose_name="账号",
    )
    name = models.CharField("姓名", max_length=50)
    phone = models.CharField("电话", max_length=30, blank=True)
    duty = models.CharField("职务", max_length=50, blank=True, help_text="如 网格员、网格长、值班长")
    active = models.BooleanField("在岗", default=True)

    class Meta:
        verbose_name = "网格责任人"
        verbose_name_plural = "网格责任人"
        ordering = ["level", "grid_code", "name"]
        indexes = [models.Index(fields=["grid_code", "level"], name="grid_staff_code_level_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(level__lte=3), name="grid_staff_level_range"),
            models.CheckConstraint(condition=Q(grid_code__regex=r"^[0-9]{6,18}$"), name="grid_staff_code_digits"),
            models.UniqueConstraint(
                fields=["level", "grid_code", "user"], condition=Q(user__isnull=False), name="grid_staff_user_once"
            ),
        ]

    def __str__(self):
        return f"{self.get_level_display()} {self.grid_code} {self.name}"


class Notification(models.Model):
    class Kind(models.TextChoices):
        WARNING = "warning", "黄灯预警"
        OVERDUE = "overdue", "红灯超期"
        ESCALATED = "escalated", "案件升级"
        ASSIGNED = "assigned", "新派遣案件"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name="接收人"
    )
    case = models.ForeignKey(
        "incidents.Case", on_delete=models.CASCADE, related_name="notifications", verbose_name="案件"
    )
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    # Which stage of the case the message is about (state and when it began, or the level reached):
    # the same reminder is never sent twice for one stage, a new stage may have its own.
    stage_key = models.CharField("阶段标识", max_length=80)
    message = models.CharField("内容", max_length=300)
    created_at = models.DateTimeField("发送时间", auto_now_add=True)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = "消息通知"
        verbose_name_plural = "消息通知"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at", "created_at"], name="notification_inbox_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "case", "kind", "stage_key"], name="notification_once_per_stage"
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["warning", "overdue", "escalated", "assigned"]), name="notification_kind_known"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.case_id} → {self.recipient_id}"
