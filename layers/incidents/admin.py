"""Admins edit the case class catalogue and the routing table here. Cases and their events are
written only through layers.incidents.services (the workflow), so the admin shows them read-only."""

from django.contrib import admin

from gis_core.admin_services import ReadOnlyAdmin

from .models import Case, CaseClass, CaseEvent, RoutingRule


@admin.register(CaseClass)
class CaseClassAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "version", "kind", "parent", "component_class", "requires_asset", "active")
    list_filter = ("version", "kind", "active", "requires_asset")
    search_fields = ("code", "name")
    raw_id_fields = ("parent", "component_class")


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("case_class", "grid_code", "organisation")
    search_fields = ("case_class__code", "grid_code", "organisation__name", "organisation__uscc")
    raw_id_fields = ("case_class", "organisation")


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    fields = ("at", "actor", "action", "from_state", "to_state", "organisation", "note")
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ("number", "state", "case_class", "source", "severity", "assigned_org", "created_at")
    list_filter = ("state", "source", "severity")
    search_fields = ("number", "description", "component__code")
    inlines = [CaseEventInline]


# Each part of the app registers its own admin pages.
from . import escalation_admin, intake_admin, reports_admin  # noqa: E402,F401
from .clock_admin import *  # noqa: E402,F401,F403
from .open311 import admin as open311_admin  # noqa: E402,F401
