"""Admins correct a base grid's population (kept through later refreshes: source `admin`); the
safety index itself is computed, so it is shown read-only."""

from django.contrib import admin

from gis_core.admin_services import ReadOnlyAdmin

from .reports_models import GridPopulation, SafetyIndex


@admin.register(GridPopulation)
class GridPopulationAdmin(admin.ModelAdmin):
    list_display = ("grid_code", "population", "as_of", "source")
    list_filter = ("source",)
    search_fields = ("grid_code",)
    readonly_fields = ("source",)

    def save_model(self, request, obj, form, change):
        obj.source = "admin"  # a number typed in here outranks the register and the area estimate
        super().save_model(request, obj, form, change)


@admin.register(SafetyIndex)
class SafetyIndexAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("grid_code", "name", "level", "score", "population", "cases", "weighted_cases", "computed_at")
    list_filter = ("level",)
    search_fields = ("grid_code", "name")
    exclude = ("geom",)
