from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    """Cases (事件/案件): reported, dispatched to the unit that answers for them, handled, verified
    and closed, each step an event in an append-only log; drawn on the map as the `incidents` layer."""

    name = "layers.incidents"
    label = "incidents"
    verbose_name = "案件"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import clock_tasks  # noqa: F401 - the clock tables' receivers and the recompute task
