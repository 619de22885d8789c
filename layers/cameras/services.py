"""The one write path for cameras: validate, compute the sectors and the base grid, write, announce
after commit. REST, the CSV import and the demo all call save()/delete(); refusals are
ServiceError({field: reason}) and nothing is written."""

import math

import pghistory
from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import transaction

from components.models import Organisation
from components.services.components import history_user_id
from gis_core.errors import ServiceError

from . import gbt28181, geometry
from .models import MAX_FOCAL_MM, MAX_IMAGE_PX, MAX_RANGE_M, MAX_SENSOR_MM, MIN_IMAGE_PX, Camera, Ptz, State
from .signals import cameras_changed

BASE_LEVEL = 4
FIELDS = (
    "device_id", "name", "lon", "lat", "mount_height", "azimuth", "h_fov", "v_fov", "range_m",
    "ptz", "pan_min", "pan_max", "owner", "maintainer", "state", "stream_url",
    "focal_mm", "sensor_width_mm", "image_width_px",
)  # fmt: skip
LENS = ("focal_mm", "sensor_width_mm", "image_width_px")


def _number(values, errors, name, *, required=False, low=None, high=None, low_open=False, high_open=False):
    raw = values.get(name)
    if raw is None or raw == "":
        if required:
            errors[name] = "必填 (required)"
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        errors[name] = f"须为数字, 收到 {raw!r}"
        return None
    if not math.isfinite(value):
        errors[name] = "须为有限数字"
        return None
    if low is not None and (value <= low if low_open else value < low):
        errors[name] = f"须{'大于' if low_open else '不小于'} {low:g}, 收到 {value:g}"
    elif high is not None and (value >= high if high_open else value > high):
        errors[name] = f"须{'小于' if high_open else '不大于'} {high:g}, 收到 {value:g}"
    return value


def _organisation(values, errors, name):
    uscc = values.get(name)
    if not uscc:
        return None
    org = Organisation.objects.filter(uscc=uscc).first()
    if org is None:
        errors[name] = f"没有统一社会信用代码为 {uscc} 的单位"
    return org


def _lens(merged: dict, errors: dict) -> tuple[float, float, int] | None:
    """(focal, sensor width, pixels) when lens data are given (all three, or none)."""
    given = [f for f in LENS if merged.get(f) not in (None, "")]
    if not given:
        return None
    for f in LENS:
        if f not in given:
            errors[f] = "镜头参数须三项齐全: 焦距 focal_mm、靶面宽度 sensor_width_mm、水平像素 image_width_px"
    focal = _number(merged, errors, "focal_mm", low=0, high=MAX_FOCAL_MM, low_open=True)
    sensor = _number(merged, errors, "sensor_width_mm", low=0, high=MAX_SENSOR_MM, low_open=True)
    pixels = _number(merged, errors, "image_width_px", low=MIN_IMAGE_PX, high=MAX_IMAGE_PX)
    if pixels is not None and pixels != int(pixels):
        errors["image_width_px"] = f"须为整数, 收到 {pixels:g}"
    if any(f in errors for f in LENS):
        return None
    return focal, sensor, int(pixels)


