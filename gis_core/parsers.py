"""Request body parsers for the REST API."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH = 64


def json_depth(value) -> int:
    """Nesting depth of parsed JSON, counted without recursion (the input may be hostile)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


class DepthLimitedJSONParser(JSONParser):
    """JSON whose nesting stays within MAX_JSON_DEPTH levels (GeoJSON needs at most 5).
    Deeper bodies made Python's recursive decoder raise RecursionError, a 500."""

    def parse(self, stream, media_type=None, parser_context=None):
        message = f"JSON nested deeper than {MAX_JSON_DEPTH} levels is not accepted"
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(message) from None
        if json_depth(data) > MAX_JSON_DEPTH:
            raise ParseError(message)
        return data
