"""Photos, reporters and merges in the admin, read-only: they are written only by the intake services
(layers.incidents.photos, reporters, merging). A photo's server path is not shown."""

from django.contrib import admin
from django.utils.html import format_html

from gis_core.admin_services import ReadOnlyAdmin

from .intake_models import CaseMerge, CasePhoto, CaseReporter
from .photos import url_of


@admin.register(CasePhoto)
class CasePhotoAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("number", "case", "event", "content_type", "width", "height", "bytes", "uploaded_by", "created_at")
    list_filter = ("content_type",)
    search_fields = ("case__number", "sha256")
    fields = (
        "case",
        "event",
        "content_type",
        "width",
        "height",
        "bytes",
        "sha256",
        "uploaded_by",
        "created_at",
        "view",
    )
    readonly_fields = fields

    @admin.display(description="照片编号", ordering="id")
    def number(self, obj):
        return obj.pk

    @admin.display(description="照片")
    def view(self, obj):
        return format_html('<a href="{}">{}</a>', url_of(obj.pk), url_of(obj.pk))


@admin.register(CaseReporter)
class CaseReporterAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("case", "name", "phone", "source", "reported_at", "from_case", "user")
    list_filter = ("source",)
    search_fields = ("case__number", "name", "phone")


@admin.register(CaseMerge)
class CaseMergeAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("duplicate", "kept", "by", "at", "note")
    search_fields = ("duplicate__number", "kept__number")
