"""The component registry: class catalogue, organisations, components and their history."""

import pghistory
from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q

from .uscc import validate_uscc


class ClassScheme(models.Model):
    """A classification generation: GB/T 30428 (16-digit IDs), GB/T 47678 (17-digit), local."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=100)
    version = models.CharField(max_length=32, blank=True)
    class_code_length = models.PositiveSmallIntegerField(help_text="4 (GB/T 30428) or 5 (GB/T 47678)")

    class Meta:
        ordering = ["code"]

    @property
    def id_length(self) -> int:
        # 6 admin digits + class code + 6 serial digits.
        return 6 + self.class_code_length + 6

    def __str__(self):
        return f"{self.name} {self.version}".strip()


class ComponentClass(models.Model):
    scheme = models.ForeignKey(ClassScheme, on_delete=models.PROTECT, related_name="classes")
    code = models.CharField(max_length=5, help_text="major (2 digits) + minor (2 or 3 digits)")
    major_code = models.CharField(max_length=2)
    major_name = models.CharField(max_length=50)
    name = models.CharField(max_length=100)
    # Per-class extension attributes: {"field": {"type": "string|number|integer|boolean",
    # "required": bool, "enum": [...], "min": n, "max": n, "max_length": n, "label": "..."}}
    attribute_schema = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["scheme", "code"]
        constraints = [
            # Global, not per scheme: the class code is part of the component ID, which must be unique.
            models.UniqueConstraint(fields=["code"], name="class_code_unique"),
            models.CheckConstraint(condition=Q(code__regex=r"^[0-9]{4,5}$"), name="class_code_digits"),
        ]
        verbose_name_plural = "component classes"

    def __str__(self):
        return f"{self.code} {self.name}"


class ClassMapping(models.Model):
    """Old-to-new class codes: a table, because the new codes are not arithmetic on the old."""

    source = models.ForeignKey(ComponentClass, on_delete=models.CASCADE, related_name="mapped_to")
    target = models.ForeignKey(ComponentClass, on_delete=models.CASCADE, related_name="mapped_from")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "target"], name="class_mapping_unique")]


class Organisation(models.Model):
    class Kind(models.TextChoices):
        DEPARTMENT = "department", "主管部门"
        OWNER = "owner", "权属单位"
        MAINTAINER = "maintainer", "养护单位"
        OTHER = "other", "其他"

    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True, validators=[validate_uscc])
    name = models.CharField(max_length=200)
    kinds = models.JSONField(default=list, help_text="subset of department, owner, maintainer, other")
    contact_person = models.CharField(max_length=50, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    address = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(uscc__regex=r"^[0-9A-HJ-NPQRTUWXY]{18}$"), name="uscc_format")
        ]

    def __str__(self):
        return self.name


class ComponentState(models.Model):
    """Configurable states: 完好 / 破损 / 丢失 / 废弃 / 移除, and local additions such as 占用."""

    code = models.SlugField(max_length=20, unique=True)
    name = models.CharField(max_length=20, unique=True)
    order = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "code"]

    def __str__(self):
        return self.name


class DataSource(models.TextChoices):
    SURVEYED = "surveyed", "实测"
    TOPOGRAPHIC = "topographic", "地形图"
    BASE_GEODATA = "base_geodata", "基础地理数据"
    OTHER = "other", "其他"


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["updated_at"],
    model_name="ComponentEvent",
)
class Component(models.Model):
    code = models.CharField("标识码", max_length=17)
    component_class = models.ForeignKey(
        ComponentClass, on_delete=models.PROTECT, related_name="components", db_index=False
    )
    name = models.CharField(max_length=200, blank=True)
    geom = models.GeometryField(srid=4490)
    admin_code = models.CharField(max_length=6)
    street_code = models.CharField(max_length=9, blank=True)
    community_code = models.CharField(max_length=12, blank=True)
    grid_code = models.CharField(max_length=15, blank=True)
    location_desc = models.CharField(max_length=200, blank=True)
    department = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="owned_components"
    )
    maintainer = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="maintained_components"
    )
    state = models.ForeignKey(
        ComponentState, on_delete=models.PROTECT, to_field="code", db_column="state_code", db_index=False
    )
    census_date = models.DateField(null=True, blank=True)
    change_date = models.DateField(null=True, blank=True)
    data_source = models.CharField(max_length=20, choices=DataSource.choices, default=DataSource.SURVEYED)
    note = models.TextField(blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    retired = models.BooleanField(default=False)
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["code"]
        # Every index is paid for on each write (1M-row imports): only those the queries use, and no
        # varchar_pattern_ops twins (nothing searches these codes by prefix).
        indexes = [
            models.Index(fields=["component_class", "state"], name="component_class_state_idx"),
            models.Index(fields=["street_code"], name="component_street_idx"),
            models.Index(fields=["community_code"], name="component_community_idx"),
            models.Index(fields=["grid_code"], name="component_grid_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="component_code_unique"),
            models.CheckConstraint(condition=Q(code__regex=r"^[0-9]{16,17}$"), name="component_code_digits"),
            models.CheckConstraint(condition=Q(admin_code__regex=r"^[0-9]{6}$"), name="component_admin_code_digits"),
            models.CheckConstraint(condition=Q(geom__isvalid=True), name="component_geom_valid"),
            models.CheckConstraint(
                condition=Q(retired=False) | Q(retired_at__isnull=False), name="component_retired_has_time"
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name or self.component_class.name}"


class OwnershipTransfer(models.Model):
    """A dated change of department, owner or maintainer, recorded as an act in its own right."""

    class Role(models.TextChoices):
        DEPARTMENT = "department", "主管部门"
        OWNER = "owner", "权属单位"
        MAINTAINER = "maintainer", "养护单位"

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="transfers")
    role = models.CharField(max_length=20, choices=Role.choices)
    from_org = models.ForeignKey(Organisation, null=True, on_delete=models.PROTECT, related_name="+")
    to_org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+")
    effective_date = models.DateField()
    reason = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-effective_date", "-id"]


class ComponentPhoto(models.Model):
    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="photos")
    image = models.FileField(upload_to="component-photos/%Y/%m/")
    caption = models.CharField(max_length=200, blank=True)
    taken_at = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)


class IdSequence(models.Model):
    """Last serial handed out per (admin code, class). Only ever grows, so retired IDs are never reused."""

    admin_code = models.CharField(max_length=6)
    component_class = models.ForeignKey(ComponentClass, on_delete=models.PROTECT)
    last_serial = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["admin_code", "component_class"], name="id_sequence_unique"),
            models.CheckConstraint(condition=Q(last_serial__lte=999999), name="id_serial_six_digits"),
        ]


class UserProfile(models.Model):
    """Links a maintenance-unit account to the organisation whose components it sees and edits."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.SET_NULL)


from .importing.models import ImportJob  # noqa: E402,F401


class ComponentCell(models.Model):
    """Counts of live components per cluster cell (tiles.cells), zoom and major class, kept by
    statement-level triggers on components_component (components.cluster_cells), so every write path
    keeps them exact. The sums of projected coordinates place each cluster at its members' mean.
    The table was made by tiles 0001 and keeps its name."""

    pk = models.CompositePrimaryKey("z", "cx", "cy", "major")
    z = models.SmallIntegerField()
    cx = models.IntegerField()
    cy = models.IntegerField()
    major = models.CharField(max_length=2)
    n = models.IntegerField()
    sx = models.FloatField()
    sy = models.FloatField()

    class Meta:
        db_table = "tiles_componentcell"
        indexes = [models.Index(fields=["z"], name="cell_emptied", condition=models.Q(n__lte=0))]
