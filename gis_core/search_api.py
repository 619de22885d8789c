"""GET /api/search/: one search box over every registered provider (gis_core.search), grouped."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from . import search
from .openapi import with_errors
from .text import bad_character, has_nul

_RESULT = {
    "type": "object",
    "required": ["id", "title", "subtitle", "lon", "lat", "bbox", "url"],
    "properties": {
        "id": {"type": "string", "description": "the code, USCC or name that identifies the result"},
        "title": {"type": "string"},
        "subtitle": {"type": "string"},
        "lon": {"type": "number", "nullable": True, "description": "a point on it, EPSG:4490"},
        "lat": {"type": "number", "nullable": True},
        "bbox": {
            "type": "array",
            "items": {"type": "number"},
            "minItems": 4,
            "maxItems": 4,
            "nullable": True,
            "description": "[w, s, e, n] in EPSG:4490, for results wider than a point",
        },
        "url": {"type": "string", "nullable": True, "description": "the result's own resource (API or page)"},
    },
}
SEARCH_RESPONSE = {
    "type": "object",
    "required": ["q", "groups"],
    "properties": {
        "q": {"type": "string"},
        "groups": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["kind", "label", "count", "results"],
                "properties": {
                    "kind": {"type": "string", "description": "component, class, grid, organisation, road ..."},
                    "label": {"type": "string", "description": "部件, 部件类别, 网格, 单位, 道路 ..."},
                    "count": {"type": "integer", "description": "every match this account may see (not capped)"},
                    "results": {"type": "array", "items": _RESULT, "description": "one page: `limit` from `offset`"},
                },
            },
        },
    },
}


def _bad(field: str, message: str):
    raise ValidationError({field: [message]})


def _int(params, name: str, default: int, low: int, high: int) -> int:
    text = params.get(name)
    if text in (None, ""):
        return default
    if not (text.isascii() and text.isdigit()) or len(text) > 6:
        _bad(name, f"must be a whole number from {low} to {high}")
    value = int(text)
    if not low <= value <= high:
        _bad(name, f"must be a whole number from {low} to {high}")
    return value


def parse_query(params) -> tuple[search.Query, set[str] | None]:
    raw = params.get("q", "")
    if has_nul(raw):
        _bad("q", "must not contain NUL characters")
    text = " ".join(raw.split())
    if not text:
        _bad("q", "请输入要搜索的内容 (q must not be empty)")
    if len(text) > search.MAX_QUERY_LENGTH:
        _bad("q", f"搜索内容过长 (at most {search.MAX_QUERY_LENGTH} characters)")
    reason = bad_character(text)
    if reason:
        _bad("q", reason)
    limit = _int(params, "limit", search.DEFAULT_LIMIT, 1, search.MAX_LIMIT)
    offset = _int(params, "offset", 0, 0, search.MAX_OFFSET)
    only = None
    kinds_text = params.get("kinds", "")
    if kinds_text:
        only = {k.strip() for k in kinds_text.split(",") if k.strip()}
        known = set(search.kinds())
        unknown = sorted(only - known)
        if unknown:
            _bad("kinds", f"unknown kind {unknown[0][:30]!r}; known: {', '.join(sorted(known))}")
    return search.Query(text=text, limit=limit, offset=offset), only


class Search(APIView):
    """搜索: components (ID, class, name, address, owner or maintainer), classes, grids, organisations
    and roads in one answer, grouped by kind, each group with its true count and a page of results."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        tags=["搜索"],
        parameters=[
            OpenApiParameter("q", str, required=True, description="text, ID or code (1-100 characters)"),
            OpenApiParameter("kinds", str, description="comma-separated kinds to search (default: all)"),
            OpenApiParameter("limit", int, description=f"results per group, default 20, at most {search.MAX_LIMIT}"),
            OpenApiParameter("offset", int, description="skip this many results in each group (next page)"),
        ],
        responses=with_errors({200: SEARCH_RESPONSE}),
    )
    def get(self, request):
        query, only = parse_query(request.query_params)
        response = Response({"q": query.text, "groups": search.search(request.user, query, only)})
        response["Cache-Control"] = "private, no-cache"
        return response
