"""Thin REST views: fixes in (POST /api/patrols/fixes/) and a day's playback out."""

import csv
import datetime as dt
import hashlib
import io
import json
import logging

import orjson
from django.conf import settings
from django.db import OperationalError
from django.http import FileResponse, HttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from gis_core.api_errors import error_body
from gis_core.errors import ClientError, ServiceError
from gis_core.openapi import error, with_errors
from gis_core.text import has_nul

from . import api_schema, coverage_reports, heatmap, inspection, playback, selectors
from .ingest import ingest
from .models import QuarantinedFix

log = logging.getLogger(__name__)


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"


def _limit() -> int:
    return settings.GRIDCITY_PATROL_MAX_BODY_BYTES


class FixBatch(APIView):
    """POST {device_id?, fixes: [{fix_time, send_time, lon, lat, accuracy, speed, heading, crs}]}
    -> {stored, duplicates, quarantined: [{index, reason}]}. See docs/patrols.md."""

    parser_classes = [JSONParser]  # the body is read here, within the size limit

    def initial(self, request, *args, **kwargs):
        # Before authentication: the session's CSRF check may read the body.
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise ValidationError({"fixes": "the Content-Length header is not a number"}) from None
        if length > _limit():
            raise BodyTooLarge({"fixes": f"the body is {length:,} bytes; at most {_limit():,}: split the batch"})
        super().initial(request, *args, **kwargs)

    @extend_schema(
        request=api_schema.PatrolBatchIn,
        responses=with_errors(
            {
                201: api_schema.PatrolBatchOut,
                200: OpenApiResponse(
                    api_schema.PatrolBatchOut, description="nothing new stored (all duplicates or quarantined)"
                ),
                413: error("the body or the number of fixes is over the limit: split the batch"),
            },
            forbidden=True,
        ),
    )
    def post(self, request):
        raw = request._request.read(_limit() + 1)  # no Content-Length (chunked): still never more
        if len(raw) > _limit():
            raise BodyTooLarge({"fixes": f"the body is over {_limit():,} bytes: split the batch"})
        try:
            # orjson: ~3x faster than json on a 10,000-fix body (~15 -> ~5 ms); it also refuses what is
            # not JSON that json lets through (NaN, Infinity) and integers beyond 64 bits.
            batch = orjson.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            return Response(error_body([("fixes", f"the body is not JSON: {exc}")]), status=400)
        try:
            answer = ingest(request.user, batch)
        except ServiceError as exc:
            return Response(error_body(exc.errors.items()), status=exc.status)
        except ClientError as exc:
            return Response(error_body([(exc.field or "non_field_errors", exc.message)]), status=exc.status)
        return Response(answer, status=201 if answer["stored"] else 200)


class WorkerDay(APIView):
    """GET -> {worker, date, coordinates: [[t_iso, lon, lat], ...], stops, trips}; ?stop_metres=&stop_minutes="""

    @extend_schema(
        parameters=[
            OpenApiParameter("stop_metres", float, description="a stop stays within this many metres (default 50)"),
            OpenApiParameter("stop_minutes", float, description="... for at least this many minutes (default 5)"),
        ],
        responses=with_errors({200: api_schema.PatrolDay}, not_found=True),
    )
    def get(self, request, username: str, date: str):
        day = _day(date)
        if day is None:
            return Response(error_body([("date", "a date as YYYY-MM-DD, years 2000-2100")]), status=400)
        worker = selectors.worker_named(request.user, username)
        if worker is None:
            raise NotFound(f"no patrols of {username} that you may see")
        tunables = {}
        for param, key, high in (("stop_metres", "radius_m", 1000), ("stop_minutes", "minutes", 240)):
            text = request.query_params.get(param)
            if text is None:
                continue
            try:
                value = float(text)
            except ValueError:
                value = -1
            if not 0 < value <= high:
                return Response(error_body([(param, f"a number above 0 and at most {high}")]), status=400)
            tunables[key] = value
        return Response(playback.replay(worker, day, **tunables))


def _day(text: str) -> dt.date | None:
    """A local day from YYYY-MM-DD, years 2000-2100 (date.max + 1 day would overflow the day's end)."""
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return day if 2000 <= day.year <= 2100 else None


DAY_WORKERS_LIMIT = 500  # a district's grid workers; a longer list is cut and says so


