from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from gis_core.crs import CRSError, parse_crs, to_storage_shape
from gis_core.geometry import flat_geos
from gis_core.text import bad_character

from .. import visibility
from ..models import Component, ComponentClass, ComponentState, DataSource, Organisation, OwnershipTransfer
from ..services.components import NOTE_MAX_LENGTH
from ..validation import to_shapely


class FreeText(serializers.CharField):
    """Free text typed by people: no control or format characters (gis_core.text.bad_character);
    `multiline` text may hold tabs and line breaks."""

    def __init__(self, multiline: bool = False, **kwargs):
        self.multiline = multiline
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        reason = bad_character(value, multiline=self.multiline)
        if reason:
            raise serializers.ValidationError(reason)
        return value


def _viewer(serializer):
    request = serializer.context.get("request")
    return getattr(request, "user", None)


class _HidesOtherPhones:
    """A maintenance unit sees the phone of its own organisation only (visibility.sees_organisation_details).
    Without a request in the context (internal use) nothing is hidden."""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if "request" in self.context and not visibility.sees_organisation_details(_viewer(self), instance):
            data["phone"] = None
        return data


def hide_other_phones(feature: dict, user) -> dict:
    """The same rule for the fast feature dicts (components.api.features): a Feature or a flat
    dict with department/owner/maintainer entries."""
    kind, own = visibility.scope(user)
    if kind == visibility.ALL:
        return feature
    props = feature.get("properties", feature)
    for role in ("department", "owner", "maintainer"):
        org = props.get(role)
        if isinstance(org, dict) and (own is None or org.get("uscc") != own.uscc):
            org["phone"] = None
    return feature


class OrganisationRefSerializer(_HidesOtherPhones, serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["uscc", "name", "phone"]


class OrganisationSerializer(_HidesOtherPhones, serializers.ModelSerializer):
    name = FreeText(max_length=200)
    contact_person = FreeText(max_length=50, required=False, allow_blank=True)
    phone = FreeText(max_length=30, required=False, allow_blank=True)
    address = FreeText(max_length=200, required=False, allow_blank=True)

    class Meta:
        model = Organisation
        fields = ["uscc", "name", "kinds", "contact_person", "phone", "address"]


class ComponentSerializer(GeoFeatureModelSerializer):
    """A component as a GeoJSON Feature whose id is its standard ID."""

    class_code = serializers.CharField(source="component_class.code")
    class_name = serializers.CharField(source="component_class.name")
    major_code = serializers.CharField(source="component_class.major_code")
    major_name = serializers.CharField(source="component_class.major_name")
    state = serializers.CharField(source="state_id")
    state_name = serializers.CharField(source="state.name")
    department = OrganisationRefSerializer(allow_null=True)
    owner = OrganisationRefSerializer(allow_null=True)
    maintainer = OrganisationRefSerializer(allow_null=True)
    distance_m = serializers.SerializerMethodField()
    card_url = serializers.SerializerMethodField()
    attribute_rows = serializers.SerializerMethodField(
        help_text="detail only: the class attributes with their Chinese labels, [{key, label, value}]"
    )
    grid = serializers.SerializerMethodField(help_text="detail only: {code, name, level, level_name} or null")

    class Meta:
        model = Component
        geo_field = "geom"
        id_field = "code"
        fields = [
            "code",
            "class_code",
            "class_name",
            "major_code",
            "major_name",
            "name",
            "admin_code",
            "street_code",
            "community_code",
            "grid_code",
            "location_desc",
            "department",
            "owner",
            "maintainer",
            "state",
            "state_name",
            "census_date",
            "change_date",
            "data_source",
            "note",
            "attributes",
            "retired",
            "retired_at",
            "retired_reason",
            "distance_m",
            "card_url",
            "attribute_rows",
            "grid",
        ]

    @extend_schema_field(
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"key": {"type": "string"}, "label": {"type": "string"}, "value": {}},
            },
        }
    )
    def get_attribute_rows(self, obj) -> list:
        from .card import attribute_rows

        return attribute_rows(obj.component_class.code, obj.attributes)

    @extend_schema_field({"type": "object", "nullable": True})
    def get_grid(self, obj):
        from .card import grid_of

        return grid_of(obj.grid_code)

    def get_distance_m(self, obj) -> float | None:
        d = getattr(obj, "distance_m", None)
        return None if d is None else round(d, 2)

    def get_card_url(self, obj) -> str:
        return f"{settings.PUBLIC_BASE_URL}/c/{obj.code}"


class OwnershipSerializer(serializers.ModelSerializer):
    """Who is in charge of, owns and maintains a component: the maintenance units' first question."""

    class_code = serializers.CharField(source="component_class.code")
    class_name = serializers.CharField(source="component_class.name")
    state = serializers.CharField(source="state_id")
    state_name = serializers.CharField(source="state.name")
    department = OrganisationRefSerializer(allow_null=True)
    owner = OrganisationRefSerializer(allow_null=True)
    maintainer = OrganisationRefSerializer(allow_null=True)

    class Meta:
        model = Component
        fields = [
            "code",
            "class_code",
            "class_name",
            "name",
            "location_desc",
            "grid_code",
            "state",
            "state_name",
            "department",
            "owner",
            "maintainer",
            "retired",
        ]


