"""Thin REST views: fixes in (POST /api/patrols/fixes/) and a day's playback out."""

import datetime as dt
import json
import logging

from django.conf import settings
from django.db import OperationalError
from django.http import FileResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from gis_core.api_errors import error_body
from gis_core.errors import ClientError, ServiceError
from gis_core.openapi import error, with_errors

from . import api_schema, heatmap, playback, selectors
from .ingest import ingest

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
