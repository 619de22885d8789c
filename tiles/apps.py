from django.apps import AppConfig


class TilesConfig(AppConfig):
    name = "tiles"
    verbose_name = "Tiles"

    def ready(self):
        from . import invalidation

        invalidation.connect()
