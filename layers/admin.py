from django.contrib import admin

from components.admin import OfflineMapAdmin
from gis_core.admin_services import ReadOnlyAdmin, ServiceBackedAdmin, ServiceBackedForm

from .grids import services
from .models import Grid, GridLevel, GridReassignment, GridStaff, GridVersion


class GridAdminForm(ServiceBackedForm):
    class Meta:
        model = Grid
        fields = ["code", "name", "level", "parent_code", "geom", "organisation", "population", "households"]


class GridStaffInline(admin.TabularInline):
    model = GridStaff
    extra = 0


@admin.register(Grid)
class GridAdmin(ServiceBackedAdmin, OfflineMapAdmin):
    """Grid edits through the grid services: the topology rules refuse bad edits with a message."""

    form = GridAdminForm
    list_display = ["code", "name", "level", "parent_code", "area_m2", "version"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    readonly_fields = ["area_m2", "version", "valid_from"]
    inlines = [GridStaffInline]

    def get_readonly_fields(self, request, obj=None):
        fixed = ["code", "level", "parent_code"] if obj is not None else []
        return [*self.readonly_fields, *fixed]

    def save_through_services(self, request, form, change: bool):
        data = form.cleaned_data
        if not change:
            return services.create_grid(**{k: data[k] for k in GridAdminForm.Meta.fields if k in data})
        changes = {k: data[k] for k in form.changed_data if k in services.EDITABLE}
        if not changes:
            return Grid.objects.get(pk=form.instance.pk)
        return services.update_grid(form.instance.code, **changes)

    def has_delete_permission(self, request, obj=None):
        # A grid with children cannot be deleted (the database refuses it too): offer no button.
        if obj is not None and Grid.objects.filter(parent_code=obj.code).exists():
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        services.delete_grid(obj.code)

    def delete_queryset(self, request, queryset):
        for grid in queryset.order_by("-level_id"):  # children before parents
            services.delete_grid(grid.code)


@admin.register(GridVersion)
class GridVersionAdmin(ReadOnlyAdmin, OfflineMapAdmin):
    list_display = ["code", "version", "name", "valid_from", "valid_to"]
    search_fields = ["code", "name"]


admin.site.register(GridLevel)
admin.site.register(GridReassignment)
