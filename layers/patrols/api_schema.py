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


class PatrolShift(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    minutes = serializers.FloatField()
    distance_m = serializers.FloatField()
    fixes = serializers.IntegerField()


class PatrolDay(serializers.Serializer):
    worker = serializers.CharField()
    date = serializers.DateField()
    coordinates = serializers.ListField(
        child=serializers.ListField(child=serializers.JSONField()), help_text="[[t_iso, lon, lat], ...] in time order"
    )
    shifts = PatrolShift(many=True, help_text="the day cut where the phone was silent > shift_gap_minutes")
    stops = PatrolStop(many=True)
    trips = PatrolTrip(many=True)
    stop_rule = serializers.DictField(child=serializers.FloatField())
    shift_gap_minutes = serializers.FloatField()


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


class QuarantinedFix(serializers.Serializer):
    worker = serializers.CharField()
    device_id = serializers.CharField()
    fix_time = serializers.DateTimeField()
    send_time = serializers.DateTimeField(allow_null=True)
    receive_time = serializers.DateTimeField()
    lon = serializers.FloatField(allow_null=True, help_text="EPSG:4490; null when it could not be converted")
    lat = serializers.FloatField(allow_null=True)
    accuracy = serializers.FloatField(allow_null=True)
    speed = serializers.FloatField(allow_null=True)
    crs = serializers.CharField(help_text="the coordinate system the phone said")
    reason = serializers.CharField()
    reason_label = serializers.CharField(help_text="in Chinese")


class QuarantineCount(serializers.Serializer):
    reason = serializers.CharField()
    reason_label = serializers.CharField()
    count = serializers.IntegerField()


class Quarantine(serializers.Serializer):
    date = serializers.DateField()
    counts = QuarantineCount(many=True)
    total = serializers.IntegerField()
    fixes = QuarantinedFix(many=True)
    truncated = serializers.BooleanField(help_text="more than 1,000 fixes: narrow with worker or reason")


class DeviceClock(serializers.Serializer):
    worker = serializers.CharField()
    name = serializers.CharField()
    device_id = serializers.CharField()
    skew_seconds = serializers.FloatField(help_text="receive time - send time, median of the last batch")
    clock_wrong = serializers.BooleanField(help_text="off by more than 60 s")
    updated_at = serializers.DateTimeField()
