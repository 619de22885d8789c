"""Cameras are written by their service only (REST, WFS-T, import): the admin is for looking."""

from django.contrib import admin

from gis_core.admin_services import ReadOnlyAdmin

from .models import Camera


@admin.register(Camera)
class CameraAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("device_id", "name", "state", "ptz", "azimuth", "h_fov", "range_m", "grid_code", "updated_at")
    list_filter = ("state", "ptz")
    search_fields = ("device_id", "name", "grid_code")
