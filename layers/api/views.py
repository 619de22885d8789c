import datetime as dt

from django.db.models import Count
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from components import selectors as component_selectors
from components.api.permissions import CanRead, ReadOrRegister
from components.models import ComponentClass, ComponentState
from components.search import code_prefix_q
from gis_core.crs import CRSError, parse_crs, storage_point
from gis_core.errors import ServiceError
from gis_core.openapi import feature_page, with_errors
from gis_core.text import finite_float, is_ascii_digits

from ..grids import services as grid_services
from ..grids.coverage import coverage_gaps
from ..grids.lookup import grids_at
from ..grids.selectors import visible_grids
from ..models import GridReassignment, GridVersion
from .serializers import (
    GridReassignmentSerializer,
    GridSerializer,
    GridSummarySerializer,
    GridVersionSerializer,
    GridWriteSerializer,
)

LOCATE_RESPONSE = {
    "type": "object",
    "properties": {
        "lon": {"type": "number"},
        "lat": {"type": "number"},
        "base_grid": {"type": "string", "nullable": True},
        "grids": {"type": "array", "items": {"$ref": "#/components/schemas/Grid"}, "description": "district first"},
    },
}


def _bad(param, message):
    raise ValidationError({param: [message]})


class GridList(generics.ListAPIView):
    """Grids as GeoJSON, filtered by level and parent; POST creates one (GIS editors)."""

    permission_classes = [ReadOrRegister]
    serializer_class = GridSerializer

    @extend_schema(request=GridWriteSerializer, responses=with_errors({201: GridSerializer}, forbidden=True))
    def post(self, request):
        s = GridWriteSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        data = dict(s.validated_data)
        grid = grid_services.create_grid(**data)
        return Response(GridSerializer(grid).data, status=201)

    @extend_schema(
        parameters=[OpenApiParameter("level", int), OpenApiParameter("parent", str)],
        responses=with_errors({200: feature_page("Grid")}),
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        qs = visible_grids(self.request.user).prefetch_related("staff").order_by("code")
        level = self.request.query_params.get("level")
        if level:
            if not is_ascii_digits(level) or len(level) > 2:
                _bad("level", "must be a level number 1-5")
            qs = qs.filter(level_id=int(level))
        parent = self.request.query_params.get("parent")
        if parent:
            if not is_ascii_digits(parent) or len(parent) > 20:
                _bad("parent", "must be a grid code")
            qs = qs.filter(parent_code=parent)
        return qs


class GridDetail(APIView):
    """GET a grid (or its version as of a time); PATCH name, geometry, population, households; DELETE."""

    permission_classes = [ReadOrRegister]

    @extend_schema(
        request=GridWriteSerializer, responses=with_errors({200: GridSerializer}, not_found=True, forbidden=True)
    )
    def patch(self, request, code):
        s = GridWriteSerializer(data=request.data, partial=True)
        s.is_valid(raise_exception=True)
        changes = dict(s.validated_data)
        for fixed in ("code", "level", "parent_code"):
            if fixed in changes:
                raise ServiceError({fixed: "cannot be changed: create a new grid and delete this one"})
        grid = grid_services.update_grid(code, **changes)
        return Response(GridSerializer(grid).data)

    @extend_schema(responses=with_errors({204: None}, not_found=True, forbidden=True))
    def delete(self, request, code):
        grid_services.delete_grid(code)
        return Response(status=204)

    @extend_schema(
        responses=with_errors({200: GridSerializer}, not_found=True),
        parameters=[OpenApiParameter("as_of", OpenApiTypes.DATETIME, description="the version current at this time")],
    )
    def get(self, request, code):
        as_of = request.query_params.get("as_of")
        if as_of:
            try:
                when = dt.datetime.fromisoformat(as_of)
            except ValueError:
                _bad("as_of", "must be an ISO date or date-time")
            if when.tzinfo is None:
                from django.utils import timezone

                when = timezone.make_aware(when)
            version = (
                GridVersion.objects.filter(code=code, valid_from__lte=when)
                .exclude(valid_to__lte=when)
                .order_by("-version")
                .first()
            )
            if version is None or not visible_grids(request.user).exists():
                return Response(
                    {"message": f"no version of grid {code} at {as_of}", "field": "as_of", "errors": []}, status=404
                )
            return Response(GridVersionSerializer(version).data)
        grid = get_object_or_404(visible_grids(request.user).prefetch_related("staff"), code=code)
        return Response(GridSerializer(grid).data)


class GridVersions(APIView):
    """Every version of a grid, oldest first."""

    permission_classes = [CanRead]

    @extend_schema(responses=with_errors({200: GridVersionSerializer(many=True)}, not_found=True))
    def get(self, request, code):
        versions = GridVersion.objects.filter(code=code).order_by("version")
        if not versions.exists() or not visible_grids(request.user).exists():
            return Response({"message": f"no grid {code}", "field": None, "errors": []}, status=404)
        return Response(GridVersionSerializer(versions, many=True).data)


class GridLocate(APIView):
    """Which grid am I in: every grid containing the point, district first, base grid last, with staff."""

    permission_classes = [CanRead]

    @extend_schema(
        parameters=[
            OpenApiParameter("lon", float, required=True),
            OpenApiParameter("lat", float, required=True),
            OpenApiParameter("crs", str, description="EPSG:4490 (default), 4326, GCJ02, BD09 ..."),
        ],
        responses=with_errors({200: LOCATE_RESPONSE}),
    )
    def get(self, request):
        values = {}
        for name in ("lon", "lat"):
            if name not in request.query_params:
                _bad(name, "required")
            try:
                values[name] = finite_float(request.query_params[name])
            except ValueError:
                _bad(name, "must be a finite number")
        lon, lat = values["lon"], values["lat"]
        try:
            crs = parse_crs(request.query_params.get("crs", "EPSG:4490"))
        except CRSError as exc:
            _bad("crs", str(exc))
        try:
            x, y = storage_point(lon, lat, crs)
        except CRSError as exc:
            _bad("lon", str(exc))
        grids = grids_at(x, y, visible_grids(request.user))
        base = next((g for g in reversed(grids) if g.level_id >= 4), None)
        return Response(
            {
                "lon": x,
                "lat": y,
                "base_grid": base.code if base else None,
                "grids": GridSerializer(grids, many=True).data["features"],
            }
        )


class GridCoverage(APIView):
    """The area of a grid that its children do not cover, so gaps are visible and fixable."""

    permission_classes = [CanRead]

    @extend_schema(responses=with_errors({200: OpenApiTypes.OBJECT}, not_found=True))
    def get(self, request, code):
        get_object_or_404(visible_grids(request.user), code=code)
        gaps = coverage_gaps(code, min_area_m2=0)
        return Response(gaps[0] if gaps else {"code": code, "gap_area_m2": 0.0, "gap": None})


class CoverageGaps(APIView):
    """Every parent grid with area not covered by its children (at least `min_area_m2`)."""

    permission_classes = [CanRead]

    @extend_schema(
        parameters=[OpenApiParameter("min_area_m2", float)], responses=with_errors({200: OpenApiTypes.OBJECT})
    )
    def get(self, request):
        try:
            min_area = finite_float(request.query_params.get("min_area_m2", "1"))
        except ValueError:
            _bad("min_area_m2", "must be a finite number")
        if not visible_grids(request.user).exists():
            return Response({"gaps": []})
        return Response({"gaps": coverage_gaps(None, min_area_m2=min_area)})


class ReassignmentList(generics.ListAPIView):
    """Re-assignments of components after grid edits, newest first, with how many components changed."""

    permission_classes = [CanRead]
    serializer_class = GridReassignmentSerializer
    pagination_class = None

    def get_queryset(self):
        return GridReassignment.objects.all()[:100]


class GridSummaryList(generics.ListAPIView):
    """Codes and names only, for search boxes."""

    permission_classes = [CanRead]
    serializer_class = GridSummarySerializer
    pagination_class = None

    def get_queryset(self):
        q = self.request.query_params.get("q", "")
        qs = visible_grids(self.request.user).order_by("code")
        if q:
            qs = qs.filter(code__startswith=q) if is_ascii_digits(q) else qs.filter(name__contains=q)
        return qs[:50]


GRID_SUMMARY_RESPONSE = {
    "type": "object",
    "properties": {
        "code": {"type": "string"},
        "name": {"type": "string"},
        "level": {"type": "integer"},
        "level_name": {"type": "string"},
        "parent": {
            "type": "object",
            "nullable": True,
            "properties": {"code": {"type": "string"}, "name": {"type": "string", "nullable": True}},
        },
        "organisation": {"type": "string", "nullable": True},
        "area_m2": {"type": "number"},
        "components": {
            "type": "object",
            "description": "live components in the grid (and its children) this account may see",
            "properties": {
                "total": {"type": "integer"},
                "by_class": {"type": "array", "items": {"type": "object"}},
                "by_state": {"type": "array", "items": {"type": "object"}},
            },
        },
    },
}


class GridSummary(APIView):
    """网格概况: the grid with its parent's code and name, and its live components counted by class and
    by state (components whose grid code is this grid's or extends it: a street counts its base grids)."""

    permission_classes = [CanRead]

    @extend_schema(tags=["网格"], responses=with_errors({200: GRID_SUMMARY_RESPONSE}, not_found=True))
    def get(self, request, code):
        if not is_ascii_digits(code) or len(code) > 18:
            return Response({"message": f"no grid {code[:20]}", "field": None, "errors": []}, status=404)
        grid = get_object_or_404(visible_grids(request.user), code=code)
        parent = None
        if grid.parent_code:
            name = visible_grids(request.user).filter(code=grid.parent_code).values_list("name", flat=True).first()
            parent = {"code": grid.parent_code, "name": name}
        inside = (
            component_selectors.visible_components(request.user)
            .filter(retired=False)
            .filter(code_prefix_q(code, "grid_code"))
            .order_by()
        )
        # Grouped by the two keys only (no joins over the grid's rows); names from the small tables.
        rows = list(inside.values("component_class_id", "state_id").annotate(n=Count("id")))
        classes = {k.pk: k for k in ComponentClass.objects.filter(pk__in={r["component_class_id"] for r in rows})}
        states = dict(ComponentState.objects.values_list("code", "name"))
        by_class: dict[str, dict] = {}
        by_state: dict[str, dict] = {}
        for r in rows:
            k = classes[r["component_class_id"]]
            entry = by_class.setdefault(
                k.code, {"class_code": k.code, "class_name": k.name, "major_code": k.major_code, "count": 0}
            )
            entry["count"] += r["n"]
            st = by_state.setdefault(
                r["state_id"], {"state": r["state_id"], "state_name": states.get(r["state_id"]), "count": 0}
            )
            st["count"] += r["n"]
        response = Response(
            {
                "code": grid.code,
                "name": grid.name,
                "level": grid.level_id,
                "level_name": grid.level.name,
                "parent": parent,
                "organisation": grid.organisation.name if grid.organisation_id else None,
                "area_m2": round(grid.area_m2, 1),
                "components": {
                    "total": sum(r["n"] for r in rows),
                    "by_class": sorted(by_class.values(), key=lambda k: (-k["count"], k["class_code"])),
                    "by_state": sorted(by_state.values(), key=lambda k: (-k["count"], k["state"])),
                },
            }
        )
        response["Cache-Control"] = "private, max-age=30"
        return response
