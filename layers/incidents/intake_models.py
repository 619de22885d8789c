"""Intake: the photos of a case's steps, every person who reported a case, and merges of duplicates.

Like the event log, these rows are history. The database keeps them so: a photo once attached to an
event can never change or go, reporters and merges are never updated or deleted (pgtrigger), and an
attached photo's event belongs to the photo's own case."""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import F, Q

from .models import Case, CaseEvent, Source

__all__ = ["CasePhoto", "CaseReporter", "CaseMerge"]

PHOTO_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}

# Only one change is ever allowed to a photo row: attaching an unattached photo to an event (and to
# the case, for a photo sent before its report). Everything else about the row is fixed.
_FIXED = "id, path, content_type, bytes, width, height, sha256, uploaded_by_id, created_at"
_NOT_AN_ATTACH = (
    f"OLD.event_id IS NOT NULL OR NEW.event_id IS NULL "
    f"OR (OLD.case_id IS NOT NULL AND NEW.case_id IS DISTINCT FROM OLD.case_id) "
    f"OR ROW({', '.join('NEW.' + c.strip() for c in _FIXED.split(','))}) "
    f"IS DISTINCT FROM ROW({', '.join('OLD.' + c.strip() for c in _FIXED.split(','))})"
)


class CasePhoto(models.Model):
    """A photo as stored: re-encoded (no EXIF, no GPS), at `path` under MEDIA_ROOT. Uploaded first, then
    attached to the event (report or workflow step) whose body named it; the server path is never shown."""

    case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="photos", verbose_name="案件"
    )
    event = models.ForeignKey(
        CaseEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="photos", verbose_name="办理记录"
    )
    path = models.CharField(
        "存储路径", max_length=200, unique=True, editable=False, help_text="相对于 MEDIA_ROOT 的路径"
    )
    content_type = models.CharField("文件类型", max_length=20, choices=[(t, t) for t in PHOTO_TYPES])
    bytes = models.PositiveIntegerField("字节数")
    width = models.PositiveIntegerField("宽度(像素)")
    height = models.PositiveIntegerField("高度(像素)")
    sha256 = models.CharField("SHA-256 摘要", max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="上传人",
    )
    created_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "案件照片"
        verbose_name_plural = "案件照片"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["uploaded_by", "event"], name="case_photo_pending_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(event__isnull=True) | Q(case__isnull=False), name="case_photo_event_case"
            ),
            models.CheckConstraint(condition=Q(content_type__in=list(PHOTO_TYPES)), name="case_photo_type_known"),
            models.CheckConstraint(
                condition=Q(path__regex=r"^incidents/[0-9]{4}/[0-9]{2}/[0-9a-f]{32}\.(jpg|png|webp)$"),
                name="case_photo_path_shape",
            ),
            models.CheckConstraint(condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="case_photo_sha256_hex"),
            models.CheckConstraint(condition=Q(bytes__gt=0, width__gt=0, height__gt=0), name="case_photo_not_empty"),
        ]
        triggers = [
            pgtrigger.Protect(
                name="case_photo_attach_only",
                operation=pgtrigger.Update,
                condition=pgtrigger.Condition(_NOT_AN_ATTACH),
            ),
            # Unattached uploads nobody used may be swept; attached photos are part of the record.
            pgtrigger.Protect(
                name="case_photo_attached_kept",
                operation=pgtrigger.Delete,
                condition=pgtrigger.Condition("OLD.event_id IS NOT NULL"),
            ),
            pgtrigger.Trigger(
                name="case_photo_event_same_case",
                operation=pgtrigger.Insert | pgtrigger.Update,
                when=pgtrigger.Before,
                condition=pgtrigger.Condition("NEW.event_id IS NOT NULL"),
                func=(
                    "IF NOT EXISTS (SELECT 1 FROM incidents_caseevent e "
                    "WHERE e.id = NEW.event_id AND e.case_id = NEW.case_id) THEN "
                    "RAISE EXCEPTION 'case photo %: its event belongs to another case', NEW.id; "
                    "END IF; RETURN NEW;"
                ),
            ),
        ]

    def __str__(self):
        return f"photo {self.pk}"


class CaseReporter(models.Model):
    """One person who reported the case: its own reporter, and those of the duplicates merged into it
    (`from_case`: the duplicate they came with)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="reporters", verbose_name="案件")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="账号"
    )
    name = models.CharField("姓名", max_length=50, blank=True)
    phone = models.CharField("电话", max_length=20, blank=True)
    source = models.CharField("来源", max_length=20, choices=Source.choices)
    reported_at = models.DateTimeField("上报时间")
    from_case = models.ForeignKey(
        Case, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="合并自案件"
    )

    class Meta:
        verbose_name = "案件上报人"
        verbose_name_plural = "案件上报人"
        ordering = ["reported_at", "id"]
        indexes = [models.Index(fields=["case", "reported_at"], name="case_reporter_case_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(source__in=Source.values), name="case_reporter_source_known"),
            models.CheckConstraint(condition=~Q(from_case=F("case")), name="case_reporter_not_from_itself"),
            models.CheckConstraint(condition=Q(phone__regex=r"^[0-9+() -]*$"), name="case_reporter_phone_shape"),
        ]
        triggers = [
            pgtrigger.Protect(name="case_reporter_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self):
        return f"{self.name or self.user_id} ({self.case_id})"


class CaseMerge(models.Model):
    """A duplicate case merged into the case that is kept. A case is merged away at most once."""

    duplicate = models.OneToOneField(
        Case, on_delete=models.PROTECT, related_name="merged_into_row", verbose_name="重复案件"
    )
    kept = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="merged_from_rows", verbose_name="保留案件")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="操作人",
    )
    at = models.DateTimeField("合并时间", auto_now_add=True)
    note = models.TextField("备注", blank=True)

    class Meta:
        verbose_name = "案件合并"
        verbose_name_plural = "案件合并"
        ordering = ["at", "id"]
        constraints = [models.CheckConstraint(condition=~Q(duplicate=F("kept")), name="case_merge_not_into_itself")]
        triggers = [
            pgtrigger.Protect(name="case_merge_append_only", operation=pgtrigger.Update | pgtrigger.Delete),
        ]

    def __str__(self):
        return f"{self.duplicate_id} -> {self.kept_id}"
