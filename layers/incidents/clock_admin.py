"""Admins edit the clock tables here. Every save or delete recomputes the open cases' deadlines after
commit (clock_tasks: in the worker), so the queue and the lights follow the new values."""

from django.contrib import admin

from gis_core.admin_services import ReadOnlyAdmin

from .clock_models import CalendarOverride, CalendarYear, CaseExtension, TimeLimit, WorkingHoursSetting


@admin.register(TimeLimit)
class TimeLimitAdmin(admin.ModelAdmin):
    list_display = ("stage", "case_class", "severity", "amount", "unit", "warn_fraction", "note")
    list_filter = ("stage", "unit", "severity")
    search_fields = ("case_class__code", "case_class__name", "note")
    raw_id_fields = ("case_class",)


@admin.register(CalendarOverride)
class CalendarOverrideAdmin(admin.ModelAdmin):
    list_display = ("date", "working", "note")
    list_filter = ("working",)
    search_fields = ("note",)
    date_hierarchy = "date"


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ("year", "note")


@admin.register(WorkingHoursSetting)
class WorkingHoursSettingAdmin(admin.ModelAdmin):
    list_display = ("__str__", "organisation")
    raw_id_fields = ("organisation",)


@admin.register(CaseExtension)
class CaseExtensionAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("event", "amount", "unit")