class DayWorkers(APIView):
    """GET ?q= -> {date, workers: [{username, name, unit, first_time, last_time, fix_count, distance_m}],
    truncated}: who walked a track that local day, of those the user may see (as tracks)."""

    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="part of a username or name")],
        responses=with_errors({200: api_schema.PatrolDayWorkers}),
    )
    def get(self, request, date: str):
        day = _day(date)
        if day is None:
            return Response(error_body([("date", "a date as YYYY-MM-DD, years 2000-2100")]), status=400)
        q = request.query_params.get("q", "").strip()
        if len(q) > 150 or has_nul(q):
            return Response(error_body([("q", "at most 150 characters, no NUL")]), status=400)
        rows = selectors.workers_on_day(request.user, day, q=q, limit=DAY_WORKERS_LIMIT)
        workers = [
            {
                **row,
                "name": row["name"] or row["username"],
                "first_time": row["first_time"].isoformat(),
                "last_time": row["last_time"].isoformat(),
                "distance_m": round(row["distance_m"] or 0.0, 1),
            }
            for row in rows[:DAY_WORKERS_LIMIT]
        ]
        answer = Response({"date": day.isoformat(), "workers": workers, "truncated": len(rows) > DAY_WORKERS_LIMIT})
        answer["Cache-Control"] = "private, no-cache"  # today's list grows with every batch
        return answer


class Quarantine(APIView):
    """GET ?date=&worker=&reason= -> the day's quarantined fixes with their reasons, counts by reason
    (a supervisor's view of what the field app sent and why it was not stored)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("date", str, required=True, description="local day, YYYY-MM-DD"),
            OpenApiParameter("worker", str, description="a worker's username"),
            OpenApiParameter("reason", str, description="one reason code (see counts)"),
        ],
        responses=with_errors({200: api_schema.Quarantine}),
    )
    def get(self, request):
        day = _day(request.query_params.get("date", ""))
        if day is None:
            return Response(error_body([("date", "a date as YYYY-MM-DD, years 2000-2100")]), status=400)
        reason = request.query_params.get("reason") or None
        reasons = [r for r, _ in QuarantinedFix.Reason.choices]
        if reason is not None and reason not in reasons:
            return Response(error_body([("reason", f"one of {', '.join(reasons)}")]), status=400)
        worker = None
        username = request.query_params.get("worker")
        if username:
            worker = selectors.worker_named(request.user, username[:150])
            if worker is None:
                raise NotFound(f"no patrols of {username[:150]} that you may see")
        answer = Response(inspection.quarantined(request.user, day, worker=worker, reason=reason))
        answer["Cache-Control"] = "private, no-cache"
        return answer


class DeviceClocks(APIView):
    """GET -> each worker's device and how far its clock is off (receive - send)."""

    @extend_schema(responses=with_errors({200: api_schema.DeviceClock(many=True)}))
    def get(self, request):
        answer = Response(inspection.device_clocks(request.user))
        answer["Cache-Control"] = "private, no-cache"
        return answer


POSITIONS_LIMIT = 5000  # workers on duty at once in one district: far fewer


class LivePositions(APIView):
    """GET -> a GeoJSON FeatureCollection of each worker's last fix in the last 15 minutes (the
    patrol_positions layer's rows), of those the user may see. The viewer polls it every 5 s; an ETag
    makes an unchanged answer a 304."""

    @extend_schema(responses=with_errors({200: api_schema.PatrolPositions}))
    def get(self, request):
        rows = selectors.visible_positions(request.user).order_by("username")[: POSITIONS_LIMIT + 1]
        features = [
            {
                "type": "Feature",
                "id": p.worker_id,
                "geometry": {"type": "Point", "coordinates": [round(p.geom.x, 7), round(p.geom.y, 7)]},
                "properties": {
                    "worker": p.username,
                    "fix_time": p.fix_time.isoformat(),
                    "accuracy": p.accuracy,
                    "speed": p.speed,
                    "heading": p.heading,
                },
            }
            for p in rows[:POSITIONS_LIMIT]
        ]
        body = {"type": "FeatureCollection", "features": features, "truncated": len(rows) > POSITIONS_LIMIT}
        tag = '"' + hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:32] + '"'
        if tag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
            answer = Response(status=304)
        else:
            answer = Response(body)
        answer["ETag"] = tag
        answer["Cache-Control"] = "private, no-cache"  # positions move and age out: always revalidate
        return answer


