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


# The API documentation is read by Chinese-speaking integrators: each group of operations (a tag,
# by default the first path segment) gets its Chinese name; a tag not listed keeps its own.
TAG_NAMES = {
    "components": "部件",
    "organisations": "单位",
    "classes": "部件类别",
    "states": "部件状态",
    "imports": "批量导入",
    "exports": "导出",
    "grids": "网格",
    "incidents": "事件",
    "patrols": "巡查",
    "cameras": "视频监控",
    "search": "搜索",
    "units": "本单位",
    "layers": "图层",
}
TAG_DESCRIPTIONS = {
    "部件": "城市部件登记：查询、登记、修改、状态、权属移交、注销、照片、变更记录",
    "单位": "主管部门、权属单位、养护单位",
    "部件类别": "部件分类（GB/T 30428、GB/T 47678）",
    "部件状态": "完好、破损、丢失、废弃、移除等状态",
    "批量导入": "CSV / GeoPackage 批量导入",
    "导出": "部件导出",
    "网格": "多级网格：查询、编辑、定位、覆盖缺口、概况",
    "事件": "事件案件：上报、立案派遣、处理、核查结案",
    "巡查": "网格员巡查轨迹与位置",
    "视频监控": "摄像机与视域",
    "搜索": "一个搜索框：部件、类别、网格、单位、道路",
}


def chinese_tags(result, generator, request, public):
    """drf-spectacular postprocessing hook: tags renamed to Chinese, with descriptions."""
    used = []
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "tags" in operation:
                operation["tags"] = [TAG_NAMES.get(t, t) for t in operation["tags"]]
                used.extend(t for t in operation["tags"] if t not in used)
    result["tags"] = [
        {"name": t, **({"description": TAG_DESCRIPTIONS[t]} if t in TAG_DESCRIPTIONS else {})} for t in used
    ]
    return result
