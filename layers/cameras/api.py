"""Thin REST views over services (writes) and selectors (reads). See docs/cameras.md."""

from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from gis_core.errors import ServiceError

from . import gbt28181, selectors, services
from .models import Camera

PAGE = 500


def as_json(camera: Camera, user) -> dict:
    body = {
        "id": camera.pk,
        "device_id": camera.device_id,
        "device_type": gbt28181.CAMERA_TYPES.get(camera.device_id[10:13], ""),
        "name": camera.name,
        "lon": camera.geom.x,
        "lat": camera.geom.y,
        "mount_height": camera.mount_height,
        "azimuth": camera.azimuth,
        "h_fov": camera.h_fov,
        "v_fov": camera.v_fov,
        "range_m": camera.range_m,
        "ptz": camera.ptz,
        "pan_min": camera.pan_min,
        "pan_max": camera.pan_max,
        "owner": camera.owner.uscc if camera.owner else None,
        "maintainer": camera.maintainer.uscc if camera.maintainer else None,
        "state": camera.state,
        "state_label": camera.get_state_display(),
        "grid_code": camera.grid_code,
    }
    if selectors.may_see_stream(user):
        body["stream_url"] = camera.stream_url
    distance = getattr(camera, "distance", None)
    if distance is not None:
        body["distance_m"] = round(distance.m, 1)
    return body


def _body(request) -> dict:
    if not isinstance(request.data, dict):
        raise ServiceError("请求体须为 JSON 对象")
    return dict(request.data)


def _editor(request):
    if not selectors.may_edit(request.user):
        raise PermissionDenied("只有 GIS 编辑或管理员可以修改摄像机")


def _point(request) -> tuple[float, float]:
    out = []
    for name in ("lon", "lat"):
        try:
            out.append(float(request.query_params[name]))
        except (KeyError, ValueError):
            raise ServiceError({name: "须为数字 (required number)"}) from None
    return out[0], out[1]


class CameraList(APIView):
    """GET ?grid=&state=&ptz= -> {count, results}; POST {device_id, name, lon, lat, azimuth, h_fov, range_m, ...}."""

    def get(self, request):
        qs = selectors.visible_cameras(request.user)
        for param, field in (("grid", "grid_code"), ("state", "state"), ("ptz", "ptz")):
            value = request.query_params.get(param)
            if value:
                qs = qs.filter(**{f"{field}__in": value.split(",")})
        rows = list(qs[:PAGE])
        return Response({"count": qs.count(), "results": [as_json(c, request.user) for c in rows]})

    def post(self, request):
        _editor(request)
        camera = services.create(request.user, _body(request))
        return Response(as_json(camera, request.user), status=201)


class CameraDetail(APIView):
    def _camera(self, request, pk) -> Camera:
        camera = selectors.visible_cameras(request.user).filter(pk=pk).first()
        if camera is None:
            raise NotFound("没有这个摄像机")
        return camera

    def get(self, request, pk):
        return Response(as_json(self._camera(request, pk), request.user))

    def patch(self, request, pk):
        camera = self._camera(request, pk)
        _editor(request)
        return Response(as_json(services.update(request.user, camera, _body(request)), request.user))

    def delete(self, request, pk):
        camera = self._camera(request, pk)
        _editor(request)
        services.delete(request.user, camera)
        return Response(status=204)


class Seeing(APIView):
    """GET ?lon=&lat= -> {cameras: [...] (sector holds the point, nearest first), could_turn: [...]}"""

    def get(self, request):
        lon, lat = _point(request)
        sees, could = selectors.seeing(request.user, lon, lat)
        return Response(
            {
                "cameras": [as_json(c, request.user) for c in sees],
                "could_turn": [as_json(c, request.user) for c in could],
            }
        )


class BlindGrids(APIView):
    """GET -> {count, grids: [{code, name}]}: base grids no camera's current view touches."""

    def get(self, request):
        grids = list(selectors.blind_grids(request.user).values("code", "name"))
        return Response({"count": len(grids), "grids": grids})
