"""Our case classes as Open311 services: every leaf class is a service, its code the service_code,
its major class the group. The attributes a client may send with a request are defined here."""

from dataclasses import dataclass, field

from ..models import CaseClass, Severity

SEVERITY_NAMES = dict(Severity.choices)


@dataclass(frozen=True)
class Attribute:
    code: str
    datatype: str
    description: str
    order: int
    required: bool = False
    datatype_description: str = ""
    values: list = field(default_factory=list)  # [(key, name)] for the list datatypes

    def as_dict(self) -> dict:
        return {
            "variable": True,
            "code": self.code,
            "datatype": self.datatype,
            "required": self.required,
            "datatype_description": self.datatype_description,
            "order": self.order,
            "description": self.description,
            "values": [{"key": k, "name": n} for k, n in self.values],
        }


SEVERITY = Attribute(
    code="severity",
    datatype="singlevaluelist",
    description="严重程度 (默认 一般)",
    order=2,
    values=list(Severity.choices),
)


def component_attribute(cls: CaseClass) -> Attribute:
    radius = _radius()
    name = cls.component_class.name
    return Attribute(
        code="component_id",
        datatype="string",
        description=f"{name}的部件标识码 (铭牌或二维码上的编号); 不填则取 {radius:g} 米内最近的{name}",
        datatype_description="16 或 17 位数字 (GB/T 30428 或 GB/T 47678)",
        order=1,
        # Snapping finds the asset when the citizen stands near it, so the ID is never required here.
        required=False,
    )


def _radius() -> float:
    from .. import services

    return services.snap_radius_m()


def attributes_of(cls: CaseClass) -> list[Attribute]:
    attributes = [SEVERITY]
    if cls.component_class_id is not None:
        attributes.insert(0, component_attribute(cls))
    return attributes


def leaf_classes() -> list[CaseClass]:
    """Active classes without sub-classes, the newest catalogue version of each code (as
    services.find_class picks them), ordered by code."""
    rows = (
        CaseClass.objects.filter(active=True, children__isnull=True)
        .select_related("parent__parent", "component_class")
        .order_by("code", "-version")
    )
    newest = {}
    for cls in rows:
        newest.setdefault(cls.code, cls)
    return list(newest.values())


def find_leaf(code) -> CaseClass | None:
    if not isinstance(code, str) or not code.isascii() or not code.isdigit() or len(code) > 12:
        return None
    cls = (
        CaseClass.objects.filter(code=code, active=True)
        .select_related("parent__parent", "component_class")
        .order_by("-version")
        .first()
    )
    return cls if cls is not None and not cls.children.exists() else None


def major_of(cls: CaseClass) -> CaseClass:
    seen = 0
    while cls.parent_id is not None and seen < 10:
        cls, seen = cls.parent, seen + 1
    return cls


def service(cls: CaseClass) -> dict:
    major = major_of(cls)
    keywords = [major.name]
    if cls.component_class_id is not None:
        keywords.insert(0, cls.component_class.name)
    kind = cls.get_kind_display()
    return {
        "service_code": cls.code,
        "service_name": cls.name,
        "description": f"{kind}: {cls.name}" + ("; 须关联部件" if cls.requires_asset else ""),
        "metadata": bool(attributes_of(cls)),
        "type": "realtime",
        "keywords": ", ".join(keywords),
        "group": major.name,
    }


def definition(cls: CaseClass) -> dict:
    return {"service_code": cls.code, "attributes": [a.as_dict() for a in attributes_of(cls)]}
