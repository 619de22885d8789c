"""The component registry: class catalogue, organisations, components and their history."""

import pghistory
from django.conf import settings
from django.contrib.gis.db import models
from django.db.models import Q

from .uscc import validate_uscc


class ClassScheme(models.Model):
    """A classification generation: GB/T 30428 (16-digit IDs), GB/T 47678 (17-digit), local."""

    code = models.SlugField(max_length=32, unique=True, verbose_name="代码")
    name = models.CharField(max_length=100, verbose_name="名称")
    version = models.CharField(max_length=32, blank=True, verbose_name="版本")
    class_code_length = models.PositiveSmallIntegerField(
        help_text="4（GB/T 30428）或 5（GB/T 47678）", verbose_name="类别代码位数"
    )

    class Meta:
        verbose_name = "分类标准"
        verbose_name_plural = "分类标准"
        ordering = ["code"]

    @property
    def id_length(self) -> int:
        # 6 admin digits + class code + 6 serial digits.
        return 6 + self.class_code_length + 6

    def __str__(self):
        return f"{self.name} {self.version}".strip()


class ComponentClass(models.Model):
    scheme = models.ForeignKey(ClassScheme, on_delete=models.PROTECT, related_name="classes", verbose_name="分类标准")
    code = models.CharField(max_length=5, help_text="大类（2 位）+ 小类（2 或 3 位）", verbose_name="类别代码")
    major_code = models.CharField(max_length=2, verbose_name="大类代码")
    major_name = models.CharField(max_length=50, verbose_name="大类名称")
    name = models.CharField(max_length=100, verbose_name="小类名称")
    # Per-class extension attributes: {"field": {"type": "string|number|integer|boolean",
    # "required": bool, "enum": [...], "min": n, "max": n, "max_length": n, "label": "..."}}
    attribute_schema = models.JSONField(default=dict, blank=True, verbose_name="扩展属性定义")
    active = models.BooleanField(default=True, verbose_name="启用")

    class Meta:
        verbose_name = "部件类别"
        ordering = ["scheme", "code"]
        constraints = [
            # Global, not per scheme: the class code is part of the component ID, which must be unique.
            models.UniqueConstraint(fields=["code"], name="class_code_unique"),
            models.CheckConstraint(condition=Q(code__regex=r"^[0-9]{4,5}$"), name="class_code_digits"),
        ]
        verbose_name_plural = "部件类别"

    def __str__(self):
        return f"{self.code} {self.name}"


class ClassMapping(models.Model):
    """Old-to-new class codes: a table, because the new codes are not arithmetic on the old."""

    source = models.ForeignKey(
        ComponentClass, on_delete=models.CASCADE, related_name="mapped_to", verbose_name="原类别"
    )
    target = models.ForeignKey(
        ComponentClass, on_delete=models.CASCADE, related_name="mapped_from", verbose_name="新类别"
    )
    note = models.CharField(max_length=200, blank=True, verbose_name="说明")

    class Meta:
        verbose_name = "类别对照"
        verbose_name_plural = "类别对照"
        constraints = [models.UniqueConstraint(fields=["source", "target"], name="class_mapping_unique")]

    def __str__(self):
        return f"{self.source} → {self.target}"


class Organisation(models.Model):
    class Kind(models.TextChoices):
        DEPARTMENT = "department", "主管部门"
        OWNER = "owner", "权属单位"
        MAINTAINER = "maintainer", "养护单位"
        OTHER = "other", "其他"

    uscc = models.CharField("统一社会信用代码", max_length=18, unique=True, validators=[validate_uscc])
    name = models.CharField(max_length=200, verbose_name="名称")
    kinds = models.JSONField(
        default=list, help_text="主管部门、权属单位、养护单位、其他 中的若干项", verbose_name="单位类型"
    )
    contact_person = models.CharField(max_length=50, blank=True, verbose_name="联系人")
    phone = models.CharField(max_length=30, blank=True, verbose_name="联系电话")
    address = models.CharField(max_length=200, blank=True, verbose_name="地址")

    class Meta:
        verbose_name = "单位"
        verbose_name_plural = "单位"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(uscc__regex=r"^[0-9A-HJ-NPQRTUWXY]{18}$"), name="uscc_format")
        ]

    def __str__(self):
        return self.name


