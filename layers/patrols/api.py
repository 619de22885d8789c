"""Thin REST views: fixes in (POST /api/patrols/fixes/) and a day's playback out."""

import csv
import datetime as dt
import io
import json

from django.conf import settings
from django.http import HttpResponse
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

from . import api_schema, coverage_reports, playback, selectors
from .ingest import ingest


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
            batch = json.loads(raw)
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
        try:
            day = dt.date.fromisoformat(date)
        except ValueError:
            return Response(error_body([("date", "a date as YYYY-MM-DD")]), status=400)
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
