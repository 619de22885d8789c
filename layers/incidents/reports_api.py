"""Thin views over layers.incidents.reports and the safety index: JSON, CSV and XLSX.

GET /api/incidents/reports/?period=day|week|range&date=&date_from=&date_to=&level=&format=json|csv|xlsx
GET /api/incidents/safety-index/?level=grid|community"""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import PermissionDenied
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from components import roles
from gis_core.errors import ClientError
from gis_core.openapi import with_errors

from . import reports
from .reports_models import SafetyIndex
from .safety_index import BASE_LEVEL, COMMUNITY_LEVEL

# Leaders (领导) read reports and nothing else: a Django group of this name, beside the five roles.
LEADER = "leader"
REPORT_ROLES = frozenset({roles.DISPATCHER, roles.ADMINISTRATOR, LEADER})
FORMATS = ("json", "csv", "xlsx")
# Dates far outside any case's life (0001-01-01, 9999-12-31) would overflow the period's bounds.
FIRST_YEAR, LAST_YEAR = 2000, 2999
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

PARAMS = [
    OpenApiParameter("period", str, enum=list(reports.PERIODS), description="day, week (Monday-Sunday) or range"),
    OpenApiParameter("date", OpenApiTypes.DATE, description="a day of the period (default today, Asia/Shanghai)"),
    OpenApiParameter("date_from", OpenApiTypes.DATE, description="period=range: first day"),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="period=range: last day (at most 366 days)"),
    OpenApiParameter("level", str, enum=list(reports.LEVELS), description="rows per street, community, grid or unit"),
    OpenApiParameter("format", str, enum=list(FORMATS), description="json (default), csv or xlsx download"),
]


class _File(BaseRenderer):
    """Lets ?format=csv / xlsx through DRF's content negotiation; the view answers the file itself."""

    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


class CSVRenderer(_File):
    media_type, format = "text/csv", "csv"


class XLSXRenderer(_File):
    media_type, format = XLSX_TYPE, "xlsx"


def may_read_reports(user) -> bool:
    return bool(roles.roles_of(user) & REPORT_ROLES)


def _check(user) -> None:
    if not may_read_reports(user):
        raise PermissionDenied("reports: for dispatchers, administrators and leaders")


def _choice(params, name: str, allowed, default: str) -> str:
    value = params.get(name, default)
    if value not in allowed:
        raise ClientError(f"{name}: one of {', '.join(allowed)}", field=name)
    return value


def _date(params, name: str) -> dt.date | None:
    text = params.get(name)
    if text in (None, ""):
        return None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise ClientError(f"{name}: must be a date YYYY-MM-DD", field=name) from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ClientError(f"{name}: a date in the years {FIRST_YEAR}-{LAST_YEAR}", field=name)
    return day


def parse(params) -> tuple[reports.Period, str, str]:
    """(period, level, format) from the query, each checked: a bad one is a 400 naming it."""
    kind = _choice(params, "period", reports.PERIODS, "week")
    level = _choice(params, "level", reports.LEVELS, "street")
    fmt = _choice(params, "format", FORMATS, "json")
    day = _date(params, "date")
    first, last = _date(params, "date_from"), _date(params, "date_to")
    if kind == "range":
        if first is None or last is None:
            raise ClientError("date_from: period=range needs date_from and date_to", field="date_from")
        if last < first:
            raise ClientError("date_to: must not be before date_from", field="date_to")
        if (last - first).days >= reports.MAX_RANGE_DAYS:
            raise ClientError(f"date_to: a range covers at most {reports.MAX_RANGE_DAYS} days", field="date_to")
    return reports.period(kind, day, first, last), level, fmt


def _filename(report: dict, ext: str) -> str:
    p = report["period"]
    return f"incidents-report-{p['kind']}-{p['first']}-{p['last']}-{report['level']}.{ext}"


def _table(report: dict) -> tuple[list[str], list[list]]:
    keys = [c["key"] for c in report["columns"]]
    rows = [[row[k] for k in keys] for row in [*report["rows"], report["total"]]]
    return [c["title"] for c in report["columns"]], rows


def _ranking_table(report: dict) -> tuple[list[str], list[list]]:
    keys = [c["key"] for c in report["ranking_columns"]]
    return [c["title"] for c in report["ranking_columns"]], [[r[k] for k in keys] for r in report["ranking"]]


def as_csv(report: dict) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    headers, rows = _table(report)
    writer.writerow(headers)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    # A UTF-8 BOM: Excel (the usual reader of a 报表) otherwise opens the Chinese headers as mojibake.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def as_xlsx(report: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    p = report["period"]
    book = Workbook()
    sheet = book.active
    sheet.title = "案件统计"
    sheet.append([f"案件统计报表 {p['first']} 至 {p['last']}（按{report['level_name']}）"])
    sheet["A1"].font = Font(bold=True, size=13)
    headers, rows = _table(report)
    sheet.append(headers)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "C3"
    ranking = book.create_sheet("网格员排名")
    headers, rows = _ranking_table(report)
    ranking.append(headers)
    for row in rows:
        ranking.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


class IncidentReport(APIView):
    renderer_classes = [JSONRenderer, CSVRenderer, XLSXRenderer]

    def perform_content_negotiation(self, request, force=False):
        # An unknown ?format= is answered by our own 400 naming the parameter, not DRF's 404.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(parameters=PARAMS, responses=with_errors({200: OpenApiTypes.OBJECT}, forbidden=True))
    def get(self, request):
        _check(request.user)
        p, level, fmt = parse(request.query_params)
        report = reports.build(p, level)
        if fmt == "json":
            return Response(report)
        body, content_type = (
            (as_csv(report), "text/csv; charset=utf-8") if fmt == "csv" else (as_xlsx(report), XLSX_TYPE)
        )
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{_filename(report, fmt)}"'
        return response


SAFETY_LEVELS = {"grid": BASE_LEVEL, "community": COMMUNITY_LEVEL}


class SafetyIndexList(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("level", str, enum=list(SAFETY_LEVELS), description="grid (default) or community")
        ],
        responses=with_errors({200: OpenApiTypes.OBJECT}, forbidden=True),
    )
    def get(self, request):
        _check(request.user)
        level = _choice(request.query_params, "level", SAFETY_LEVELS, "grid")
        rows = list(
            SafetyIndex.objects.filter(level=SAFETY_LEVELS[level])
            .order_by("score", "grid_code")
            .values("grid_code", "name", "population", "cases", "weighted_cases", "rate_per_1000", "score")
        )
        computed = SafetyIndex.objects.order_by("-computed_at").values("computed_at", "window_days").first()
        return Response(
            {
                "level": level,
                "computed_at": computed["computed_at"] if computed else None,
                "window_days": computed["window_days"] if computed else None,
                "rows": rows,
            }
        )
