"""The Django admin for the registry.

Components are written only through the service layer (components.services), as everywhere else:
the admin form calls create_component / update_component while it validates, so a refusal
(ServiceError) is shown on the form like any other validation error. The map widget works offline.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin
from django.contrib.gis.forms import OSMWidget
from django.db import transaction
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from gis_core.admin_services import ReadOnlyAdmin, ServiceBackedAdmin, ServiceBackedForm

from . import history as history_module
from .models import (
    ClassMapping,
    ClassScheme,
    Component,
    ComponentClass,
    ComponentState,
    IdSequence,
    Organisation,
    OwnershipTransfer,
    UserProfile,
)
from .services import ServiceError, create_component, transfer_ownership, update_component
from .services.components import EDITABLE_FIELDS

# --------------------------------------------------------------------------- offline map widget


class OfflineMapWidget(OSMWidget):
    """GeoDjango's OpenLayers widget with OpenLayers served from our static files and no web basemap.

    Django's own widget loads OpenLayers from cdn.jsdelivr.net and tiles from openstreetmap.org; a
    registry on a government intranet reaches neither. OpenLayers 7.2.2 (the version Django 5.2's
    OLMapWidget.js is written for) comes from npm: package.json's postinstall copies dist/ol.js and
    ol.css to node_modules/.gridcity-static/vendor/ol/, which STATICFILES_DIRS serves.
    """

    template_name = "components/admin/offline_map.html"
    default_zoom = 14

    class Media:
        extend = False  # do not inherit the CDN URLs of OpenLayersWidget.Media
        css = {"all": ("vendor/ol/ol.css", "gis/css/ol3.css")}
        js = ("vendor/ol/ol.js", "gis/js/OLMapWidget.js")

    # Drawn under the edited geometry from our WMS: the grid levels and the components themselves.
    context_layers = ("district_grids", "street_grids", "community_grids", "base_grids", "components")

    def __init__(self, attrs=None):
        west, south, east, north = settings.GRIDCITY_DISTRICT_BBOX
        defaults = {"default_lon": (west + east) / 2, "default_lat": (south + north) / 2}
        super().__init__({**defaults, **(attrs or {})})

    def get_context(self, name, value, attrs):
        from django.urls import reverse

        from layers import catalogue

        context = super().get_context(name, value, attrs)
        known = {layer.id for layer in catalogue.layers()}
        context["context_layers"] = ",".join(i for i in self.context_layers if i in known)
        context["context_wms_url"] = reverse("wms")
        return context


class OfflineMapAdmin(GISModelAdmin):
    gis_widget = OfflineMapWidget


# --------------------------------------------------------------------------- components


class ComponentAdminForm(ServiceBackedForm):
    class Meta:
        model = Component
        fields = "__all__"


class TransferInline(admin.TabularInline):
    model = OwnershipTransfer
    fk_name = "component"
    extra = 0
    can_delete = False
    fields = ["role", "from_org", "to_org", "effective_date", "reason", "recorded_by", "recorded_at"]
    readonly_fields = fields
    verbose_name_plural = "权属移交记录 ownership transfers"

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Component)
class ComponentAdmin(ServiceBackedAdmin, OfflineMapAdmin):
    form = ComponentAdminForm
    list_display = ["code", "name", "component_class", "state", "owner", "maintainer", "grid_code", "retired"]
    list_filter = ["state", "retired", "component_class__scheme", "component_class", "owner", "data_source"]
    search_fields = ["code", "name", "location_desc"]
    list_select_related = ["component_class", "state", "owner", "maintainer"]
    autocomplete_fields = ["component_class", "department", "owner", "maintainer"]
    list_per_page = 50
    show_full_result_count = False
    inlines = [TransferInline]
    fieldsets = [
        (None, {"fields": ["code", "component_class", "admin_code", "name", "state"]}),
        ("位置 location", {"fields": ["geom", "location_desc", "street_code", "community_code", "grid_code"]}),
        ("责任单位 organisations", {"fields": ["department", "owner", "maintainer"]}),
        ("登记 record", {"fields": ["census_date", "change_date", "data_source", "note", "attributes"]}),
        ("注销 retirement", {"fields": ["retired", "retired_at", "retired_reason"], "classes": ["collapse"]}),
        ("变更记录 history", {"fields": ["created_at", "updated_at", "history_table"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        always = ["code", "retired", "retired_at", "retired_reason", "created_at", "updated_at", "history_table"]
        if obj is None:
            return always
        # The class and the admin code are part of the ID: fixed once registered.
        fixed = ["component_class", "admin_code"]
        if obj.retired:  # a retired component cannot be changed (the service refuses it too)
            return [f.name for f in Component._meta.fields if f.name != "id"] + ["history_table"]
        return always + fixed

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("admin_code", settings.GRIDCITY_ADMIN_CODE)
        initial.setdefault("state", "intact")
        return initial

    def has_delete_permission(self, request, obj=None):
        # Components are retired (注销), never deleted: their IDs and history stay.
        return False

    # -- writes, all through the service layer

    def save_through_services(self, request, form, change: bool) -> Component:
        """Called by the form while it validates; raises ServiceError for the form to show."""
        data = dict(form.cleaned_data)
        if "attributes" in data and data["attributes"] is None:
            data["attributes"] = {}
        if not change:
            fields = {name: data[name] for name in EDITABLE_FIELDS if name in data}
            return create_component(user=request.user, admin_code=data.get("admin_code") or None, **fields)
        changes = {name: data[name] for name in form.changed_data if name in EDITABLE_FIELDS}
        with transaction.atomic():  # a refusal below undoes the transfers made above
            # The organisations move only by a recorded transfer (the service refuses them in an update).
            for role in ("department", "owner", "maintainer"):
                if role in changes:
                    to_org = changes.pop(role)
                    if to_org is None:
                        raise ServiceError({role: "cannot be emptied: transfer it to another organisation"})
                    transfer_ownership([form.instance], role=role, to_org=to_org, user=request.user, reason="admin")
            if not changes:
                return Component.objects.get(pk=form.instance.pk)
            return update_component(form.instance, user=request.user, **changes)

    @admin.display(description="变更记录 history")
    def history_table(self, obj):
        if obj is None or obj.pk is None:
            return "—"
        rows = history_module.component_history(obj)
        if not rows:
            return "—"
        body = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    timezone.localtime(row["at"]).strftime("%Y-%m-%d %H:%M:%S"),
                    row["action"] or "",
                    row["user"] or "—",
                    format_html_join(
                        mark_safe("<br>"),
                        "{}: {} → {}",
                        ((name, _short(old), _short(new)) for name, (old, new) in row["changes"].items()),
                    )
                    or "—",
                )
                for row in rows
            ),
        )
        return format_html(
            "<table><thead><tr><th>时间</th><th>操作</th><th>用户</th><th>变更</th></tr></thead>"
            "<tbody>{}</tbody></table>",
            body,
        )


def _short(value, limit=80):
    if value is None or value == "":
        return "—"
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- catalogue and organisations


@admin.register(ClassScheme)
class ClassSchemeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "version", "class_code_length"]
    search_fields = ["code", "name"]


@admin.register(ComponentClass)
class ComponentClassAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "major_code", "major_name", "scheme", "active"]
    list_filter = ["scheme", "major_name", "active"]
    search_fields = ["code", "name", "major_name"]
    list_select_related = ["scheme"]


@admin.register(ClassMapping)
class ClassMappingAdmin(admin.ModelAdmin):
    list_display = ["source", "target", "note"]
    search_fields = ["source__code", "source__name", "target__code", "target__name"]
    autocomplete_fields = ["source", "target"]
    list_select_related = ["source", "target"]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "uscc", "kinds", "contact_person", "phone"]
    search_fields = ["name", "uscc", "contact_person"]


@admin.register(ComponentState)
class ComponentStateAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "order", "active"]
    list_editable = ["order", "active"]


@admin.register(OwnershipTransfer)
class OwnershipTransferAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Read-only: transfers are recorded by components.services.transfer_ownership."""

    list_display = ["component", "role", "from_org", "to_org", "effective_date", "reason", "recorded_by", "recorded_at"]
    list_filter = ["role", "effective_date"]
    search_fields = ["component__code", "from_org__name", "to_org__name", "reason"]
    list_select_related = ["component", "component__component_class", "from_org", "to_org", "recorded_by"]
    date_hierarchy = "effective_date"


@admin.register(IdSequence)
class IdSequenceAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Read-only: the counters only grow, and only components.ids moves them."""

    list_display = ["admin_code", "component_class", "last_serial"]
    list_filter = ["admin_code"]
    search_fields = ["admin_code", "component_class__code", "component_class__name"]
    list_select_related = ["component_class"]


@admin.register(UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation"]
    search_fields = ["user__username", "organisation__name", "organisation__uscc"]
    autocomplete_fields = ["organisation"]
    list_select_related = ["user", "organisation"]
