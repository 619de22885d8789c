"""The case class catalogue every installation starts with (STANDARDS.md: component-anomaly classes
per component class, event classes 06-10). Idempotent; admins extend it in the admin."""

from django.db import transaction

from .clock_seed import seed_time_limits

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


# Component majors of GB/T 30428.2 and the anomaly major they fall under: 01-05 one to one, and the
# old scheme's 06 其他设施 under 05 (06 is the event class 市容环境类 in the new catalogue).
ANOMALY_MAJORS = {
    "01": "公用设施类部件问题",
    "02": "道路交通类部件问题",
    "03": "市容环境类部件问题",
    "04": "园林绿化类部件问题",
    "05": "房屋土地及其他设施类部件问题",
}


def _anomaly_rows() -> list[tuple]:
    """One anomaly sub-class per component class of the registry's scheme (code = the component class
    code), under its major; the explicitly listed classes keep their names."""
    from components.models import ComponentClass

    listed = {row[0] for row in CLASSES}
    rows = [(code, name, None, "component", None, False) for code, name in ANOMALY_MAJORS.items() if code not in listed]
    for cls in ComponentClass.objects.filter(scheme__code="gbt30428").order_by("code"):
        if cls.code in listed:
            continue
        major = cls.major_code if cls.major_code in ANOMALY_MAJORS else "05"
        rows.append((cls.code, f"{cls.name}问题", major, "component", cls.code, False))
    return rows


@transaction.atomic
def seed_case_classes() -> int:
    from components.models import ComponentClass

    from .models import CaseClass

    by_code = {}
    # Majors first: a sub-class names its parent.
    rows = sorted(CLASSES + _anomaly_rows(), key=lambda row: (row[2] is not None, row[0]))
    for code, name, parent, kind, component_class, requires_asset in rows:
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
    seed_time_limits()
    return len(rows)
