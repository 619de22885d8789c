from django.apps import AppConfig


class PatrolsConfig(AppConfig):
    """Grid workers' patrols (网格员巡查轨迹): GPS fixes posted by the field app, quarantined when
    implausible, drawn on the map as daily `tracks` and last-known `patrol_positions`."""

    name = "layers.patrols"
    label = "patrols"
    verbose_name = "巡查"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_migrate

        post_migrate.connect(_partitions_after_migrate, sender=self)


def _partitions_after_migrate(sender, using="default", **kwargs):
    from django.db import connections

    from . import partitions

    with connections[using].cursor() as cur:
        cur.execute("SELECT to_regclass('patrols_patrolfix') IS NOT NULL")
        if not cur.fetchone()[0]:
            return  # migrated backwards past 0001
    partitions.make_partitions()
