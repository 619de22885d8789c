"""Thin REST views over services (writes) and selectors (reads). See docs/cameras.md."""

import math
import tempfile
from pathlib import Path

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from gis_core.errors import ServiceError
from gis_core.openapi import with_errors

from . import api_schema, gbt28181, importer, selectors, services
from .models import Camera, State

PAGE, MAX_PAGE = 100, 1000
STATE_LABELS = dict(State.choices)
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "gpkg": "application/geopackage+sqlite3",
}


def as_json(camera: Camera, user) -> dict:
    return row_json(
        {
            "id": camera.pk,
            "device_id": camera.device_id,
            "name": camera.name,
            "lon": camera.geom.x,
            "lat": camera.geom.y,
            **{f: getattr(camera, f) for f in ("mount_height", "azimuth", "h_fov", "v_fov", "range_m", "ptz")},
            **{f: getattr(camera, f) for f in ("pan_min", "pan_max", "state", "grid_code", "stream_url")},
            "owner": camera.owner.uscc if camera.owner else None,
            "maintainer": camera.maintainer.uscc if camera.maintainer else None,
        },
        selectors.may_see_stream(user),
    ) | {
        **{f: getattr(camera, f) for f in ("focal_mm", "sensor_width_mm", "image_width_px")},
        "range_source": "lens" if camera.focal_mm else "stored",
    }


def row_json(row: dict, with_stream: bool) -> dict:
    """A camera as the API shows it, from a dict of its columns (selectors.SEEING_COLUMNS)."""
    body = {
        "id": row["id"],
        "device_id": row["device_id"],
        "device_type": gbt28181.CAMERA_TYPES.get(row["device_id"][10:13], ""),
        **{k: row[k] for k in ("name", "lon", "lat", "mount_height", "azimuth", "h_fov", "v_fov", "range_m")},
        **{k: row[k] for k in ("ptz", "pan_min", "pan_max", "owner", "maintainer", "state")},
        "state_label": STATE_LABELS.get(row["state"], row["state"]),
        "grid_code": row["grid_code"],
    }
    if with_stream:
        body["stream_url"] = row["stream_url"]
    if row.get("distance") is not None:
        body["distance_m"] = round(row["distance"], 1)
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
            if not math.isfinite(out[-1]):
                raise ValueError
        except (KeyError, ValueError):
            raise ServiceError({name: "须为数字 (required number)"}) from None
    return out[0], out[1]


def _int(request, name, default, low, high):
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ServiceError({name: f"须为整数, 收到 {raw!r}"}) from None
    if not low <= value <= high:
        raise ServiceError({name: f"须在 {low} 到 {high} 之间, 收到 {value}"})
    return value


def filtered(request):
    """The cameras this user sees, narrowed by ?grid=&state=&ptz=&bbox=&within=."""
    qs = selectors.visible_cameras(request.user)
    for param, field in (("grid", "grid_code"), ("state", "state"), ("ptz", "ptz")):
        value = request.query_params.get(param)
        if value:
            qs = qs.filter(**{f"{field}__in": value.split(",")})
    area = selectors.area_of(request.query_params.get("bbox"), request.query_params.get("within"))
    if area is not None:
        qs = qs.filter(geom__coveredby=area)
    return qs


class CameraList(APIView):
    """GET ?grid=&state=&ptz=&bbox=&within=&limit=&offset= -> {count, next, previous, results};
    POST {device_id, name, lon, lat, azimuth, h_fov, range_m, ...} -> 201."""

    @extend_schema(
        parameters=api_schema.LIST_PARAMS + api_schema.PAGE_PARAMS,
        responses=with_errors({200: api_schema.CameraPage}),
    )
    def get(self, request):
        qs = filtered(request)
        limit = _int(request, "limit", PAGE, 1, MAX_PAGE)
        offset = _int(request, "offset", 0, 0, 10**9)
        count = qs.count()
        rows = list(qs.order_by("device_id")[offset : offset + limit])
        url = request.build_absolute_uri()
        nxt = replace_query_param(replace_query_param(url, "limit", limit), "offset", offset + limit)
        prev = None
        if offset > 0:
            prev = replace_query_param(url, "limit", limit)
            prev = (
                replace_query_param(prev, "offset", max(0, offset - limit))
                if offset > limit
                else remove_query_param(prev, "offset")
            )
        return Response(
            {
                "count": count,
                "next": nxt if offset + limit < count else None,
                "previous": prev,
                "results": [as_json(c, request.user) for c in rows],
            }
        )

    @extend_schema(request=api_schema.CameraIn, responses=with_errors({201: api_schema.Camera}, forbidden=True))
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

    @extend_schema(responses=with_errors({200: api_schema.Camera}, bad_request=False, not_found=True))
    def get(self, request, pk):
        return Response(as_json(self._camera(request, pk), request.user))

    @extend_schema(
        request=api_schema.CameraIn,
        responses=with_errors({200: api_schema.Camera}, not_found=True, forbidden=True),
        description="Values are merged over the current ones.",
    )
    def patch(self, request, pk):
        camera = self._camera(request, pk)
        _editor(request)
        return Response(as_json(services.update(request.user, camera, _body(request)), request.user))

    @extend_schema(responses=with_errors({204: None}, bad_request=False, not_found=True, forbidden=True))
    def delete(self, request, pk):
        camera = self._camera(request, pk)
        _editor(request)
        services.delete(request.user, camera)
        return Response(status=204)


