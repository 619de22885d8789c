"""Who sees which cameras: every role sees every camera (they are public-space devices on the
city's own network); a maintenance unit alone sees the ones it owns or maintains. Only editors and
administrators write, and only they and dispatchers get the stream URL."""

from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.db.models import Exists, OuterRef

from components import roles

from .models import Camera

EDITORS = frozenset({roles.GIS_EDITOR, roles.ADMINISTRATOR})
STREAM_READERS = EDITORS | {roles.DISPATCHER}


def may_edit(user) -> bool:
    return bool(roles.roles_of(user) & EDITORS)


def may_see_stream(user) -> bool:
    return bool(roles.roles_of(user) & STREAM_READERS)


def visible_cameras(user):
    qs = Camera.objects.select_related("owner", "maintainer")
    if user is None or not user.is_authenticated or not roles.roles_of(user):
        return qs.none()
    if roles.is_unit_only(user):
        org = roles.organisation_of(user)
        if org is None:
            return qs.none()
        return qs.filter(owner=org) | qs.filter(maintainer=org)
    return qs


def scope_sql(user, alias: str = "t") -> tuple[str, str, list] | None:
    if user is None or not user.is_authenticated or not roles.roles_of(user):
        return None
    if roles.is_unit_only(user):
        org = roles.organisation_of(user)
        if org is None:
            return None
        return f"o{org.pk}", f"(%s IN ({alias}.owner_id, {alias}.maintainer_id))", [org.pk]
    return "all", "TRUE", []


def seeing(user, lon: float, lat: float):
    """(cameras whose current view holds the point, nearest first; PTZ cameras that could turn to it)."""
    point = Point(lon, lat, srid=4490)
    qs = visible_cameras(user).annotate(distance=Distance("geom", point))
    sees = list(qs.filter(view_geom__intersects=point).order_by("distance", "device_id"))
    could = list(
        qs.filter(reach_geom__intersects=point)
        .exclude(ptz="fixed")
        .exclude(pk__in=[c.pk for c in sees])
        .order_by("distance", "device_id")
    )
    return sees, could


def blind_grids(user):
    """Base grids that no camera's current view touches (among the cameras the user sees)."""
    from layers.grids.models import Grid

    from .services import BASE_LEVEL

    seen = visible_cameras(user).filter(view_geom__intersects=OuterRef("geom"))
    return Grid.objects.filter(level_id=BASE_LEVEL).exclude(Exists(seen)).order_by("code")
