"""Admins see Open311 clients, switch them off and set their rate; keys are made only by
`manage.py open311_client` (shown once), so the admin never shows or edits one."""

from django.contrib import admin

from .models import Open311Client


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin):
    list_display = ("name", "active", "rate_limit_per_minute", "created_at")
    list_filter = ("active",)
    search_fields = ("name",)
    fields = ("name", "active", "rate_limit_per_minute", "user", "created_at")
    readonly_fields = ("name", "user", "created_at")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
