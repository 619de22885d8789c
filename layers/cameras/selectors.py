"""Who sees which cameras: every role sees every camera (they are public-space devices on the
city's own network); a maintenance unit alone sees the ones it owns or maintains. Only editors and
administrators write, and only they and dispatchers get the stream URL."""

import math

from django.db import connection
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


SEEING_COLUMNS = (
    "id", "device_id", "name", "lon", "lat", "mount_height", "azimuth", "h_fov", "v_fov", "range_m", "ptz",
    "pan_min", "pan_max", "owner", "maintainer", "state", "grid_code", "stream_url", "distance", "sees",
)  # fmt: skip
# One statement, the hot path of the incident card and the map: both GiST indexes (view and reach) find
# the candidates, ST_Intersects decides, the distance is geodesic (geography, on the spheroid).
SEEING_SQL = """
SELECT t.id, t.device_id, t.name, ST_X(t.geom), ST_Y(t.geom), t.mount_height, t.azimuth, t.h_fov, t.v_fov,
       t.range_m, t.ptz, t.pan_min, t.pan_max, o.uscc, m.uscc, t.state, t.grid_code, t.stream_url,
       ST_Distance(t.geom::geography, p.g::geography), ST_Intersects(t.view_geom, p.g)
FROM cameras_camera t
CROSS JOIN (SELECT ST_SetSRID(ST_MakePoint(%s, %s), 4490) AS g) p
LEFT JOIN components_organisation o ON o.id = t.owner_id
LEFT JOIN components_organisation m ON m.id = t.maintainer_id
WHERE (ST_Intersects(t.view_geom, p.g) OR (t.ptz <> 'fixed' AND ST_Intersects(t.reach_geom, p.g))) AND {scope}
ORDER BY 19, t.device_id
"""


def seeing(user, lon: float, lat: float) -> tuple[list[dict], list[dict]]:
    """(cameras whose current view holds the point, nearest first; PTZ cameras that could turn to it),
    as dicts of SEEING_COLUMNS (distance in metres)."""
    scope = scope_sql(user)
    if scope is None:
        return [], []
    _, condition, params = scope
    with connection.cursor() as cur:
        cur.execute(SEEING_SQL.format(scope=condition), [lon, lat, *params])
        rows = [dict(zip(SEEING_COLUMNS, r, strict=True)) for r in cur.fetchall()]
    return [r for r in rows if r["sees"]], [r for r in rows if not r["sees"]]


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
    from django.contrib.gis.gdal import GDALException
    from django.contrib.gis.geos import GEOSException, GEOSGeometry, Polygon

    from gis_core.errors import ServiceError

    if bbox and within:
        raise ServiceError({"within": "bbox 与 within 只能给一个"})
    if bbox:
        try:
            x0, y0, x1, y1 = (float(v) for v in bbox.split(","))
            if not all(math.isfinite(v) for v in (x0, y0, x1, y1)):
                raise ValueError
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
    except (GEOSException, GDALException, ValueError, TypeError, IndexError):
        raise ServiceError({"within": "须为 WKT 或 GeoJSON 的 Polygon / MultiPolygon"}) from None
    if area.geom_type not in ("Polygon", "MultiPolygon"):
        raise ServiceError({"within": f"须为 Polygon 或 MultiPolygon, 收到 {area.geom_type}"})
    if area.srid not in (None, 4326, 4490):
        raise ServiceError({"within": f"坐标系须为 EPSG:4490, 收到 EPSG:{area.srid}"})
    area.srid = 4490
    if not area.valid:
        raise ServiceError({"within": f"多边形无效: {area.valid_reason}"})
    return area


ROADS_TABLE = "roads_road"
MAX_BLIND_ROADS = 5000


def blind_roads(user, area=None) -> list[dict] | None:
    """Road rows (layers/roads, table roads_road) that no current view of a camera the user sees
    touches, at most MAX_BLIND_ROADS, by id; None when this installation has no roads table. The
    table's geometry column and SRID are read from PostGIS's geometry_columns, so this needs nothing
    from the roads app but its table."""
    scope = scope_sql(user)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT f_geometry_column, srid FROM geometry_columns WHERE f_table_schema = current_schema() "
            "AND f_table_name = %s ORDER BY f_geometry_column = 'geom' DESC LIMIT 1",
            [ROADS_TABLE],
        )
        found = cur.fetchone()
        if found is None:
            return None
        if scope is None:
            return []
        column, srid = found
        cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = %s AND column_name = 'name'",
            [ROADS_TABLE],
        )
        name = "r.name" if cur.fetchone() else "NULL"
        geom = f'ST_Transform(r."{column}", 4490)' if srid not in (4490, 0) else f'r."{column}"'
        _, condition, params = scope
        where, area_params = "", []
        if area is not None:
            where, area_params = f" AND ST_Intersects({geom}, ST_GeomFromEWKB(%s))", [bytes(area.ewkb)]
        cur.execute(
            f"SELECT r.id, {name} FROM {ROADS_TABLE} r WHERE NOT EXISTS (SELECT 1 FROM cameras_camera t "
            f"WHERE ST_Intersects(t.view_geom, {geom}) AND {condition}){where} ORDER BY r.id LIMIT %s",
            [*params, *area_params, MAX_BLIND_ROADS],
        )
        return [{"id": pk, "name": nm} for pk, nm in cur.fetchall()]
