from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from components.api.serializers import _GeoJSONGeometry

from ..models import Grid, GridReassignment, GridStaff, GridVersion


class GridStaffSerializer(serializers.ModelSerializer):
    role_name = serializers.CharField(source="get_role_display")

    class Meta:
        model = GridStaff
        fields = ["role", "role_name", "name", "phone"]


class GridSerializer(GeoFeatureModelSerializer):
    level = serializers.IntegerField(source="level_id")
    level_name = serializers.CharField(source="level.name")
    organisation = serializers.SerializerMethodField()
    staff = GridStaffSerializer(many=True, read_only=True)

    class Meta:
        model = Grid
        geo_field = "geom"
        id_field = "code"
        fields = [
            "code",
            "name",
            "level",
            "level_name",
            "parent_code",
            "area_m2",
            "organisation",
            "population",
            "households",
            "version",
            "valid_from",
            "staff",
        ]

    def get_organisation(self, obj) -> dict | None:
        o = obj.organisation
        return None if o is None else {"uscc": o.uscc, "name": o.name, "phone": o.phone}


class GridSummarySerializer(serializers.ModelSerializer):
    level = serializers.IntegerField(source="level_id")
    level_name = serializers.CharField(source="level.name")

    class Meta:
        model = Grid
        fields = ["code", "name", "level", "level_name", "parent_code"]


class GridVersionSerializer(GeoFeatureModelSerializer):
    level = serializers.IntegerField(source="level_id")

    class Meta:
        model = GridVersion
        geo_field = "geom"
        fields = [
            "code",
            "version",
            "name",
            "level",
            "parent_code",
            "area_m2",
            "population",
            "households",
            "valid_from",
            "valid_to",
        ]


class GridReassignmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = GridReassignment
        fields = ["id", "reason", "bbox", "status", "components_changed", "queued_at", "finished_at", "error"]


class GridWriteSerializer(serializers.Serializer):
    """Geometry: a GeoJSON Polygon or MultiPolygon in EPSG:4490."""

    code = serializers.RegexField(r"^[0-9]{6,18}$")
    name = serializers.CharField(max_length=100)
    level = serializers.IntegerField(min_value=1, max_value=5)
    parent_code = serializers.RegexField(r"^[0-9]{6,18}$", required=False, allow_blank=True, default="")
    geometry = _GeoJSONGeometry(source="geom")
    # The columns are PostgreSQL integers: a larger number is the client's error, not a database refusal.
    population = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False, allow_null=True)
    households = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False, allow_null=True)

    def validate_geometry(self, geom):
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            raise serializers.ValidationError("a grid is a Polygon or MultiPolygon")
        geom.srid = 4490
        return geom