class ComponentState(models.Model):
    """Configurable states: 完好 / 破损 / 丢失 / 废弃 / 移除, and local additions such as 占用."""

    code = models.SlugField(max_length=20, unique=True, verbose_name="代码")
    name = models.CharField(max_length=20, unique=True, verbose_name="名称")
    order = models.PositiveSmallIntegerField(default=0, verbose_name="排序")
    active = models.BooleanField(default=True, verbose_name="启用")

    class Meta:
        verbose_name = "部件状态"
        verbose_name_plural = "部件状态"
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
        ComponentClass, on_delete=models.PROTECT, related_name="components", db_index=False, verbose_name="部件类别"
    )
    name = models.CharField(max_length=200, blank=True, verbose_name="名称")
    geom = models.GeometryField(srid=4490, verbose_name="空间位置")
    admin_code = models.CharField(max_length=6, verbose_name="行政区划代码")
    street_code = models.CharField(max_length=9, blank=True, verbose_name="街道代码")
    community_code = models.CharField(max_length=12, blank=True, verbose_name="社区代码")
    grid_code = models.CharField(max_length=15, blank=True, verbose_name="单元网格代码")
    location_desc = models.CharField(max_length=200, blank=True, verbose_name="位置描述")
    department = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="主管部门"
    )
    owner = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_components",
        verbose_name="权属单位",
    )
    maintainer = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="maintained_components",
        verbose_name="养护单位",
    )
    state = models.ForeignKey(
        ComponentState,
        on_delete=models.PROTECT,
        to_field="code",
        db_column="state_code",
        db_index=False,
        verbose_name="状态",
    )
    census_date = models.DateField(null=True, blank=True, verbose_name="普查日期")
    change_date = models.DateField(null=True, blank=True, verbose_name="变更日期")
    data_source = models.CharField(
        max_length=20, choices=DataSource.choices, default=DataSource.SURVEYED, verbose_name="数据来源"
    )
    note = models.TextField(blank=True, verbose_name="备注")
    attributes = models.JSONField(default=dict, blank=True, verbose_name="扩展属性")
    retired = models.BooleanField(default=False, verbose_name="已注销")
    retired_at = models.DateTimeField(null=True, blank=True, verbose_name="注销时间")
    retired_reason = models.CharField(max_length=200, blank=True, verbose_name="注销原因")
    created_at = models.DateTimeField(auto_now_add=True, verbose_name="创建时间")
    updated_at = models.DateTimeField(auto_now=True, verbose_name="更新时间")

    class Meta:
        verbose_name = "部件"
        verbose_name_plural = "部件"
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

    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="transfers", verbose_name="部件")
    role = models.CharField(max_length=20, choices=Role.choices, verbose_name="移交类型")
    from_org = models.ForeignKey(
        Organisation, null=True, on_delete=models.PROTECT, related_name="+", verbose_name="原单位"
    )
    to_org = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="+", verbose_name="新单位")
    effective_date = models.DateField(verbose_name="生效日期")
    reason = models.CharField(max_length=200, blank=True, verbose_name="原因")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name="登记人"
    )
    recorded_at = models.DateTimeField(auto_now_add=True, verbose_name="登记时间")

    class Meta:
        verbose_name = "权属移交"
        verbose_name_plural = "权属移交"
        ordering = ["-effective_date", "-id"]


class ComponentPhoto(models.Model):
    component = models.ForeignKey(Component, on_delete=models.CASCADE, related_name="photos", verbose_name="部件")
    image = models.FileField(upload_to="component-photos/%Y/%m/", verbose_name="图片")
    caption = models.CharField(max_length=200, blank=True, verbose_name="说明")
    taken_at = models.DateTimeField(null=True, blank=True, verbose_name="拍摄时间")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name="上传人"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True, verbose_name="上传时间")

    class Meta:
        verbose_name = "部件照片"
        verbose_name_plural = "部件照片"


class IdSequence(models.Model):
    """Last serial handed out per (admin code, class). Only ever grows, so retired IDs are never reused."""

    admin_code = models.CharField(max_length=6, verbose_name="行政区划代码")
    component_class = models.ForeignKey(ComponentClass, on_delete=models.PROTECT, verbose_name="部件类别")
    last_serial = models.PositiveIntegerField(default=0, verbose_name="已用最大序号")

    class Meta:
        verbose_name = "标识码序号"
        verbose_name_plural = "标识码序号"
        constraints = [
            models.UniqueConstraint(fields=["admin_code", "component_class"], name="id_sequence_unique"),
            models.CheckConstraint(condition=Q(last_serial__lte=999999), name="id_serial_six_digits"),
        ]

    def __str__(self):
        return f"{self.admin_code} {self.component_class_id} 已用至 {self.last_serial:06d}"


class UserProfile(models.Model):
    """Links a maintenance-unit account to the organisation whose components it sees and edits."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile", verbose_name="用户"
    )
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, verbose_name="单位"
    )

    class Meta:
        verbose_name = "账号所属单位"
        verbose_name_plural = "账号所属单位"


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