class Heatmap(APIView):
    """GET ?from=&to=&worker=&grid=&unit=&cell= -> the heat map as a Cloud-Optimised GeoTIFF."""

    @extend_schema(
        parameters=[
            OpenApiParameter("from", str, description="first local day, YYYY-MM-DD (default today)"),
            OpenApiParameter(
                "to", str, description=f"last local day (default `from`; at most {heatmap.MAX_DAYS} days)"
            ),
            OpenApiParameter("worker", str, description="usernames, comma-separated"),
            OpenApiParameter("grid", str, description="grid codes (the workers' assigned grid that day)"),
            OpenApiParameter("unit", str, description="USCC of the workers' organisation"),
            OpenApiParameter("cell", float, description="cell size in EPSG:3857 metres, 5-1000 (default 10)"),
        ],
        responses=with_errors(
            {200: OpenApiResponse(description="image/tiff: float32 minutes per cell, EPSG:3857, COG")},
            forbidden=True,
        ),
    )
    def get(self, request):
        scope = selectors.scope_sql(request.user)
        if scope is None:
            return Response(error_body([("non_field_errors", "your account may not see patrols")]), status=403)
        try:
            query = heatmap.parse_query(request.query_params.get)
            path = heatmap.cog(query, scope[0], (scope[1], scope[2]))
        except ClientError as exc:
            return Response(error_body([(exc.field or "non_field_errors", exc.message)]), status=exc.status)
        except OperationalError:  # the statement timeout: too many fixes for one request
            log.warning("heat map %s took too long", request.GET.urlencode()[:200])
            body = error_body([("non_field_errors", "too many fixes to map at once: choose fewer days or workers")])
            return Response(body, status=503, headers={"Retry-After": "60"})
        response = FileResponse(open(path, "rb"), content_type="image/tiff")  # noqa: SIM115 - closed by Django
        response["Content-Disposition"] = f'attachment; filename="{heatmap.filename(query)}"'
        # The same URL gives a new raster when fixes of those days arrive: short, private, revalidated.
        response["Cache-Control"] = "private, max-age=60"
        response["ETag"] = f'"{path.stem}"'
        return response


class HeatmapLegend(APIView):
    """GET -> the colour ramp of the heat map layer: {title, unit, stops: [{value, colour, opacity}]}."""

    @extend_schema(responses=with_errors({200: OpenApiResponse(description="the ramp")}))
    def get(self, request):
        response = Response(heatmap.legend())
        response["Cache-Control"] = "private, max-age=3600"
        return response


# --- Coverage (issue 11 §3): reports, unvisited grids, nearest on-duty workers -------------------------

COVERAGE_FORMATS = ("json", "csv", "xlsx")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class _File(BaseRenderer):
    """Lets ?format=csv / xlsx through DRF's content negotiation; the view answers the file itself."""

    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class _CSV(_File):
    media_type, format = "text/csv", "csv"


class _XLSX(_File):
    media_type, format = XLSX_TYPE, "xlsx"


def _day_param(params, name: str, default: dt.date) -> dt.date:
    text = params.get(name)
    if text in (None, ""):
        return default
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ClientError(f"{name}: a date as YYYY-MM-DD", field=name) from None
    if not 2000 <= day.year <= 2999:
        raise ClientError(f"{name}: a date in the years 2000-2999", field=name)
    return day


def _number(params, name: str, low: float, high: float, default=None) -> float:
    text = params.get(name)
    if text in (None, ""):
        if default is None:
            raise ClientError(f"{name}: required", field=name)
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not low <= value <= high:  # also false for NaN
        raise ClientError(f"{name}: a number from {low:g} to {high:g}", field=name)
    return value


def _coverage_scope(user, first, last):
    scope = selectors.coverage_scope(user, first, last)
    if scope is None:
        raise PermissionDenied("patrol coverage: for dispatchers, administrators and grid workers")
    return scope


def _private(response, seconds: int):
    patch_cache_control(response, private=True, max_age=seconds)
    return response


def coverage_csv(report: dict) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    keys = [c["key"] for c in report["columns"]]
    writer.writerow([c["title"] for c in report["columns"]])
    writer.writerows(["" if row[k] is None else row[k] for k in keys] for row in report["rows"])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel reads the Chinese headers right


