"""OpenAPI response shapes the views' annotations share, so the schema says what the API answers:
lists as paged GeoJSON FeatureCollections, errors as JSON with a message and the field."""

from functools import lru_cache

from drf_spectacular.utils import OpenApiResponse, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["message", "field"],
    "properties": {
        "message": {"type": "string", "description": "what is wrong, starting with the field when there is one"},
        "field": {"type": "string", "nullable": True, "description": "the parameter or body field at fault"},
        "errors": {
            "type": "array",
            "items": {"type": "object", "properties": {"field": {"type": "string"}, "message": {"type": "string"}}},
        },
    },
}


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=_ERROR_SCHEMA, description=description)


BAD_REQUEST = error("a parameter or field is wrong: `field` names it")
NOT_FOUND = error("no such object, or not visible to this account")
FORBIDDEN = error("this account's role may not do this")


@lru_cache(maxsize=None)
def feature_page(feature: str) -> type:
    """A page of a list as a GeoJSON FeatureCollection of `feature` (a component schema name).
    A serializer marked many=False: drf-spectacular would otherwise wrap it in its own pagination
    schema, which for GeoJSON lists nests a FeatureCollection in `features` and requires `results`."""

    @extend_schema_field({"type": "string", "enum": ["FeatureCollection"]})
    class CollectionType(serializers.CharField):
        pass

    @extend_schema_field({"type": "array", "items": {"$ref": f"#/components/schemas/{feature}"}})
    class Features(serializers.ListField):
        pass

    fields = {
        "type": CollectionType(),
        "count": serializers.IntegerField(help_text="matches on every page"),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "features": Features(),
    }
    return extend_schema_serializer(many=False)(type(f"{feature}FeaturePage", (serializers.Serializer,), fields))


def with_errors(ok: dict, *, bad_request: bool = True, not_found: bool = False, forbidden: bool = False) -> dict:
    """`ok` (status -> response) plus the documented error answers."""
    responses = dict(ok)
    if bad_request:
        responses[400] = BAD_REQUEST
    if forbidden:
        responses[403] = FORBIDDEN
    if not_found:
        responses[404] = NOT_FOUND
    return responses
