"""The case class catalogue every installation starts with (STANDARDS.md: component-anomaly classes
per component class, event classes 06-10). Idempotent; admins extend it in the admin."""

from django.db import transaction

VERSION = "2026"
# (code, name, parent code, kind, component class code or None, requires an asset)
CLASSES = [
    ("01", "公用设施类部件问题", None, "component", None, False),
    ("0101", "上水井盖破损或丢失", "01", "component", "0101", True),
    ("0102", "污水井盖破损或丢失", "01", "component", "0102", True),
    ("0118", "路灯不亮或损坏", "01", "component", "0118", True),
    ("06", "市容环境类", None, "event", None, False),
    ("06010", "暴露垃圾", "06", "event", None, False),
    ("06013", "道路破损", "06", "event", None, False),
    ("06042", "垃圾站满溢", "06", "event", None, False),
    ("07", "宣传广告类", None, "event", None, False),
    ("08", "施工管理类", None, "event", None, False),
    ("09", "街面秩序类", None, "event", None, False),
    ("09005", "店外经营", "09", "event", None, False),
    ("09006", "占道经营", "09", "event", None, False),
    ("09010", "占用消防通道", "09", "event", None, False),
    ("10", "其他事项类", None, "event", None, False),
]


@transaction.atomic
def seed_case_classes() -> int:
    from components.models import ComponentClass

    from .models import CaseClass

    by_code = {}
    for code, name, parent, kind, component_class, requires_asset in CLASSES:
        cls = ComponentClass.objects.filter(code=component_class).first() if component_class else None
        by_code[code], _ = CaseClass.objects.update_or_create(
            version=VERSION,
            code=code,
            defaults={
                "name": name,
                "parent": by_code.get(parent),
                "kind": kind,
                "component_class": cls,
                "requires_asset": requires_asset and cls is not None,
            },
        )
    return len(CLASSES)
