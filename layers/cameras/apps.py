from django.apps import AppConfig


class CamerasConfig(AppConfig):
    """Video cameras (视频监控点位, GB/T 28181 devices): where they stand, what they see now and what a
    PTZ head could turn to see, drawn as `cameras` and `camera_views`. See docs/cameras.md."""

    name = "layers.cameras"
    label = "cameras"
    verbose_name = "视频监控"
    default_auto_field = "django.db.models.BigAutoField"