class Seeing(APIView):
    """GET ?lon=&lat= -> {cameras: [...] (sector holds the point, nearest first), could_turn: [...]}"""

    @extend_schema(parameters=api_schema.POINT_PARAMS, responses=with_errors({200: api_schema.Seeing}))
    def get(self, request):
        lon, lat = _point(request)
        sees, could = selectors.seeing(request.user, lon, lat)
        stream = selectors.may_see_stream(request.user)
        return Response(
            {"cameras": [row_json(r, stream) for r in sees], "could_turn": [row_json(r, stream) for r in could]}
        )


class BlindGrids(APIView):
    """GET ?bbox=&within= -> {count, grids: [{code, name}]}: base grids no camera's current view
    touches (only those inside the area when one is given)."""

    @extend_schema(parameters=api_schema.LIST_PARAMS[3:], responses=with_errors({200: api_schema.BlindGrids}))
    def get(self, request):
        area = selectors.area_of(request.query_params.get("bbox"), request.query_params.get("within"))
        qs = selectors.blind_grids(request.user)
        if area is not None:
            qs = qs.filter(geom__intersects=area)
        grids = list(qs.values("code", "name"))
        return Response({"count": len(grids), "grids": grids})


class BlindRoads(APIView):
    """GET ?bbox=&within= -> {count, roads: [{id, name}]}: roads (layers/roads) no camera's current view
    touches, at most 5,000. 404 when this installation has no roads table."""

    @extend_schema(
        parameters=api_schema.LIST_PARAMS[3:],
        responses=with_errors({200: api_schema.BlindRoads}, not_found=True),
    )
    def get(self, request):
        area = selectors.area_of(request.query_params.get("bbox"), request.query_params.get("within"))
        roads = selectors.blind_roads(request.user, area)
        if roads is None:
            raise NotFound("本系统没有道路图层 (roads_road)")
        return Response({"count": len(roads), "roads": roads})


class History(APIView):
    """GET -> {id, device_id, history: [...]} newest first: who changed what, old and new values."""

    @extend_schema(responses=with_errors({200: api_schema.History}, bad_request=False, not_found=True))
    def get(self, request, pk):
        from .history import camera_history

        camera = CameraDetail()._camera(request, pk)
        rows = camera_history(camera.pk, with_stream=selectors.may_see_stream(request.user))
        return Response({"id": camera.pk, "device_id": camera.device_id, "history": rows})


class Export(APIView):
    """GET ?as=csv|xlsx|gpkg (+ the list's filters) -> the file: GB/T 28181 catalogue columns that
    the import reads back. (`as`, not `format`: DRF keeps ?format= for choosing a renderer.)"""

    @extend_schema(
        parameters=[OpenApiParameter("as", str, description="csv (default), xlsx or gpkg"), *api_schema.LIST_PARAMS],
        responses=with_errors({200: OpenApiResponse(OpenApiTypes.BINARY, description="the file")}),
    )
    def get(self, request):
        fmt = request.query_params.get("as") or "csv"
        if fmt not in EXPORT_TYPES:
            raise ServiceError({"as": f"须为 {', '.join(EXPORT_TYPES)} 之一, 收到 {fmt!r}"})
        qs = filtered(request)
        tmp = tempfile.NamedTemporaryFile(suffix=f".{fmt}", delete=False)  # noqa: SIM115 - FileResponse closes it
        tmp.close()
        path = Path(tmp.name)
        try:
            importer.export_file(qs, fmt, path, with_stream=selectors.may_see_stream(request.user))
            body = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
        finally:
            path.unlink(missing_ok=True)  # the open handle keeps the bytes readable
        response = FileResponse(body, content_type=EXPORT_TYPES[fmt], as_attachment=True, filename=f"cameras.{fmt}")
        response["Cache-Control"] = "private, no-cache"
        return response


class Import(APIView):
    """POST multipart `file` (.csv, .xlsx or .gpkg; `encoding` for a GBK CSV) -> the row report.
    Each row is created or updated by DeviceID through the service on its own; refused rows are
    listed with their line, field and reason."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        request={
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}, "encoding": {"type": "string"}},
            }
        },
        responses=with_errors({200: api_schema.ImportReport}, forbidden=True),
    )
    def post(self, request):
        _editor(request)
        upload = request.FILES.get("file")
        if upload is None:
            raise ServiceError({"file": "必填: multipart 字段 file"})
        if upload.size > MAX_UPLOAD_BYTES:
            raise ServiceError({"file": f"文件过大 (最多 {MAX_UPLOAD_BYTES // 1024 // 1024} MB)"})
        fmt = Path(upload.name or "").suffix.lower().lstrip(".")
        if fmt not in importer.FORMATS:
            raise ServiceError({"file": f"须为 .csv, .xlsx 或 .gpkg 文件, 收到 {Path(upload.name or '').name!r}"})
        encoding = request.data.get("encoding") or "utf-8-sig"
        if encoding.lower() not in ("utf-8", "utf-8-sig", "gbk", "gb18030"):
            raise ServiceError({"encoding": "须为 utf-8, utf-8-sig, gbk 或 gb18030"})
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"upload.{fmt}"
            with open(path, "wb") as f:
                for chunk in upload.chunks():
                    f.write(chunk)
            report = importer.import_file(request.user, path, fmt, encoding=encoding)
        return Response(report)
