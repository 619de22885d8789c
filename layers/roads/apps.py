from django.apps import AppConfig


class RoadsConfig(AppConfig):
    """The street network (道路): centre lines imported from any OGR layer (the demo city's `roads`),
    drawn as the read-only `roads` layer and measured against patrol tracks (docs/roads.md)."""

    name = "layers.roads"
    label = "roads"
    verbose_name = "道路"
    default_auto_field = "django.db.models.BigAutoField"
