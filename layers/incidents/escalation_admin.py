"""Admins keep the grid staff (who answers at each level) here; notifications are written only by the
escalation and reminder tasks and the workflow, so they are shown read-only."""

from django.contrib import admin

from gis_core.admin_services import ReadOnlyAdmin

from .escalation_models import GridStaff, Notification


@admin.register(GridStaff)
class GridStaffAdmin(admin.ModelAdmin):
    list_display = ("level", "grid_code", "name", "duty", "phone", "user", "active")
    list_filter = ("level", "active")
    search_fields = ("grid_code", "name", "phone", "user__username")
    raw_id_fields = ("user",)


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("created_at", "recipient", "case", "kind", "message", "read_at")
    list_filter = ("kind",)
    search_fields = ("case__number", "recipient__username", "message")
    raw_id_fields = ("recipient", "case")
