from django.apps import AppConfig


class BasemapConfig(AppConfig):
    """The offline basemap (底图): water, buildings, green and any other layer loaded from a GeoPackage,
    one catalogue layer each, drawn pale and under everything else (docs/basemap.md)."""

    name = "layers.basemap"
    label = "basemap"
    verbose_name = "底图 basemap"
    default_auto_field = "django.db.models.BigAutoField"
