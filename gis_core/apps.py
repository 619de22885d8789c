from django.apps import AppConfig


class GisCoreConfig(AppConfig):
    name = "gis_core"
    verbose_name = "系统"

    def ready(self):
        from django.core import checks

        from .online_basemap import check

        checks.register(check, "gridcity")
