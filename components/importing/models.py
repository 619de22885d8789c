"""An import run: its options, progress and outcome, readable from the API while the task runs."""

import uuid

from django.conf import settings
from django.db import models


class ImportJob(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "排队中"
        RUNNING = "running", "导入中"
        SUCCEEDED = "succeeded", "已完成"
        FAILED = "failed", "失败"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    phase = models.CharField(max_length=20, blank=True, help_text="读取、校验、写入、完成")
    file = models.CharField(max_length=500, help_text="上传文件在共享存储上的路径")
    filename = models.CharField(max_length=255, blank=True)
    srid = models.CharField(max_length=40, blank=True)
    encoding = models.CharField(max_length=40, blank=True)
    mapping = models.JSONField(default=dict, blank=True)
    dry_run = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    rows_per_s = models.FloatField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="[{行, 字段, 原因}]，最多前 1000 条")
    message = models.TextField(blank=True)

    class Meta:
        app_label = "components"
        ordering = ["-created_at"]

    def as_dict(self) -> dict:
        return {
            "id": str(self.id),
            "status": self.status,
            "phase": self.phase,
            "filename": self.filename,
            "dry_run": self.dry_run,
            "rows_total": self.rows_total,
            "rows_done": self.rows_done,
            "rows_per_s": round(self.rows_per_s, 1),
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "error_count": self.error_count,
            "errors": self.errors,
            "message": self.message,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
        }
