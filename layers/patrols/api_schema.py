"""The OpenAPI description of the patrol endpoints (documentation only: ingest validates itself)."""

from rest_framework import serializers

from .ingest import CRS_NAMES
from .models import QuarantinedFix


class PatrolFixIn(serializers.Serializer):
    fix_time = serializers.DateTimeField(help_text="with UTC offset")
    send_time = serializers.DateTimeField(required=False, allow_null=True)
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    accuracy = serializers.FloatField(required=False, allow_null=True, min_value=0, help_text="metres")
    speed = serializers.FloatField(required=False, allow_null=True, min_value=0, help_text="m/s")
    heading = serializers.FloatField(required=False, allow_null=True, min_value=0, max_value=360)
    crs = serializers.ChoiceField(choices=list(CRS_NAMES))


class PatrolBatchIn(serializers.Serializer):
    device_id = serializers.CharField(required=False, max_length=64)
    worker = serializers.CharField(required=False, help_text="if given, your own username")
    fixes = PatrolFixIn(many=True, help_text="at most GRIDCITY_PATROL_MAX_FIXES (10,000); more: 413")


class PatrolQuarantined(serializers.Serializer):
    index = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=QuarantinedFix.Reason.values)


class PatrolBatchOut(serializers.Serializer):
    stored = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    quarantined = PatrolQuarantined(many=True)


class PatrolStop(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    minutes = serializers.FloatField()
    lon = serializers.FloatField()
    lat = serializers.FloatField()
    fixes = serializers.IntegerField()


class PatrolTrip(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    distance_m = serializers.FloatField()
    fixes = serializers.IntegerField()


class PatrolDay(serializers.Serializer):
    worker = serializers.CharField()
    date = serializers.DateField()
    coordinates = serializers.ListField(
        child=serializers.ListField(child=serializers.JSONField()), help_text="[[t_iso, lon, lat], ...] in time order"
    )
    stops = PatrolStop(many=True)
    trips = PatrolTrip(many=True)
    stop_rule = serializers.DictField(child=serializers.FloatField())


class PatrolDayWorker(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField(help_text="family + given name, else the username")
    unit = serializers.CharField(allow_null=True, help_text="the worker's organisation")
    first_time = serializers.DateTimeField()
    last_time = serializers.DateTimeField()
    fix_count = serializers.IntegerField()
    distance_m = serializers.FloatField(help_text="length of the day's line (geodesic)")


class PatrolDayWorkers(serializers.Serializer):
    date = serializers.DateField()
    workers = PatrolDayWorker(many=True)
    truncated = serializers.BooleanField(help_text="more than 500 workers: narrow with q")


class PatrolPositions(serializers.Serializer):
    type = serializers.CharField(default="FeatureCollection")
    features = serializers.ListField(
        child=serializers.DictField(), help_text="Point features: worker, fix_time, accuracy, speed, heading"
    )
    truncated = serializers.BooleanField()