@extend_schema_field({"type": "object", "description": "GeoJSON geometry: Point, LineString or Polygon (and Multi-)"})
class _GeoJSONGeometry(GeometryField):
    def to_internal_value(self, value):
        return flat_geos(super().to_internal_value(value))


class _OrgByUscc(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        super().__init__(
            slug_field="uscc", queryset=Organisation.objects.all(), allow_null=True, required=False, **kwargs
        )
        self.error_messages["does_not_exist"] = "no organisation with unified social credit code {value}"


class ComponentWriteSerializer(serializers.Serializer):
    """Input for create (all required fields) and update (partial). Geometry is GeoJSON in `crs`
    (default EPSG:4490; also 4326, 4513-4554, GCJ02, BD09)."""

    code = serializers.RegexField(r"^[0-9]{16,17}$", required=False, help_text="omit to allocate the next ID")
    class_code = serializers.SlugRelatedField(
        slug_field="code", queryset=ComponentClass.objects.all(), source="component_class"
    )
    geometry = _GeoJSONGeometry(source="geom")
    crs = serializers.CharField(required=False, default="EPSG:4490", write_only=True)
    name = FreeText(required=False, allow_blank=True, max_length=200)
    street_code = FreeText(required=False, allow_blank=True, max_length=9)
    community_code = FreeText(required=False, allow_blank=True, max_length=12)
    grid_code = FreeText(required=False, allow_blank=True, max_length=15)
    location_desc = FreeText(required=False, allow_blank=True, max_length=200)
    # On registration only: afterwards the organisations move by POST /api/components/transfer/,
    # which records the transfer; a PATCH naming them is refused.
    department = _OrgByUscc(help_text="USCC; on create only (later: /api/components/transfer/)")
    owner = _OrgByUscc(help_text="USCC; on create only (later: /api/components/transfer/)")
    maintainer = _OrgByUscc(help_text="USCC; on create only (later: /api/components/transfer/)")
    state = serializers.SlugRelatedField(slug_field="code", queryset=ComponentState.objects.all(), required=False)
    census_date = serializers.DateField(required=False, allow_null=True)
    change_date = serializers.DateField(required=False, allow_null=True)
    data_source = serializers.ChoiceField(choices=DataSource.choices, required=False)
    note = FreeText(multiline=True, required=False, allow_blank=True, max_length=NOTE_MAX_LENGTH)
    attributes = serializers.DictField(required=False)

    def validate_attributes(self, value):
        for key, item in value.items():
            reason = bad_character(key) or bad_character(item, multiline=True)
            if reason:
                raise serializers.ValidationError({key: reason})
        return value

    def validate(self, data):
        crs_text = data.pop("crs", "EPSG:4490")
        if "geom" in data:
            try:
                crs = parse_crs(crs_text)
            except CRSError as exc:
                raise serializers.ValidationError({"crs": str(exc)}) from None
            geom = data["geom"]
            if crs != 4490:
                from django.contrib.gis.geos import GEOSGeometry

                try:
                    shp = to_storage_shape(to_shapely(geom), crs)
                except CRSError as exc:
                    raise serializers.ValidationError({"geom": str(exc)}) from None
                geom = GEOSGeometry(memoryview(shp.wkb), srid=4490)
            geom.srid = 4490
            data["geom"] = geom
        return data


class StateChangeSerializer(serializers.Serializer):
    state = serializers.SlugRelatedField(slug_field="code", queryset=ComponentState.objects.filter(active=True))
    note = FreeText(multiline=True, required=False, allow_blank=True, default="", max_length=NOTE_MAX_LENGTH)


class RetireSerializer(serializers.Serializer):
    reason = FreeText(max_length=200)
    at = serializers.DateTimeField(required=False, allow_null=True)


class TransferSerializer(serializers.Serializer):
    codes = serializers.ListField(child=serializers.RegexField(r"^[0-9]{16,17}$"), min_length=1, max_length=10000)
    role = serializers.ChoiceField(choices=OwnershipTransfer.Role.choices)
    to = serializers.SlugRelatedField(slug_field="uscc", queryset=Organisation.objects.all(), help_text="USCC")
    effective_date = serializers.DateField(required=False)
    reason = FreeText(required=False, allow_blank=True, default="", max_length=200)


class TransferRecordSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="component.code")
    from_org = OrganisationRefSerializer(allow_null=True)
    to_org = OrganisationRefSerializer()

    class Meta:
        model = OwnershipTransfer
        fields = ["code", "role", "from_org", "to_org", "effective_date", "reason", "recorded_at"]


class ComponentClassSerializer(serializers.ModelSerializer):
    scheme = serializers.CharField(source="scheme.code")
    maps_to = serializers.SerializerMethodField()

    class Meta:
        model = ComponentClass
        fields = ["code", "scheme", "major_code", "major_name", "name", "attribute_schema", "active", "maps_to"]

    def get_maps_to(self, obj) -> list[str]:
        return [m.target.code for m in obj.mapped_to.all()]


class ComponentStateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ComponentState
        fields = ["code", "name", "order", "active"]
