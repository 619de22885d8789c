from django.apps import AppConfig


class ThrowawayConfig(AppConfig):
    """A domain that exists only in tests: its one map layer must be served by the generic code
    (tiles, WMS, WFS, TileJSON, style, viewer tree) with no change outside this folder."""

    name = "tests.throwaway"
    label = "throwaway"
    default_auto_field = "django.db.models.BigAutoField"
