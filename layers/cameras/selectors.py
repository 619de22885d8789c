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


MAX_AREA_TEXT = 20_000  # characters of WKT/GeoJSON in ?within= (a query string stays short)


def area_of(bbox: str | None, within: str | None):
    """The area of ?bbox=minlon,minlat,maxlon,maxlat or ?within=<WKT or GeoJSON Polygon/MultiPolygon>,
    EPSG:4490; None when neither is given. ServiceError({param: why}) when it is unusable."""
    from django.contrib.gis.geos import GEOSException, GEOSGeometry, Polygon

    from gis_core.errors import ServiceError

    if bbox and within:
        raise ServiceError({"within": "bbox 与 within 只能给一个"})
    if bbox:
        try:
            x0, y0, x1, y1 = (float(v) for v in bbox.split(","))
        except ValueError:
            raise ServiceError({"bbox": "须为 minlon,minlat,maxlon,maxlat 四个数字"}) from None
        if not (x0 < x1 and y0 < y1 and -180 <= x0 and x1 <= 180 and -90 <= y0 and y1 <= 90):
            raise ServiceError({"bbox": "须 minlon < maxlon, minlat < maxlat, 且为经纬度"})
        area = Polygon.from_bbox((x0, y0, x1, y1))
        area.srid = 4490
        return area
    if not within:
        return None
    if len(within) > MAX_AREA_TEXT:
        raise ServiceError({"within": f"最长 {MAX_AREA_TEXT} 字符; 更大的范围请用 bbox 或网格"})
    try:
        area = GEOSGeometry(within)
    except (GEOSException, ValueError, TypeError):
        raise ServiceError({"within": "须为 WKT 或 GeoJSON 的 Polygon / MultiPolygon"}) from None
    if area.geom_type not in ("Polygon", "MultiPolygon"):
        raise ServiceError({"within": f"须为 Polygon 或 MultiPolygon, 收到 {area.geom_type}"})
    if area.srid not in (None, 4326, 4490):
        raise ServiceError({"within": f"坐标系须为 EPSG:4490, 收到 EPSG:{area.srid}"})
    area.srid = 4490
    if not area.valid:
        raise ServiceError({"within": f"多边形无效: {area.valid_reason}"})
    return area
