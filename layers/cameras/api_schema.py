"""The OpenAPI description of the camera endpoints (documentation only: the service validates)."""

from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from .models import Ptz, State

LIST_PARAMS = [
    OpenApiParameter("grid", str, description="base grid codes, comma-separated"),
    OpenApiParameter("state", str, description=f"states, comma-separated ({', '.join(State.values)})"),
    OpenApiParameter("ptz", str, description=f"PTZ types, comma-separated ({', '.join(Ptz.values)})"),
    OpenApiParameter("bbox", str, description="minlon,minlat,maxlon,maxlat (EPSG:4490): cameras standing inside"),
    OpenApiParameter(
        "within", str, description="a Polygon or MultiPolygon as WKT or GeoJSON (EPSG:4490): cameras standing inside"
    ),
]
PAGE_PARAMS = [
    OpenApiParameter("limit", int, description="rows per page, 1-1000 (default 100)"),
    OpenApiParameter("offset", int, description="rows to skip (default 0)"),
]
POINT_PARAMS = [
    OpenApiParameter("lon", float, required=True, description="EPSG:4490"),
    OpenApiParameter("lat", float, required=True, description="EPSG:4490"),
]


class CameraIn(serializers.Serializer):
    device_id = serializers.CharField(help_text="20-digit GB/T 28181 ID, type 131 or 132")
    name = serializers.CharField()
    lon = serializers.FloatField(help_text="EPSG:4490, inside GRIDCITY_DISTRICT_BBOX")
    lat = serializers.FloatField()
    azimuth = serializers.FloatField(help_text="[0, 360), true north, clockwise")
    h_fov = serializers.FloatField(help_text="(0, 360]")
    range_m = serializers.FloatField(help_text="(0, 500]")
    v_fov = serializers.FloatField(required=False, allow_null=True)
    mount_height = serializers.FloatField(required=False, allow_null=True, help_text="[0, 200] m")
    ptz = serializers.ChoiceField(choices=Ptz.values, required=False)
    pan_min = serializers.FloatField(required=False, allow_null=True, help_text="pan_range only")
    pan_max = serializers.FloatField(required=False, allow_null=True, help_text="pan_range only")
    owner = serializers.CharField(required=False, allow_null=True, help_text="USCC")
    maintainer = serializers.CharField(required=False, allow_null=True, help_text="USCC")
    state = serializers.ChoiceField(choices=State.values, required=False)
    stream_url = serializers.CharField(required=False)
    focal_mm = serializers.FloatField(
        required=False, allow_null=True, help_text="lens focal length, mm; with the next two, h_fov and range_m follow"
    )
    sensor_width_mm = serializers.FloatField(required=False, allow_null=True, help_text="sensor width, mm")
    image_width_px = serializers.IntegerField(required=False, allow_null=True, help_text="horizontal pixels")


class Camera(serializers.Serializer):
    id = serializers.IntegerField()
    device_id = serializers.CharField()
    device_type = serializers.CharField(help_text="摄像机 (131) or 网络摄像机 (132)")
    name = serializers.CharField()
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    mount_height = serializers.FloatField(allow_null=True)
    azimuth = serializers.FloatField()
    h_fov = serializers.FloatField()
    v_fov = serializers.FloatField(allow_null=True)
    range_m = serializers.FloatField()
    ptz = serializers.ChoiceField(choices=Ptz.values)
    pan_min = serializers.FloatField(allow_null=True)
    pan_max = serializers.FloatField(allow_null=True)
    owner = serializers.CharField(allow_null=True, help_text="USCC")
    maintainer = serializers.CharField(allow_null=True, help_text="USCC")
    state = serializers.ChoiceField(choices=State.values)
    state_label = serializers.CharField()
    grid_code = serializers.CharField()
    stream_url = serializers.CharField(required=False, help_text="editors, administrators and dispatchers only")
    distance_m = serializers.FloatField(required=False, help_text="seeing only: metres from the point")
    focal_mm = serializers.FloatField(required=False, allow_null=True, help_text="one camera only")
    sensor_width_mm = serializers.FloatField(required=False, allow_null=True, help_text="one camera only")
    image_width_px = serializers.IntegerField(required=False, allow_null=True, help_text="one camera only")
    range_source = serializers.ChoiceField(
        choices=["lens", "stored"],
        required=False,
        help_text="one camera only: range_m derived from the lens (recognise pixel density) or as stored",
    )


class CameraPage(serializers.Serializer):
    count = serializers.IntegerField(help_text="matches on every page")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = Camera(many=True)


class Seeing(serializers.Serializer):
    cameras = Camera(many=True, help_text="the current view holds the point, nearest first")
    could_turn = Camera(many=True, help_text="PTZ cameras whose reach holds the point, not already seeing it")


class BlindGrid(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class BlindGrids(serializers.Serializer):
    count = serializers.IntegerField()
    grids = BlindGrid(many=True)


class BlindRoad(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(allow_null=True)


class BlindRoads(serializers.Serializer):
    count = serializers.IntegerField(help_text="at most 5,000")
    roads = BlindRoad(many=True)


class HistoryEntry(serializers.Serializer):
    event_id = serializers.IntegerField()
    at = serializers.DateTimeField()
    user = serializers.CharField(allow_null=True)
    action = serializers.CharField(help_text="create, update, delete, import, wfs; sql for a write outside the service")
    label = serializers.ChoiceField(choices=["insert", "update", "delete"])
    changes = serializers.DictField(child=serializers.ListField(), help_text="{field: [old, new]}")


class History(serializers.Serializer):
    id = serializers.IntegerField()
    device_id = serializers.CharField()
    history = HistoryEntry(many=True, help_text="newest first")


class ImportRow(serializers.Serializer):
    line = serializers.IntegerField(help_text="CSV/XLSX: the line or sheet row; GeoPackage: the feature number")
    device_id = serializers.CharField()
    result = serializers.ChoiceField(choices=["created", "updated", "refused"])
    field = serializers.CharField(required=False)
    message = serializers.CharField(required=False)


class ImportReport(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    refused = serializers.IntegerField()
    rows = ImportRow(many=True)