def _clean(values: dict, camera: Camera | None) -> dict:
    """Merge `values` over the camera's current ones and check them all; ServiceError if any is bad."""
    unknown = sorted(set(values) - set(FIELDS))
    if unknown:
        raise ServiceError({unknown[0]: "未知字段 (unknown field)"})
    current = {}
    if camera is not None:
        current = {f: getattr(camera, f) for f in FIELDS if f not in ("lon", "lat", "owner", "maintainer")}
        current.update(lon=camera.geom.x, lat=camera.geom.y)
        current.update(
            owner=camera.owner.uscc if camera.owner else None,
            maintainer=camera.maintainer.uscc if camera.maintainer else None,
        )
    merged = {**current, **values}
    errors: dict[str, str] = {}
    out = {}
    device_id = str(merged.get("device_id") or "")
    why = gbt28181.problem(device_id)
    if why:
        errors["device_id"] = why
    elif Camera.objects.filter(device_id=device_id).exclude(pk=camera.pk if camera else None).exists():
        errors["device_id"] = f"国标编码 {device_id} 已存在"
    out["device_id"] = device_id
    out["name"] = str(merged.get("name") or "").strip()
    if not out["name"]:
        errors["name"] = "必填 (required)"
    minlon, minlat, maxlon, maxlat = settings.GRIDCITY_DISTRICT_BBOX
    lon = _number(merged, errors, "lon", required=True, low=minlon, high=maxlon)
    lat = _number(merged, errors, "lat", required=True, low=minlat, high=maxlat)
    out["mount_height"] = _number(merged, errors, "mount_height", low=0, high=200)
    out["azimuth"] = _number(merged, errors, "azimuth", required=True, low=0, high=360, high_open=True)
    out["v_fov"] = _number(merged, errors, "v_fov", low=0, high=360, low_open=True)
    lens = _lens(merged, errors)
    out.update(zip(LENS, lens or (None, None, None)))
    if lens:
        # The lens decides: its angle of view, and the distance at which it still resolves the scene
        # well enough to recognise (GRIDCITY_CAMERA_RANGE_PIXELS_PER_METRE), capped at MAX_RANGE_M.
        out["h_fov"] = round(geometry.lens_h_fov(lens[0], lens[1]), 2)
        ppm = settings.GRIDCITY_CAMERA_RANGE_PIXELS_PER_METRE
        out["range_m"] = round(min(MAX_RANGE_M, geometry.lens_range(*lens, ppm)), 1)
        for f in ("h_fov", "range_m"):
            typed = _number(values, errors, f)
            if typed is not None and abs(typed - out[f]) > 0.05:
                errors[f] = f"由镜头参数推算为 {out[f]:g}; 要直接填写, 请先清空镜头参数 (focal_mm 等)"
    else:
        out["h_fov"] = _number(merged, errors, "h_fov", required=True, low=0, high=360, low_open=True)
        out["range_m"] = _number(merged, errors, "range_m", required=True, low=0, high=MAX_RANGE_M, low_open=True)
    ptz = merged.get("ptz") or Ptz.FIXED
    if ptz not in Ptz.values:
        errors["ptz"] = f"须为 {', '.join(Ptz.values)} 之一"
    out["ptz"] = ptz
    if ptz == Ptz.PAN_RANGE:
        out["pan_min"] = _number(merged, errors, "pan_min", required=True, low=0, high=360, high_open=True)
        out["pan_max"] = _number(merged, errors, "pan_max", required=True, low=0, high=360, high_open=True)
    else:
        if values.get("pan_min") not in (None, "") or values.get("pan_max") not in (None, ""):
            errors.setdefault("pan_min", "只有限定水平范围的云台(pan_range)才有转动范围")
        out["pan_min"] = out["pan_max"] = None
    state = merged.get("state") or State.ONLINE
    if state not in State.values:
        errors["state"] = f"须为 {', '.join(State.values)} 之一"
    out["state"] = state
    out["stream_url"] = str(merged.get("stream_url") or "")
    if len(out["stream_url"]) > 500:
        errors["stream_url"] = "最长500字符"
    out["owner"] = _organisation(merged, errors, "owner")
    out["maintainer"] = _organisation(merged, errors, "maintainer")
    if errors:
        raise ServiceError(errors)
    out["geom"] = Point(lon, lat, srid=4490)
    out["view_geom"] = geometry.view(lon, lat, out["azimuth"], out["h_fov"], out["range_m"])
    out["reach_geom"] = geometry.reach(
        lon, lat, out["azimuth"], out["h_fov"], out["range_m"], ptz, out["pan_min"], out["pan_max"]
    )
    out["grid_code"] = _base_grid(out["geom"])
    return out


def _base_grid(point) -> str:
    from layers.grids.models import Grid

    grid = Grid.objects.filter(level_id=BASE_LEVEL, geom__intersects=point).order_by("code").first()
    return grid.code if grid else ""


def _announce(*geoms):
    extents = [g.extent for g in geoms if g is not None]
    bbox = (
        min(e[0] for e in extents),
        min(e[1] for e in extents),
        max(e[2] for e in extents),
        max(e[3] for e in extents),
    )
    transaction.on_commit(lambda: cameras_changed.send(sender=Camera, bbox=bbox))


# `action` names the write in the history (GET /api/cameras/{id}/history/): create, update, delete,
# import, wfs; the user is whoever asked (None for the demo and management commands).
@transaction.atomic
def create(user, values: dict, action: str = "create") -> Camera:
    camera = Camera(**_clean(values, None))
    with pghistory.context(user=history_user_id(user), action=action):
        camera.save()
    _announce(camera.reach_geom)
    return camera


@transaction.atomic
def update(user, camera: Camera, values: dict, action: str = "update") -> Camera:
    camera = Camera.objects.select_for_update().get(pk=camera.pk)
    before = camera.reach_geom
    for name, value in _clean(values, camera).items():
        setattr(camera, name, value)
    with pghistory.context(user=history_user_id(user), action=action):
        camera.save()
    _announce(before, camera.reach_geom)
    return camera


@transaction.atomic
def delete(user, camera: Camera, action: str = "delete") -> None:
    before = camera.reach_geom
    with pghistory.context(user=history_user_id(user), action=action):
        camera.delete()
    _announce(before)
