"""The basemap is public reference data: everyone with a role may read it (as roads)."""

from components import roles

from .models import BasemapFeature


def visible_features(user, layer_id: int):
    if not roles.can_read(user):
        return BasemapFeature.objects.none()
    return BasemapFeature.objects.filter(layer_id=layer_id)


def scope_sql(user, alias: str = "t") -> tuple[str, str, list] | None:
    return ("all", "TRUE", []) if roles.can_read(user) else None
