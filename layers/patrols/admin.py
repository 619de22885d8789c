"""Admins inspect quarantined fixes and device clocks (written by ingest only, so read-only here) and
keep the worker-to-grid assignments."""

from django.contrib import admin

from gis_core.admin_services import ReadOnlyAdmin

from .models import DeviceClock, PatrolAssignment, QuarantinedFix


@admin.register(QuarantinedFix)
class QuarantinedFixAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("worker", "fix_time", "reason", "source_crs", "accuracy", "receive_time")
    list_filter = ("reason", "source_crs")
    search_fields = ("worker__username", "device_id")
    date_hierarchy = "fix_time"


@admin.register(DeviceClock)
class DeviceClockAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("worker", "device_id", "skew_seconds", "updated_at")
    search_fields = ("worker__username", "device_id")


@admin.register(PatrolAssignment)
class PatrolAssignmentAdmin(admin.ModelAdmin):
    list_display = ("worker", "grid_code", "valid_from", "valid_to")
    search_fields = ("worker__username", "grid_code")
    raw_id_fields = ("worker",)
