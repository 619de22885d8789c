"""Cameras. The sectors (`view_geom`, `reach_geom`) are computed by services.save on every write
(geometry.py), never typed in; `geom_3857` and `view_3857` are stored generated columns for tiles
(migration 0001). With lens data (focal length, sensor width, horizontal pixels) the angle and
the range are derived from the lens, not typed (services._clean). Ranges are CHECK constraints so no write path can store an impossible camera."""

import pghistory
from django.contrib.gis.db import models
from django.db.models import Q

from components.models import Organisation


class State(models.TextChoices):
    ONLINE = "online", "在线"
    OFFLINE = "offline", "离线"
    FAULT = "fault", "故障"


class Ptz(models.TextChoices):
    FIXED = "fixed", "固定枪机"
    DOME = "dome", "球机(360°)"
    PAN_RANGE = "pan_range", "云台(限定水平范围)"


MAX_RANGE_M = 500
MAX_FOCAL_MM = 2000  # long zoom lenses reach ~1,000 mm
MAX_SENSOR_MM = 50  # full frame is 36 mm wide
MIN_IMAGE_PX, MAX_IMAGE_PX = 160, 20000


@pghistory.track(
    pghistory.InsertEvent(),
    pghistory.UpdateEvent(),
    pghistory.DeleteEvent(),
    exclude=["updated_at", "view_geom", "reach_geom"],
    model_name="CameraEvent",
)
class Camera(models.Model):
    device_id = models.CharField("国标编码", max_length=20, unique=True)
    name = models.CharField("名称", max_length=200)
    geom = models.PointField("位置", srid=4490)
    mount_height = models.FloatField("安装高度(米)", null=True, blank=True)
    azimuth = models.FloatField("朝向(度, 正北顺时针)")
    h_fov = models.FloatField("水平视场角(度)")
    v_fov = models.FloatField("垂直视场角(度)", null=True, blank=True)
    range_m = models.FloatField("可视距离(米)")
    # Lens data (all three or none): when given, services derive h_fov and range_m from them.
    focal_mm = models.FloatField("焦距(毫米)", null=True, blank=True)
    sensor_width_mm = models.FloatField("靶面宽度(毫米)", null=True, blank=True)
    image_width_px = models.PositiveIntegerField("水平像素", null=True, blank=True)
    ptz = models.CharField("云台类型", max_length=10, choices=Ptz.choices, default=Ptz.FIXED)
    pan_min = models.FloatField("水平转动起始(度)", null=True, blank=True)
    pan_max = models.FloatField("水平转动终止(度)", null=True, blank=True)
    owner = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="权属单位"
    )
    maintainer = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="养护单位"
    )
    state = models.CharField("状态", max_length=8, choices=State.choices, default=State.ONLINE)
    stream_url = models.CharField("视频流地址", max_length=500, blank=True)
    grid_code = models.CharField("单元网格代码", max_length=18, blank=True, db_index=True)
    view_geom = models.PolygonField("当前视域", srid=4490)
    reach_geom = models.PolygonField("可转动视域", srid=4490)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        ordering = ["device_id"]
        verbose_name = "视频监控点"
        verbose_name_plural = "视频监控点"
        constraints = [
            models.CheckConstraint(condition=Q(device_id__regex=r"^[0-9]{10}13[12][0-9]{7}$"), name="camera_id_type"),
            models.CheckConstraint(condition=Q(azimuth__gte=0, azimuth__lt=360), name="camera_azimuth_range"),
            models.CheckConstraint(condition=Q(h_fov__gt=0, h_fov__lte=360), name="camera_h_fov_range"),
            models.CheckConstraint(
                condition=Q(v_fov__isnull=True) | Q(v_fov__gt=0, v_fov__lte=360), name="camera_v_fov_range"
            ),
            models.CheckConstraint(condition=Q(range_m__gt=0, range_m__lte=MAX_RANGE_M), name="camera_range"),
            models.CheckConstraint(
                condition=Q(mount_height__isnull=True) | Q(mount_height__gte=0, mount_height__lte=200),
                name="camera_mount_height",
            ),
            models.CheckConstraint(
                condition=(
                    Q(ptz="pan_range", pan_min__gte=0, pan_min__lt=360, pan_max__gte=0, pan_max__lt=360)
                    | Q(~Q(ptz="pan_range"), pan_min__isnull=True, pan_max__isnull=True)
                ),
                name="camera_pan_range",
            ),
            models.CheckConstraint(
                condition=Q(focal_mm__isnull=True, sensor_width_mm__isnull=True, image_width_px__isnull=True)
                | Q(  # NULL compares as unknown, which a CHECK lets through: say "not null" outright
                    focal_mm__isnull=False,
                    sensor_width_mm__isnull=False,
                    image_width_px__isnull=False,
                    focal_mm__gt=0,
                    focal_mm__lte=MAX_FOCAL_MM,
                    sensor_width_mm__gt=0,
                    sensor_width_mm__lte=MAX_SENSOR_MM,
                    image_width_px__gte=MIN_IMAGE_PX,
                    image_width_px__lte=MAX_IMAGE_PX,
                ),
                name="camera_lens",
            ),
            models.CheckConstraint(condition=Q(state__in=State.values), name="camera_state"),
            models.CheckConstraint(condition=Q(ptz__in=Ptz.values), name="camera_ptz"),
            models.CheckConstraint(condition=Q(view_geom__isvalid=True), name="camera_view_valid"),
        ]

    def __str__(self):
        return f"{self.device_id} {self.name}"