def coverage_xlsx(report: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "巡查覆盖"
    sheet.append([f"网格巡查覆盖 {report['from']} 至 {report['to']}（按 {report['by']}）"])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([c["title"] for c in report["columns"]])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    keys = [c["key"] for c in report["columns"]]
    for row in report["rows"]:
        sheet.append([row[k] for k in keys])
    sheet.freeze_panes = "B3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class CoverageReport(APIView):
    """GET ?from=&to=&by=grid|community|street|worker&format=json|csv|xlsx (docs/patrols.md)."""

    renderer_classes = [JSONRenderer, _CSV, _XLSX]

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)  # our own 400 for a bad ?format=

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, description="first day (default yesterday, Asia/Shanghai)"),
            OpenApiParameter("to", OpenApiTypes.DATE, description="last day (default = from; at most 366 days)"),
            OpenApiParameter("by", str, enum=list(coverage_reports.BY), description="rows per ... (default grid)"),
            OpenApiParameter("format", str, enum=list(COVERAGE_FORMATS), description="json (default), csv, xlsx"),
        ],
        responses=with_errors({200: OpenApiTypes.OBJECT}, forbidden=True),
    )
    def get(self, request):
        params = request.query_params
        yesterday = timezone.localdate() - dt.timedelta(days=1)
        first = _day_param(params, "from", yesterday)
        last = _day_param(params, "to", first)
        if last < first:
            raise ClientError("to: must not be before from", field="to")
        if (last - first).days >= coverage_reports.MAX_RANGE_DAYS:
            raise ClientError(f"to: at most {coverage_reports.MAX_RANGE_DAYS} days from `from`", field="to")
        by = params.get("by", "grid")
        if by not in coverage_reports.BY:
            raise ClientError(f"by: one of {', '.join(coverage_reports.BY)}", field="by")
        fmt = params.get("format", "json")
        if fmt not in COVERAGE_FORMATS:
            raise ClientError(f"format: one of {', '.join(COVERAGE_FORMATS)}", field="format")
        report = coverage_reports.report(_coverage_scope(request.user, first, last), first, last, by)
        # Past days change only when recomputed (nightly); a range with today changes every 30 minutes.
        seconds = 300 if last < timezone.localdate() else 60
        if fmt == "json":
            return _private(Response(report), seconds)
        body, kind = (
            (coverage_csv(report), "text/csv; charset=utf-8") if fmt == "csv" else (coverage_xlsx(report), XLSX_TYPE)
        )
        response = HttpResponse(body, content_type=kind)
        response["Content-Disposition"] = f'attachment; filename="patrol-coverage-{by}-{first}-{last}.{fmt}"'
        return _private(response, seconds)


class UnvisitedGrids(APIView):
    """GET ?date= (default today): base grids with no fix inside them that day, live from the fixes."""

    @extend_schema(
        parameters=[OpenApiParameter("date", OpenApiTypes.DATE, description="default today (Asia/Shanghai)")],
        responses=with_errors({200: OpenApiTypes.OBJECT}, forbidden=True),
    )
    def get(self, request):
        day = _day_param(request.query_params, "date", timezone.localdate())
        grids = coverage_reports.unvisited_grids(_coverage_scope(request.user, day, day), day)
        return _private(Response({"date": day.isoformat(), "count": len(grids), "grids": grids}), 60)


class NearestWorkers(APIView):
    """GET ?lon=&lat=&n=5: on-duty workers (a fix in the last 15 minutes), nearest first."""

    @extend_schema(
        parameters=[
            OpenApiParameter("lon", float, required=True, description="EPSG:4490 longitude"),
            OpenApiParameter("lat", float, required=True, description="EPSG:4490 latitude"),
            OpenApiParameter("n", int, description="how many (1-50, default 5)"),
        ],
        responses=with_errors({200: OpenApiTypes.OBJECT}, forbidden=True),
    )
    def get(self, request):
        params = request.query_params
        lon = _number(params, "lon", -180, 180)
        lat = _number(params, "lat", -90, 90)
        n = _number(params, "n", 1, 50, default=5)
        if n != int(n):
            raise ClientError("n: a whole number from 1 to 50", field="n")
        today = timezone.localdate()
        workers = coverage_reports.nearest_workers(_coverage_scope(request.user, today, today), lon, lat, int(n))
        response = Response(
            {"lon": lon, "lat": lat, "on_duty_minutes": coverage_reports.ON_DUTY_MINUTES, "workers": workers}
        )
        patch_cache_control(response, no_store=True)
        return response
