from django.apps import AppConfig


class TilesConfig(AppConfig):
    name = "tiles"
    verbose_name = "瓦片"

    def ready(self):
        from . import invalidation

        invalidation.connect()
