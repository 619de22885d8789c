"""pghistory's events admin with Chinese column and filter titles (settings.PGHISTORY_ADMIN_CLASS).
The package registers it itself, for settings.PGHISTORY_ADMIN_MODEL (gis_core.HistoryEvent)."""

from django.apps import apps
from django.contrib import admin
from pghistory.admin import EventsAdmin
from pghistory.admin import core as pgh_admin

from .models import LABELS


class LabelFilter(pgh_admin.LabelFilter):
    title = "事件类型"


class EventModelFilter(pgh_admin.EventModelFilter):
    title = "历史表"


class MethodFilter(pgh_admin.MethodFilter):
    title = "关联方式"


class ObjFilter(pgh_admin.ObjFilter):
    title = "对象"


class ModelFilter(pgh_admin.ModelFilter):
    title = "模型"


class HistoryEventAdmin(EventsAdmin):
    fields = ("created_at", "object_model", "object_id", "label", "diff", "data", "context")
    readonly_fields = fields

    def get_list_display(self, request):
        return ["created_at", "object_model", "object_id", "label", "diff"]

    def get_list_filter(self, request):
        filters = [LabelFilter, EventModelFilter]
        if "obj" in request.GET:
            filters.extend([MethodFilter, ObjFilter, pgh_admin.BackFilter])
        elif "model" in request.GET:
            filters.extend([ModelFilter, pgh_admin.BackFilter])
        return filters

    @admin.display(description="时间", ordering="pgh_created_at")
    def created_at(self, obj):
        return obj.pgh_created_at

    @admin.display(description="对象类型")
    def object_model(self, obj):
        try:
            return apps.get_model(obj.pgh_obj_model)._meta.verbose_name
        except (LookupError, ValueError):
            return obj.pgh_obj_model

    @admin.display(description="对象主键")
    def object_id(self, obj):
        return obj.pgh_obj_id

    @admin.display(description="事件类型")
    def label(self, obj):
        return LABELS.get(obj.pgh_label, obj.pgh_label)

    @admin.display(description="变更内容")
    def diff(self, obj):
        return obj.pgh_diff

    @admin.display(description="完整数据")
    def data(self, obj):
        return obj.pgh_data

    @admin.display(description="操作上下文")
    def context(self, obj):
        return obj.pgh_context
