"""Thin REST views: fixes in (POST /api/patrols/fixes/) and a day's playback out."""

import datetime as dt
import hashlib
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
from gis_core.text import has_nul

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
